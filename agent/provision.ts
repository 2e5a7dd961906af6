/**
 * Replica provisioning: from a type per layer to a full placement.
 *
 * An assignment fixes only the type of each layer; how many units of that type
 * train each stage is a second decision. Starting from the short form
 * (maximal runs, one replica each), `provisionInPlace` hill-climbs with two
 * three moves, the first two costing one more unit of the stage's type:
 *
 * - **add a replica** to a stage (data parallel: its f and b shrink, an
 *   all-reduce appears, memory per replica shrinks);
 * - **split** a stage into two stages of the same type at a good cut (a
 *   pipeline over two units: the bottleneck shrinks, a link appears).
 *
 * - **move the cut** between two neighbouring stages of the same type (free:
 *   a split made before replicas were added is rarely still the best cut),
 *   or (`climb` with `moveBoundaries`) by up to two layers between stages of
 *   different types (free too).
 *
 * Every iteration scores every allowed move and applies the one that ranks
 * best by `beats` (agent/tracker.ts) (feasible first, then least violation, then objective):
 * for `time` that is the largest cut in step time, for `cost` it first cuts
 * the step time until the deadline holds (violation), then dollars per step.
 * It stops when no move improves. A move is allowed only while its type has a
 * free unit and, for `time`, while the price stays within the budget, so a
 * placement that respects counts and budget keeps respecting them; memory
 * violations are repaired because they count in the violation.
 *
 * Deterministic (scan order breaks ties) and allocation-free in the loop: it
 * works in the simulator's own stage arrays. Splits and cut moves do not score every cut:
 * only those near the cut that balances compute time and the cut that
 * balances memory (`cutWindow` layers either side), which keeps a call at
 * O(stages) scores per move instead of O(layers).
 */
import type { Placement } from '../env/problem.js';
import type { Simulator } from '../env/simulate.js';
import { readPlacement } from './tracker.js';

/** Cuts tried either side of the balanced cuts when splitting a stage. */
export const DEFAULT_CUT_WINDOW = 1;

/** How far (layers) a boundary between stages of different types moves in one step. */
const BOUNDARY_STEPS = 2;

/** A move must cut the objective by at least this fraction: no endless crawl on rounding noise. */
const MIN_GAIN = 1e-9;

/** Per-simulator constants and scratch space, built once per Simulator. */
interface Scratch {
  count: Int32Array;
  units: Int32Array;
  /** forward + backward ms per [layer * K + type]. */
  computeMs: Float64Array;
  paramBytes: Float64Array;
  activationBytes: Float64Array;
}

const scratchBySim = new WeakMap<Simulator, Scratch>();

function scratchOf(sim: Simulator): Scratch {
  let scratch = scratchBySim.get(sim);
  if (scratch === undefined) {
    const { problem } = sim;
    const computeMs = new Float64Array(problem.forwardMs.length);
    for (let i = 0; i < computeMs.length; i++) computeMs[i] = problem.forwardMs[i] + problem.backwardMs[i];
    scratch = {
      count: Int32Array.from(problem.types, (t) => t.count),
      units: new Int32Array(problem.types.length),
      computeMs,
      paramBytes: Float64Array.from(problem.layers, (l) => l.paramBytes),
      activationBytes: Float64Array.from(problem.layers, (l) => l.activationBytes),
    };
    scratchBySim.set(sim, scratch);
  }
  return scratch;
}

/**
 * Provisions `assignment` and returns the placement (a fresh array). The
 * simulator is left holding and having scored that placement.
 */
export function provision(sim: Simulator, assignment: ArrayLike<number>, maxScores = Infinity): Placement {
  provisionInPlace(sim, assignment, maxScores);
  return readPlacement(sim);
}

/**
 * Provisions `assignment` inside the simulator's stage arrays and returns the
 * number of `score()` calls made (never more than `maxScores`, at least 1).
 * On return the simulator holds the provisioned placement and its results
 * (`feasible`, `violation`, `objectiveValue`, …) are that placement's.
 * With a small `maxScores` the climb stops early, still with a valid placement
 * no worse than the short form.
 */
export function provisionInPlace(
  sim: Simulator,
  assignment: ArrayLike<number>,
  maxScores = Infinity,
  cutWindow = DEFAULT_CUT_WINDOW,
): number {
  sim.loadAssignment(assignment);
  return climb(sim, maxScores, cutWindow);
}

/**
 * Hill-climbs from whatever placement the simulator holds (see the file
 * comment); returns the score calls made. Exported for searchers that build
 * their own starting placement. `moveBoundaries` also moves boundaries
 * between stages of different types (layers then change type: the agent's
 * stage-level samples use it; `provision` keeps every layer's type).
 */
export function climb(sim: Simulator, maxScores = Infinity, cutWindow = DEFAULT_CUT_WINDOW, moveBoundaries = false): number {
  const { count, units } = scratchOf(sim);
  const { stageType, stageReplicas, stageFirst, stageLast, settings } = sim;
  const budget = settings.objective === 'time' ? settings.budget : Infinity;
  sim.score();
  let used = 1;
  let stale = false; // true when the last score() was a candidate, not the current placement
  for (;;) {
    const curFeasible = sim.feasible;
    const curViolation = sim.violation;
    const curObjective = sim.objectiveValue;
    const curPrice = sim.pricePerHour;
    units.set(sim.unitsUsed);
    // The best move of this iteration: kind 0 none, 1 add a replica, 2 split, 3 move a cut.
    let moveKind = 0;
    let moveStage = -1;
    let moveCut = -1;
    let moveLeftReplicas = 0;
    let bestFeasible = curFeasible;
    let bestViolation = curViolation;
    let bestObjective = curObjective;
    const stageCount = sim.stageCount;
    scan: for (let s = 0; s < stageCount; s++) {
      const k = stageType[s];
      // Move the cut to the next stage when it has the same type: free (no
      // unit), and a cut made before replicas were added is rarely still best.
      if (s + 1 < stageCount && stageType[s + 1] === k) {
        const first = stageFirst[s];
        const cut = stageLast[s];
        const last = stageLast[s + 1];
        const timeCut = balancedComputeCut(sim, k, first, last, stageReplicas[s], stageReplicas[s + 1]);
        const memoryCut = balancedMemoryCut(sim, first, last, stageReplicas[s], stageReplicas[s + 1]);
        for (let c = first; c < last; c++) {
          if (c === cut || (Math.abs(c - timeCut) > cutWindow && Math.abs(c - memoryCut) > cutWindow)) continue;
          if (used + 1 >= maxScores) break;
          stageLast[s] = c;
          stageFirst[s + 1] = c + 1;
          sim.score();
          used++;
          stale = true;
          if (improves(sim, bestFeasible, bestViolation, bestObjective)) {
            bestFeasible = sim.feasible;
            bestViolation = sim.violation;
            bestObjective = sim.objectiveValue;
            moveKind = 3;
            moveStage = s;
            moveCut = c;
          }
        }
        stageLast[s] = cut;
        stageFirst[s + 1] = cut + 1;
      }
      // Move the boundary with a next stage of another type by one or two
      // layers either way (free: no unit changes), when the layers that change
      // stage can run on their new type.
      if (moveBoundaries && s + 1 < stageCount && stageType[s + 1] !== k) {
        const cut = stageLast[s];
        const next = stageType[s + 1];
        for (let c = cut - BOUNDARY_STEPS; c <= cut + BOUNDARY_STEPS; c++) {
          if (c === cut || c < stageFirst[s] || c >= stageLast[s + 1]) continue;
          if (!runsAll(sim, c < cut ? next : k, Math.min(c, cut) + 1, Math.max(c, cut))) continue;
          if (used + 1 >= maxScores) break scan;
          stageLast[s] = c;
          stageFirst[s + 1] = c + 1;
          sim.score();
          used++;
          stale = true;
          if (improves(sim, bestFeasible, bestViolation, bestObjective)) {
            bestFeasible = sim.feasible;
            bestViolation = sim.violation;
            bestObjective = sim.objectiveValue;
            moveKind = 3;
            moveStage = s;
            moveCut = c;
          }
        }
        stageLast[s] = cut;
        stageFirst[s + 1] = cut + 1;
      }
      // The budget is checked on the simulator's own price after scoring, not
      // here by adding prices: sums in another order can differ in the last bit.
      if (units[k] >= count[k]) continue;
      // Add one replica.
      if (used + 1 >= maxScores) break scan;
      stageReplicas[s]++;
      sim.score();
      used++;
      stale = true;
      stageReplicas[s]--;
      if (withinBudget(sim, curPrice, budget) && improves(sim, bestFeasible, bestViolation, bestObjective)) {
        bestFeasible = sim.feasible;
        bestViolation = sim.violation;
        bestObjective = sim.objectiveValue;
        moveKind = 1;
        moveStage = s;
      }
      // Split into two stages of type k with n + 1 replicas between them.
      const first = stageFirst[s];
      const last = stageLast[s];
      if (first === last) continue;
      const n = stageReplicas[s];
      const larger = Math.ceil((n + 1) / 2);
      openGap(sim, s);
      for (let option = 0; option < 2; option++) {
        const left = option === 0 ? larger : n + 1 - larger;
        if (option === 1 && left === larger) break;
        const right = n + 1 - left;
        const timeCut = balancedComputeCut(sim, k, first, last, left, right);
        const memoryCut = balancedMemoryCut(sim, first, last, left, right);
        for (let c = first; c < last; c++) {
          if (Math.abs(c - timeCut) > cutWindow && Math.abs(c - memoryCut) > cutWindow) continue;
          if (used + 1 >= maxScores) {
            closeGap(sim, s, last, n);
            break scan;
          }
          stageLast[s] = c;
          stageReplicas[s] = left;
          stageFirst[s + 1] = c + 1;
          stageReplicas[s + 1] = right;
          sim.score();
          used++;
          if (withinBudget(sim, curPrice, budget) && improves(sim, bestFeasible, bestViolation, bestObjective)) {
            bestFeasible = sim.feasible;
            bestViolation = sim.violation;
            bestObjective = sim.objectiveValue;
            moveKind = 2;
            moveStage = s;
            moveCut = c;
            moveLeftReplicas = left;
          }
        }
      }
      closeGap(sim, s, last, n);
    }
    if (moveKind === 0) break;
    if (moveKind === 1) {
      stageReplicas[moveStage]++;
    } else if (moveKind === 3) {
      stageLast[moveStage] = moveCut;
      stageFirst[moveStage + 1] = moveCut + 1;
    } else {
      const n = stageReplicas[moveStage];
      openGap(sim, moveStage);
      stageLast[moveStage] = moveCut;
      stageReplicas[moveStage] = moveLeftReplicas;
      stageFirst[moveStage + 1] = moveCut + 1;
      stageReplicas[moveStage + 1] = n + 1 - moveLeftReplicas;
    }
    // Re-score so the simulator's results describe the placement it holds.
    sim.score();
    used++;
    stale = false;
  }
  if (stale) {
    sim.score();
    used++;
  }
  return used;
}

/** True when every layer first..last can run on `type`. */
function runsAll(sim: Simulator, type: number, first: number, last: number): boolean {
  const K = sim.typeCount;
  for (let l = first; l <= last; l++) if (Number.isNaN(sim.problem.forwardMs[l * K + type])) return false;
  return true;
}

/** A move may not take a placement within the budget over it (for `time`; `budget` is Infinity for `cost`). */
function withinBudget(sim: Simulator, currentPrice: number, budget: number): boolean {
  return currentPrice > budget || sim.pricePerHour <= budget;
}

/** Strictly better than the given score, by a margin on the objective (see MIN_GAIN). */
function improves(sim: Simulator, feasible: boolean, violation: number, objective: number): boolean {
  if (sim.feasible !== feasible) return sim.feasible;
  if (!sim.feasible) return sim.violation < violation;
  return sim.objectiveValue < objective * (1 - MIN_GAIN);
}

/** Makes room for a stage right after `s`: a copy of `s` at s + 1, later stages shifted by one. */
function openGap(sim: Simulator, s: number): void {
  const { stageType, stageReplicas, stageFirst, stageLast } = sim;
  for (let t = sim.stageCount - 1; t >= s; t--) {
    stageType[t + 1] = stageType[t];
    stageReplicas[t + 1] = stageReplicas[t];
    stageFirst[t + 1] = stageFirst[t];
    stageLast[t + 1] = stageLast[t];
  }
  sim.stageCount++;
}

/** Undoes `openGap` after trial splits: stage s back to layers ..last on n replicas. */
function closeGap(sim: Simulator, s: number, last: number, n: number): void {
  const { stageType, stageReplicas, stageFirst, stageLast } = sim;
  sim.stageCount--;
  for (let t = s + 1; t < sim.stageCount; t++) {
    stageType[t] = stageType[t + 1];
    stageReplicas[t] = stageReplicas[t + 1];
    stageFirst[t] = stageFirst[t + 1];
    stageLast[t] = stageLast[t + 1];
  }
  stageLast[s] = last;
  stageReplicas[s] = n;
}

/** The last layer of the left half that best evens out per-replica compute of the halves. */
function balancedComputeCut(sim: Simulator, k: number, first: number, last: number, left: number, right: number): number {
  const { computeMs } = scratchOf(sim);
  const K = sim.typeCount;
  let total = 0;
  for (let l = first; l <= last; l++) total += computeMs[l * K + k];
  let prefix = 0;
  let bestCut = first;
  let bestMax = Infinity;
  for (let c = first; c < last; c++) {
    prefix += computeMs[c * K + k];
    const worst = Math.max(prefix / left, (total - prefix) / right);
    if (worst < bestMax) {
      bestMax = worst;
      bestCut = c;
    }
  }
  return bestCut;
}

/** The last layer of the left half that best evens out memory per replica of the halves. */
function balancedMemoryCut(sim: Simulator, first: number, last: number, left: number, right: number): number {
  const { paramBytes, activationBytes } = scratchOf(sim);
  const M = sim.settings.microBatches;
  let totalParams = 0;
  let totalActivations = 0;
  for (let l = first; l <= last; l++) {
    totalParams += paramBytes[l];
    totalActivations += activationBytes[l];
  }
  let params = 0;
  let activations = 0;
  let bestCut = first;
  let bestMax = Infinity;
  for (let c = first; c < last; c++) {
    params += paramBytes[c];
    activations += activationBytes[c];
    const leftBytes = 4 * params + (M * activations) / left;
    const rightBytes = 4 * (totalParams - params) + (M * (totalActivations - activations)) / right;
    const worst = Math.max(leftBytes, rightBytes);
    if (worst < bestMax) {
      bestMax = worst;
      bestCut = c;
    }
  }
  return bestCut;
}
