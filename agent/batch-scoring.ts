/**
 * What a searcher needs to score its candidates through `Simulator.scoreBatch`
 * (one call for many assignments) and still count and offer them one by one,
 * in order, exactly as it would have with one `scoreAssignment` per candidate:
 * the same evaluations counted, the same progress reports, the same best
 * placement kept (scoreBatch's numbers are scoreAssignment's, bit for bit).
 */
import type { Simulator } from '../env/simulate.js';
import { beats, type SearchTracker } from './tracker.js';

/**
 * How many one-evaluation candidates a loop that checks `tracker.wrapUp(reserve)` before each
 * would score now, at most `limit` (with `reserve` 0: a loop that checks `exhausted()`, but for
 * its time limit at 100 % instead of 95 %). The time limit is checked once, here.
 */
export function candidatesWithinBudget(tracker: SearchTracker, reserve: number, limit: number): number {
  const left = tracker.maxEvaluations - reserve - tracker.evaluations;
  // Before the first offer the budget never stops a search (see SearchTracker.exhausted).
  if (tracker.best === null) return Math.min(limit, Math.max(1, left));
  const stop = reserve > 0 ? tracker.wrapUp(reserve) : tracker.exhausted();
  return stop ? 0 : Math.max(0, Math.min(limit, left));
}

/**
 * Offers row `row` of `rows` (scored by scoreBatch with `objective` and `violation`) to the tracker.
 * Only a row that improves on the best is scored again, to fill the simulator's stage arrays
 * that the tracker copies (the same numbers; not counted again: it was counted once).
 */
export function offerRow(tracker: SearchTracker, sim: Simulator, rows: Int32Array, row: number, objective: number, violation: number): void {
  if (tracker.best !== null && !beats(violation === 0, violation, objective, tracker.bestFeasible, tracker.bestViolation, tracker.bestObjective)) return;
  const L = sim.layerCount;
  sim.scoreAssignment(rows.subarray(row * L, (row + 1) * L));
  tracker.offer(sim);
}
