/**
 * A certificate for any placement, whatever found it: a lower bound on the
 * best objective this problem allows under these settings, and the gap
 * between the placement's objective and that bound.
 *
 * The bound comes from the exact searcher's machinery run for a short time
 * with the placement's objective as its incumbent: either the search covers
 * every placement (then the bound is the optimum, or infeasibility is
 * proven), or it is cut and the bound is the least bound of the labels still
 * open; with neither, the relaxation's bound on the empty placement. Each is
 * sound: never above the true optimum (agent/certify.test.ts checks it
 * against brute force). The load bound (agent/load-bound.ts) and, for the
 * time objective, the budget DP bound (agent/bounds/budget-dp.ts: what
 * certifies long chains) are tried too and the largest bound kept; the budget
 * DP takes the first 60% of the bound time (a coarse run whose tables also bound the exact
 * search's labels), the exact search up to 80%; if that is cut, the DP with the all-reduce capped
 * apart takes the rest.
 */
import type { Placement, Problem, Settings } from '../env/problem.js';
import { Simulator } from '../env/simulate.js';
import { solveExactAsync } from './exact.js';
import { loadBound } from './load-bound.js';
import { budgetDpBoundSteps, budgetDpScheduleSteps } from './bounds/budget-dp.js';

/** Numbers of the budget DP's tables kept for the exact search's labels (8 bytes each). */
const KEEP_TABLES = 2e7;
/**
 * Objective time: the coarse budget DP (money in CERTIFY_BUCKETS buckets) until DP_SHARE of the bound
 * time, the exact search until EXACT_SHARE, the DP with the all-reduce apart for the rest. The DP
 * gets most: on a 300-layer, 8-type chain at 2 s (0.7 CPU s) its bound reached 0.89 of the optimum
 * with 60% against 0.48 with a third.
 */
const CERTIFY_BUCKETS = 100;
const DP_SHARE = 0.6;
const EXACT_SHARE = 0.8;
import { runAsync } from './exact/steps.js';

export interface CertifyOptions {
  /** Seconds the bound search may take (default DEFAULT_BOUND_TIME_S). */
  timeLimitS?: number;
  signal?: AbortSignal;
  /** A bound already proved (the exact searcher's own); the larger of it and ours is kept. */
  knownLowerBound?: number;
}

export interface Certificate {
  /** ≤ the optimum (of any feasible placement, whether or not this one is); null only when no placement is feasible (provenInfeasible) or nothing is known. */
  lowerBound: number | null;
  /** (objective − lowerBound) / objective, in [0, 1]; 0 when the objective is 0; null when infeasible. */
  gap: number | null;
  /** True exactly when the gap is 0. */
  provenOptimal: boolean;
  /** True when no feasible placement exists (the bound search covered them all). */
  provenInfeasible: boolean;
  /** For an infeasible placement: the objective of a feasible one the bound search found, if it found one. */
  feasibleFound?: number;
  /** How the bound was obtained, in words. */
  boundBy: string;
  /** Seconds the bound search took. */
  boundSeconds: number;
}

/** Default seconds of the bound search when the caller gives no --bound-time. */
export const DEFAULT_BOUND_TIME_S = 2;

/**
 * The stated share of a search's time for its certificate: 10% of the search's
 * time limit, between 1 and 5 s; DEFAULT_BOUND_TIME_S when there is no limit.
 */
export function defaultBoundTime(searchTimeLimitS?: number): number {
  if (searchTimeLimitS === undefined) return DEFAULT_BOUND_TIME_S;
  return Math.min(5, Math.max(1, searchTimeLimitS / 10));
}

export async function certify(problem: Problem, settings: Settings, placement: Placement, options: CertifyOptions = {}): Promise<Certificate> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  const sim = new Simulator(problem, settings);
  const objective = sim.scorePlacement(placement); // layer order: the number placement.json reports
  const feasible = sim.feasible;
  const known = options.knownLowerBound ?? -Infinity;
  if (feasible && known >= objective) {
    return { lowerBound: objective, gap: 0, provenOptimal: true, provenInfeasible: false, boundBy: 'the exact search', boundSeconds: seconds() };
  }
  const timeLimitS = options.timeLimitS ?? DEFAULT_BOUND_TIME_S;
  const upperBound = feasible ? objective : Infinity;
  // Objective time: a coarse budget DP run (its bound, and its tables to bound the exact search's labels).
  let dp = settings.objective === 'time'
    ? await runAsync(budgetDpBoundSteps(problem, settings, {
      buckets: CERTIFY_BUCKETS, keepTables: KEEP_TABLES, deadlineAt: started + timeLimitS * 1000 * DP_SHARE, signal: options.signal, upperBound,
    }))
    : null;
  // Its tables replace the search's relaxation only when the bound's relaxed placement keeps the
  // counts (see exactSearcher: with no budget, or a loose one, they are weak and cost a lookup per cap).
  const leads = dp?.tables !== undefined && dp.countsHold === true;
  const exact = await solveExactAsync(problem, settings, {
    upperBound,
    timeLimitS: Math.max(0, (dp ? timeLimitS * EXACT_SHARE : timeLimitS) - seconds()),
    signal: options.signal,
    // When the search cannot finish, the relaxation's bound is often the best there is: let it have most of the time.
    relaxationShare: leads ? 0 : 0.75,
    relaxation: leads ? false : undefined,
    completion: leads ? dp?.tables : undefined,
  });
  if (dp !== null && !exact.complete && seconds() < timeLimitS && !options.signal?.aborted) {
    // Cut (long chains): the rest to the DP with the all-reduce capped apart (tighter per program).
    const apart = await runAsync(budgetDpScheduleSteps(problem, settings, {
      runs: [100, 400], separateAllReduce: true, deadlineAt: started + timeLimitS * 1000, signal: options.signal, upperBound,
    }));
    if (apart.bound > dp.bound || (apart.placement && apart.placementStep < dp.placementStep)) {
      dp = { ...dp, bound: Math.max(dp.bound, apart.bound), ...(apart.placementStep < dp.placementStep ? { placement: apart.placement, placementStep: apart.placementStep } : {}) };
    }
  }
  const covered = exact.lowerBound !== undefined;
  let bound = covered ? exact.lowerBound! : exact.rootBound;
  let boundBy = exact.complete
    ? 'the exact search, run to its end'
    : covered
      ? 'the exact search, cut by its time limit: the least bound of its open labels'
      : "the exact search's relaxation";
  if (!covered || !exact.complete) {
    if (exact.rootBound > bound) [bound, boundBy] = [exact.rootBound, "the exact search's relaxation"];
    const load = loadBound(problem, settings, { deadlineAt: performance.now() + 200 });
    if (load > bound) [bound, boundBy] = [load, 'the load bound (agent/load-bound.ts)'];
    if (dp !== null && dp.bound > bound) [bound, boundBy] = [dp.bound, 'the budget DP bound (agent/bounds/budget-dp.ts)'];
  }
  if (known > bound) [bound, boundBy] = [known, 'the exact search'];
  if (!feasible) {
    // The budget DP's Infinity: no placement fits memory, per-stage counts and the budget at all.
    const provenInfeasible = (exact.complete && exact.placement === null) || dp?.bound === Infinity;
    const feasibleFound = exact.placement !== null ? exact.value : dp?.placement ? dp.placementStep : undefined;
    // The bound speaks of the optimum, not of this placement: still worth reporting (a user learns how good a feasible plan could be).
    const lowerBound = provenInfeasible || !Number.isFinite(bound) ? null : Math.max(0, bound);
    return { lowerBound, gap: null, provenOptimal: false, provenInfeasible, feasibleFound, boundBy, boundSeconds: seconds() };
  }
  // A bound cannot exceed a feasible objective; the relaxation's safety margin keeps it below, min() makes sure.
  const lowerBound = Math.max(0, Math.min(bound, objective));
  const gap = objective > 0 ? (objective - lowerBound) / objective : 0;
  return { lowerBound, gap, provenOptimal: gap === 0, provenInfeasible: false, boundBy, boundSeconds: seconds() };
}
