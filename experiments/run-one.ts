/**
 * One run: load the problem, search, score the placement with the simulator,
 * write the result file atomically (a crash leaves no half file, so a rerun
 * redoes exactly the runs without one).
 */
import { getPriority, loadavg } from 'node:os';
import { writeJsonAtomic } from '../env/atomic-write.js';
import type { Problem } from '../env/problem.js';
import { Simulator } from '../env/simulate.js';
import { searcherByName } from '../agent/searchers.js';
import { selectBackend } from '../agent/backend.js';
import { loadProblemRef, resultPath, settingsOf, type RunSpec } from './runs.js';

export interface RunResult extends RunSpec {
  /** The run passed `runTimeLimitS` and was stopped: no placement (feasible false, stepMs NaN → null in JSON). */
  timedOut?: boolean;
  feasible: boolean;
  /** Step ms of the placement found (the objective of every sweep here: fastest step within the budget). */
  stepMs: number;
  pricePerHour: number;
  costPerStep: number;
  provenOptimal: boolean;
  evaluations: number;
  /** Wall-clock seconds of the search, measured around it here (same clock for every method). */
  seconds: number;
  stages: Array<{ type: string; replicas: number; first: number; last: number }>;
  layers: number;
  types: number;
  /** Under what the timing was taken: the process's nice value and the 1-minute load average at the end. */
  machine: { nice: number; load1: number; node: string; workers: number; backend?: string };
}

/** The record of a run stopped at its hard time limit (written by the runner, which stopped it). */
export function timedOutResult(run: RunSpec, seconds: number, workers: number): RunResult {
  const problem = problemOf(run);
  return {
    ...run, timedOut: true, feasible: false, stepMs: NaN, pricePerHour: NaN, costPerStep: NaN, provenOptimal: false,
    evaluations: 0, seconds, stages: [], layers: problem.layers.length, types: problem.types.length,
    machine: { nice: getPriority(), load1: loadavg()[0], node: process.version, workers },
  };
}

const problems = new Map<string, Problem>();

/**
 * The agent's tfjs backend, chosen once per worker thread as `placer train`
 * chooses it (native, else wasm, else cpu). Without this a worker ran the
 * policy on tfjs's default `cpu` backend: reinforce-dp at 1,000 layers took
 * 70 s in the scaling sweep against 12 s in the agent bench.
 */
let backend: Promise<string> | null = null;

function problemOf(run: RunSpec): Problem {
  const key = JSON.stringify(run.problem);
  let problem = problems.get(key);
  if (!problem) {
    problem = loadProblemRef(run.problem).problem;
    problems.set(key, problem);
  }
  return problem;
}

/** `workers`: how many runs the pool ran at once (recorded: it bears on the timings). */
export async function runOne(run: RunSpec, runsDir: string, workers = 1): Promise<RunResult> {
  const problem = problemOf(run);
  const settings = settingsOf(run);
  const searcher = searcherByName(run.method);
  backend ??= selectBackend('auto');
  const backendName = await backend;
  const exact = run.method === 'exact';
  const started = performance.now();
  const found = await searcher.search(problem, settings, {
    seed: run.seed,
    // Sampling methods get the same number of simulator evaluations; exact gets a wall-clock limit.
    maxEvaluations: exact ? undefined : run.maxEvaluations,
    timeLimitS: exact ? run.exactTimeLimitS : undefined,
  });
  const seconds = (performance.now() - started) / 1000;
  const sim = new Simulator(problem, settings);
  sim.scorePlacement(found.placement);
  const result: RunResult = {
    ...run,
    feasible: sim.feasible,
    stepMs: sim.stepMs,
    pricePerHour: sim.pricePerHour,
    costPerStep: sim.costPerStep,
    provenOptimal: found.provenOptimal === true,
    evaluations: found.evaluations,
    seconds,
    stages: found.placement.map((s) => ({ type: problem.types[s.type].name, replicas: s.replicas, first: s.first, last: s.last })),
    layers: problem.layers.length,
    types: problem.types.length,
    machine: { nice: getPriority(), load1: loadavg()[0], node: process.version, workers, backend: backendName },
  };
  writeJsonAtomic(resultPath(runsDir, run), result);
  return result;
}
