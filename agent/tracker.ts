/**
 * The bookkeeping every sampling searcher shares: counting simulator
 * evaluations, the stop rule (`maxEvaluations`, `timeLimitS`), the best
 * placement so far ranked by `beats`, the trace of improvements and the
 * throttled `onProgress` calls. Searchers keep their own loop; this keeps the
 * rules identical between them, so benchmark numbers compare like with like.
 *
 * One evaluation = one `Simulator.score()` call, including the calls that
 * provisioning makes. Wall-clock time is read only when `timeLimitS` is given,
 * so without it a search is a pure function of (problem, settings, seed).
 */
import { performance } from 'node:perf_hooks';
import { canRun, type Placement } from '../env/problem.js';
import type { Simulator } from '../env/simulate.js';
import type { SearchOptions, SearchResult, TracePoint } from './searcher.js';

/** How many progress reports a search makes at most (besides the final one). */
const PROGRESS_REPORTS = 100;

export class SearchTracker {
  evaluations = 0;
  readonly maxEvaluations: number;
  best: Placement | null = null;
  bestFeasible = false;
  bestViolation = Infinity;
  bestObjective = NaN;
  readonly trace: TracePoint[] = [];

  private readonly started = performance.now();
  private readonly limitMs: number;
  private readonly progressEvery: number;
  private nextProgress: number;

  /**
   * `defaultMaxEvaluations` applies only when neither `maxEvaluations` nor
   * `timeLimitS` is given; with a time limit alone the count is unbounded.
   */
  constructor(
    readonly method: string,
    private readonly options: SearchOptions,
    defaultMaxEvaluations: number,
  ) {
    const timed = options.timeLimitS !== undefined;
    this.maxEvaluations = options.maxEvaluations ?? (timed ? Infinity : defaultMaxEvaluations);
    this.limitMs = timed ? options.timeLimitS! * 1000 : Infinity;
    this.progressEvery = Number.isFinite(this.maxEvaluations)
      ? Math.max(1, Math.floor(this.maxEvaluations / PROGRESS_REPORTS))
      : 1000;
    this.nextProgress = this.progressEvery;
  }

  /** Evaluations left before `maxEvaluations` (Infinity when unbounded; at least 1, see `exhausted`). */
  get remaining(): number {
    return Math.max(1, this.maxEvaluations - this.evaluations);
  }

  seconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  /**
   * True when the evaluation budget or the time limit is spent. Never before
   * the first offer: a search always returns some scored placement.
   */
  exhausted(): boolean {
    if (this.best === null) return false;
    if (this.evaluations >= this.maxEvaluations) return true;
    return this.limitMs !== Infinity && performance.now() - this.started >= this.limitMs;
  }

  /**
   * True when the main phase of a search should end to leave `reserve`
   * evaluations (and the last 5 % of the time limit) for a final phase,
   * such as provisioning the best states found.
   */
  wrapUp(reserve: number): boolean {
    if (this.best === null) return false;
    if (this.evaluations + reserve >= this.maxEvaluations) return true;
    return this.limitMs !== Infinity && performance.now() - this.started >= 0.95 * this.limitMs;
  }

  /** 0..1: how far along the budget the search is (by evaluations, else by time). */
  fraction(): number {
    if (Number.isFinite(this.maxEvaluations)) {
      const byCount = this.evaluations / this.maxEvaluations;
      if (this.limitMs === Infinity) return Math.min(1, byCount);
      return Math.min(1, Math.max(byCount, (performance.now() - this.started) / this.limitMs));
    }
    return Math.min(1, (performance.now() - this.started) / this.limitMs);
  }

  /** Counts `n` evaluations and reports progress when a reporting point is crossed. */
  count(n: number, metrics?: Record<string, number>): void {
    this.evaluations += n;
    if (this.evaluations >= this.nextProgress) {
      this.nextProgress = this.evaluations + this.progressEvery;
      this.report(metrics);
    }
  }

  report(metrics?: Record<string, number>): void {
    this.options.onProgress?.({
      evaluations: this.evaluations,
      seconds: this.seconds(),
      bestObjective: this.bestFeasible ? this.bestObjective : Infinity,
      fraction: this.fraction(),
      ...(metrics ? { metrics } : {}),
    });
  }

  /** Whether the placement last scored by `sim` would beat the best so far. */
  wouldImprove(sim: Simulator): boolean {
    if (this.best === null) return true;
    return beats(sim.feasible, sim.violation, sim.objectiveValue, this.bestFeasible, this.bestViolation, this.bestObjective);
  }

  /**
   * Offers the placement last scored by `sim` (its stage arrays and results
   * must still be those of that score). Copies it only when it improves, so
   * offering every candidate costs no allocation.
   */
  offer(sim: Simulator): boolean {
    if (!this.wouldImprove(sim)) return false;
    this.best = readPlacement(sim);
    this.bestFeasible = sim.feasible;
    this.bestViolation = sim.violation;
    this.bestObjective = sim.objectiveValue;
    if (this.bestFeasible) {
      this.trace.push({ evaluations: this.evaluations, seconds: this.seconds(), bestObjective: this.bestObjective });
    }
    return true;
  }

  result(): SearchResult {
    if (this.best === null) throw new Error(`${this.method}: the search ended before scoring any placement`);
    this.report();
    return {
      method: this.method,
      placement: this.best,
      objective: this.bestObjective,
      feasible: this.bestFeasible,
      evaluations: this.evaluations,
      seconds: this.seconds(),
      trace: this.trace,
    };
  }
}

/**
 * The ranking of placements, on unpacked numbers (no object per comparison): feasible first,
 * then less violation, then a lower objective. Strict, so the first of equals wins.
 */
export function beats(
  feasible: boolean,
  violation: number,
  objective: number,
  otherFeasible: boolean,
  otherViolation: number,
  otherObjective: number,
): boolean {
  if (feasible !== otherFeasible) return feasible;
  if (!feasible) return violation < otherViolation;
  return objective < otherObjective;
}

/** The placement held in the simulator's stage arrays, as a fresh `Placement`. */
export function readPlacement(sim: Simulator): Placement {
  const placement: Placement = [];
  for (let s = 0; s < sim.stageCount; s++) {
    placement.push({
      type: sim.stageType[s],
      replicas: sim.stageReplicas[s],
      first: sim.stageFirst[s],
      last: sim.stageLast[s],
    });
  }
  return placement;
}

/** Per layer, the types that can run it (from the profile), in type order. */
export function runnableTypes(sim: Simulator): Int32Array[] {
  const { problem, layerCount, typeCount } = sim;
  const lists: Int32Array[] = [];
  for (let l = 0; l < layerCount; l++) {
    const types: number[] = [];
    for (let k = 0; k < typeCount; k++) if (canRun(problem, l, k)) types.push(k);
    lists.push(Int32Array.from(types));
  }
  return lists;
}

/**
 * Starting points every local searcher may use: each type alone on all the
 * layers it can run (types that cannot run some layer are skipped), and each
 * layer on its own fastest type. Returned in that order; the caller scores them.
 */
export function heuristicStarts(sim: Simulator, runnable: Int32Array[]): Int32Array[] {
  const { problem, layerCount, typeCount } = sim;
  const starts: Int32Array[] = [];
  for (let k = 0; k < typeCount; k++) {
    if (runnable.every((types) => types.includes(k))) starts.push(new Int32Array(layerCount).fill(k));
  }
  const fastest = new Int32Array(layerCount);
  for (let l = 0; l < layerCount; l++) {
    let best = runnable[l].length > 0 ? runnable[l][0] : 0;
    let bestMs = Infinity;
    for (const k of runnable[l]) {
      const ms = problem.forwardMs[l * typeCount + k] + problem.backwardMs[l * typeCount + k];
      if (ms < bestMs) [best, bestMs] = [k, ms];
    }
    fastest[l] = best;
  }
  starts.push(fastest);
  return starts;
}
