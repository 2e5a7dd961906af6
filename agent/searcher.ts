/**
 * The one interface every searcher shares (exact, genetic, anneal, greedy,
 * random, reinforce): a problem and settings in, a placement and a trace out.
 */
import type { Placement, Problem, Settings } from '../env/problem.js';

export interface SearchOptions {
  /** Every random choice derives from this; never 0 (tfjs treats seed 0 as "no seed"). */
  seed: number;
  /** Stop after this many simulator evaluations (searchers that sample). */
  maxEvaluations?: number;
  /** Stop after this many seconds and return the best so far. */
  timeLimitS?: number;
  /**
   * Stop soon (within a second or so, in any phase) when aborted, e.g. by
   * Ctrl-C: the searcher returns the best found so far, as with a time limit.
   * Long synchronous work must poll `signal.aborted` and yield to the event
   * loop now and then, or the signal's handler never runs.
   */
  signal?: AbortSignal;
  /** Called now and then with the state of the search, for progress bars. */
  onProgress?: (progress: SearchProgress) => void;
}

export interface SearchProgress {
  evaluations: number;
  seconds: number;
  /** Objective of the best feasible placement so far (Infinity when none yet). */
  bestObjective: number;
  /** 0..1 when the searcher knows how far along it is. */
  fraction?: number;
  /** Free-form counters by family, e.g. `losses/entropy`. */
  metrics?: Record<string, number>;
}

export interface TracePoint {
  evaluations: number;
  seconds: number;
  bestObjective: number;
}

export interface SearchResult {
  method: string;
  /** The best placement found (the least violating one when none is feasible). */
  placement: Placement;
  /** Objective of `placement` under the settings (step ms, or dollars per step). */
  objective: number;
  feasible: boolean;
  evaluations: number;
  seconds: number;
  /** Improvements of the best objective over the search. */
  trace: TracePoint[];
  /** True when the searcher proved `placement` optimal (exact only). */
  provenOptimal?: boolean;
  /** A lower bound on the optimum the searcher proved on its own (exact), if any; see agent/certify.ts for every method's. */
  lowerBound?: number;
}

export interface Searcher {
  readonly name: string;
  search(problem: Problem, settings: Settings, options: SearchOptions): Promise<SearchResult>;
}
