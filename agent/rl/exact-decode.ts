/**
 * Exact decodes for `reinforce-dp`: the exact solver (agent/exact.ts)
 * restricted to a mask of (layer, type) pairs gives the optimal cuts and
 * replicas for those types. One place does "mask → solve → count → score →
 * offer", with the run's budget: every label counts as an evaluation, a
 * decode never takes more labels than are left (nor than `maxLabels`, which
 * keeps each decode short so that Ctrl-C is seen between decodes), and never
 * runs past the run's time limit. The solver's relaxation bound is off: its
 * tables take O(L²) before the first label (20 s at 1,000 layers), more than
 * a capped decode is worth.
 */
import type { Problem, Settings } from '../../env/problem.js';
import type { Simulator } from '../../env/simulate.js';
import { solveExact } from '../exact.js';
import type { SearchTracker } from '../tracker.js';

export class ExactDecoder {
  /**
   * True once a decode, under a finite evaluation cap, used up its labels without reaching a placement: on
   * this chain a decode does not fit the caps (labels grow with the chain), so
   * the trainer stops spending evaluations on decodes it cannot finish.
   */
  starved = false;

  constructor(
    private readonly problem: Problem,
    private readonly settings: Settings,
    private readonly sim: Simulator,
    private readonly tracker: SearchTracker,
    /** Labels one decode may create, and labels it may expand, at most. */
    private readonly maxLabels: number,
    /** The run's time limit (seconds since the tracker started), if any. */
    private readonly timeLimitS: number | undefined,
    /** Labels kept per (layer, last type): Infinity for the exact DP; a few make a beam search that always reaches the last layer within a small cap. */
    private readonly beamWidth = Infinity,
  ) {}

  /**
   * Solves within `mask` (better than the best so far only, when `improveOnly`),
   * with at most `maxLabels` labels besides the decoder's own caps;
   * scores and offers the result. True when it improved the best placement.
   */
  decode(mask: Uint8Array, improveOnly: boolean, maxLabels = Infinity): boolean {
    const { tracker, sim } = this;
    // One evaluation is kept for scoring the result.
    const labelsLeft = Math.min(this.maxLabels, maxLabels, tracker.maxEvaluations - tracker.evaluations - 1);
    if (labelsLeft <= 0) return false;
    const left = this.timeLimitS !== undefined ? this.timeLimitS - tracker.seconds() : undefined;
    if (left !== undefined && left <= 0) return false;
    const upperBound = improveOnly && tracker.bestFeasible ? tracker.bestObjective * (1 - 1e-9) : undefined;
    const decoded = solveExact(this.problem, this.settings, {
      allowedTypes: mask, upperBound, timeLimitS: left, maxLabels: labelsLeft, maxExpansions: this.maxLabels, relaxation: false, beamWidth: this.beamWidth,
    });
    tracker.count(decoded.labels);
    // Out of labels with nothing to show: under a finite evaluation cap, later periodic decodes would waste the budget alike.
    // (Runs bounded by time alone keep decoding: their per-decode work cap is not a budget.)
    if (decoded.placement === null && decoded.labels >= labelsLeft && Number.isFinite(tracker.maxEvaluations)) this.starved = true;
    if (decoded.placement === null) return false;
    sim.scorePlacement(decoded.placement);
    tracker.count(1);
    return tracker.offer(sim);
  }
}

/** The mask allowing, at each layer, exactly the type `assignment` gives it. */
export function typesMask(assignment: ArrayLike<number>, K: number): Uint8Array {
  const mask = new Uint8Array(assignment.length * K);
  for (let l = 0; l < assignment.length; l++) if (assignment[l] >= 0) mask[l * K + assignment[l]] = 1;
  return mask;
}

/**
 * The window mask: at layer l, every type that `assignment` uses within ±w
 * layers (so run boundaries can move and a run's type can spread), plus the
 * type each of `extra` gives l; only types that can run l.
 */
export function windowMask(assignment: ArrayLike<number>, K: number, w: number, runnable: Uint8Array, extra: ArrayLike<number>[] = []): Uint8Array {
  const L = assignment.length;
  const mask = new Uint8Array(L * K);
  for (let l = 0; l < L; l++) {
    for (let j = Math.max(0, l - w); j <= Math.min(L - 1, l + w); j++) {
      const k = assignment[j];
      if (k >= 0 && runnable[l * K + k]) mask[l * K + k] = 1;
    }
    for (const e of extra) if (runnable[l * K + e[l]]) mask[l * K + e[l]] = 1;
  }
  return mask;
}
