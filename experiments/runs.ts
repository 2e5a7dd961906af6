/**
 * A sweep expands into runs: one (problem, settings, method, seed) each, with
 * an id that names its result file. Expansion is deterministic, so every
 * machine of a sharded sweep sees the same list and takes its own slice.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { temporaryName, writeFileAtomic } from '../env/atomic-write.js';
import { join } from 'node:path';
import { bundledProblem } from '../env/bundled.js';
import { loadProblem } from '../env/load.js';
import type { Problem, Settings } from '../env/problem.js';
import { smallestFeasibleConstraint } from '../agent/exact.js';
import { syntheticProblem } from '../profiles/synthetic.js';
import type { SweepConfig } from './config.js';

/** Methods that use no randomness: one run each, whatever the seeds. */
export const DETERMINISTIC_METHODS = new Set(['exact', 'greedy']);

export type ProblemRef =
  | { kind: 'bundled'; name: string }
  | { kind: 'synthetic'; layers: number; types: number; seed: number };

export interface RunSpec {
  /** Unique within a sweep; also the result file's path under runs/<sweep>/ (slashes make folders). */
  id: string;
  sweep: SweepConfig['sweep'];
  problem: ProblemRef;
  problemLabel: string;
  microBatches: number;
  /** Dollars per hour; null = unconstrained. */
  budget: number | null;
  /** What this budget is in the sweep: "grid 3/8", "bundled", "unconstrained". */
  budgetLabel: string;
  method: string;
  seed: number;
  maxEvaluations: number;
  exactTimeLimitS: number;
  runTimeLimitS: number;
  /** Digest of the problem's numbers: a run file made on other data is stale and is run again. */
  problemDigest: string;
}

export function problemLabel(ref: ProblemRef): string {
  return ref.kind === 'bundled' ? ref.name : `chain-${ref.layers}x${ref.types}`;
}

export function loadProblemRef(ref: ProblemRef): { problem: Problem; defaultBudget?: number; defaultMicroBatches?: number } {
  if (ref.kind === 'synthetic') return { problem: syntheticProblem({ layers: ref.layers, types: ref.types, seed: ref.seed }) };
  const { files, defaults } = bundledProblem(ref.name);
  return { problem: loadProblem(files), defaultBudget: defaults.budget, defaultMicroBatches: defaults.microBatches };
}

export function settingsOf(run: Pick<RunSpec, 'microBatches' | 'budget'>): Settings {
  return { microBatches: run.microBatches, objective: 'time', budget: run.budget ?? Infinity, deadline: Infinity };
}

/** sha256 (16 hex) of everything the simulator reads from a problem. */
export function problemDigest(problem: Problem): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ layers: problem.layers, types: problem.types }));
  hash.update(new Uint8Array(problem.forwardMs.buffer, problem.forwardMs.byteOffset, problem.forwardMs.byteLength));
  hash.update(new Uint8Array(problem.backwardMs.buffer, problem.backwardMs.byteOffset, problem.backwardMs.byteLength));
  return hash.digest('hex').slice(0, 16);
}

/** Dollars per hour of every unit of every type: any budget from here on constrains nothing. */
export function allUnitsPrice(problem: Problem): number {
  return problem.types.reduce((sum, type) => sum + type.count * type.pricePerHour, 0);
}

/** The budget range of a problem: the cheapest feasible placement's price and the price of all units. */
export function budgetRange(problem: Problem, microBatches: number): { cheapest: number; allUnits: number } | null {
  const cheapest = smallestFeasibleConstraint(problem, settingsOf({ microBatches, budget: null }));
  return cheapest === null ? null : { cheapest, allUnits: allUnitsPrice(problem) };
}

/** n budgets from `lo` to `hi`, geometric (dense where budgets bite); the ends exact. */
export function geometricBudgets(lo: number, hi: number, n: number): number[] {
  if (hi <= lo) return [lo];
  return Array.from({ length: n }, (_, i) => (i === 0 ? lo : i === n - 1 ? hi : lo * (hi / lo) ** (i / (n - 1))));
}

const pad = (i: number) => String(i).padStart(2, '0');

function methodRuns(config: SweepConfig, base: Omit<RunSpec, 'id' | 'method' | 'seed'>, idPrefix: string): RunSpec[] {
  const runs: RunSpec[] = [];
  for (const method of config.methods) {
    const seeds = DETERMINISTIC_METHODS.has(method) ? [config.seeds[0]] : config.seeds;
    for (const seed of seeds) runs.push({ ...base, id: `${idPrefix}/${method}-s${seed}`, method, seed });
  }
  return runs;
}

/** Every run of a sweep, in a fixed order. Loads problems (budgets depend on them). */
export function expandRuns(config: SweepConfig): RunSpec[] {
  const common = {
    sweep: config.sweep,
    maxEvaluations: config.maxEvaluations,
    exactTimeLimitS: config.exactTimeLimitS,
    runTimeLimitS: config.runTimeLimitS,
  };
  const runs: RunSpec[] = [];
  if (config.sweep === 'budget' || config.sweep === 'seeds') {
    for (const name of config.problems) {
      const ref: ProblemRef = { kind: 'bundled', name };
      const { problem, defaultBudget, defaultMicroBatches } = loadProblemRef(ref);
      const microBatches = defaultMicroBatches ?? config.microBatches;
      const base = { ...common, problem: ref, problemLabel: name, microBatches, problemDigest: problemDigest(problem) };
      if (config.sweep === 'seeds') {
        const budget = defaultBudget ?? null;
        runs.push(...methodRuns(config, { ...base, budget, budgetLabel: 'bundled' }, `${name}`));
        continue;
      }
      const range = budgetRange(problem, microBatches);
      if (!range) continue; // nothing fits memory and counts: no budget helps (said in the report's problem list)
      const grid = geometricBudgets(range.cheapest, range.allUnits, config.budgetPoints);
      const points: Array<[number | null, string]> = grid.map((b, i) => [b, i === 0 ? 'cheapest feasible' : `grid ${i + 1}/${grid.length}`]);
      if (defaultBudget !== undefined && !grid.includes(defaultBudget)) points.push([defaultBudget, 'bundled']);
      points.sort((a, b) => a[0]! - b[0]!);
      points.push([null, 'unconstrained']);
      points.forEach(([budget, budgetLabel], i) => {
        runs.push(...methodRuns(config, { ...base, budget, budgetLabel }, `${name}/b${pad(i)}`));
      });
    }
  } else {
    for (const layers of config.layers) {
      for (const types of config.types) {
        const ref: ProblemRef = { kind: 'synthetic', layers, types, seed: config.problemSeed };
        const { problem } = loadProblemRef(ref);
        const range = budgetRange(problem, config.microBatches);
        const budget = range ? range.cheapest * (range.allUnits / range.cheapest) ** config.budgetPosition : null;
        const label = problemLabel(ref);
        const base = {
          ...common, problem: ref, problemLabel: label, microBatches: config.microBatches, budget,
          budgetLabel: `position ${config.budgetPosition}`, problemDigest: problemDigest(problem),
        };
        runs.push(...methodRuns(config, base, label));
      }
    }
  }
  return runs;
}

/** Parses `i/N` (1-based shard i of N). */
export function parseShard(text: string): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard: expected i/N with 1 ≤ i ≤ N (e.g. 2/4), got "${text}"`);
  }
  return { index, count };
}

/** Shard i of N: every N-th run from the (i-1)-th, so each shard gets a mix of cheap and costly runs. */
export function shardRuns<T>(runs: T[], shard: { index: number; count: number }): T[] {
  return runs.filter((_, i) => i % shard.count === shard.index - 1);
}

export function resultPath(runsDir: string, run: Pick<RunSpec, 'sweep' | 'id'>): string {
  return join(runsDir, run.sweep, `${run.id}.json`);
}

const SPEC_KEYS: Array<keyof RunSpec> = [
  'id', 'sweep', 'problem', 'problemLabel', 'microBatches', 'budget', 'budgetLabel', 'method', 'seed', 'maxEvaluations', 'exactTimeLimitS', 'runTimeLimitS', 'problemDigest',
];

/** True when a stored result was made for exactly this run (same problem data, settings, method, seed, limits). */
export function sameRun(stored: Partial<RunSpec>, run: RunSpec): boolean {
  return SPEC_KEYS.every((key) => JSON.stringify(stored[key]) === JSON.stringify(run[key]));
}

/**
 * Runs still to do: no result file yet, or one made for another spec (a
 * changed config or problem), which is run again and overwritten.
 */
export function pendingRuns(runs: RunSpec[], runsDir: string): RunSpec[] {
  return runs.filter((run) => {
    const file = resultPath(runsDir, run);
    if (!existsSync(file)) return true;
    try {
      return !sameRun(JSON.parse(readFileSync(file, 'utf8')) as Partial<RunSpec>, run);
    } catch {
      return true; // unreadable (cannot happen with atomic writes, but a hand edit can): redo
    }
  });
}

/** Whether `file` holds a result of this very run (any other content, or none, is stale). */
function holdsResultOf(file: string, run: RunSpec): boolean {
  try {
    return sameRun(JSON.parse(readFileSync(file, 'utf8')) as Partial<RunSpec>, run);
  } catch {
    return false;
  }
}

/**
 * Writes the record of a run stopped at its time limit, unless its worker
 * wrote a result first: the worker may finish just as the clock runs out.
 * Never destroys a result: the new file is linked in (link fails where a file
 * already is), and a stale file is moved aside first, then put back if it
 * turned out to be the worker's result after all. Returns whether the
 * timed-out record was written.
 */
export function writeTimedOutRecord(runsDir: string, run: RunSpec, record: unknown): boolean {
  const file = resultPath(runsDir, run);
  if (holdsResultOf(file, run)) return false;
  const temporary = temporaryName(file);
  writeFileAtomic(temporary, `${JSON.stringify(record, null, 2)}\n`);
  const aside = temporaryName(`${file}.stale`);
  try {
    if (existsSync(file)) {
      renameSync(file, aside);
      if (holdsResultOf(aside, run)) {
        // The worker's result landed between the check and the move: put it back (unless a newer one is there).
        try {
          linkSync(aside, file);
        } catch {
          // a newer result is in place
        }
        return false;
      }
    }
    try {
      linkSync(temporary, file);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false; // the worker's result arrived first
      throw error;
    }
  } finally {
    rmSync(temporary, { force: true });
    rmSync(aside, { force: true });
  }
}
