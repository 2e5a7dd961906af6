/**
 * Rebalancing the cuts of a placement whose stage types and replicas are fixed.
 *
 * A pipelined step is dominated by its slowest stage ((M − 1) × the largest
 * forward and backward times), so given the sequence of stage types and their
 * replicas, the cuts that matter are those that even out compute per replica.
 * `balancedCuts` bisects on a bottleneck T: a stage of type k on n replicas
 * may take a run of layers when their forward + backward on k over n stays
 * within T, k runs every one of them and their memory fits one unit of k; the
 * test is whether the stages, in order, can cover the chain that way (a sweep
 * of the ends each stage can reach). Where the climb of agent/provision.ts
 * moves a boundary between types two layers per score, this jumps every cut
 * at once: on a 300-layer chain that is the difference between a sample that
 * costs hundreds of evaluations and one that costs 15.
 *
 * Every probe (one cover test: the stage costs of one candidate bottleneck)
 * counts as an evaluation, like a score() call. Links and all-reduces are
 * left to the simulator's score: the bisection balances compute only, so
 * `rebalanceCuts` keeps the balanced cuts only when they score better.
 */
import type { Simulator } from '../env/simulate.js';

/** Per-simulator prefix sums, built once. */
interface Prefixes {
  /** compute[k * (L + 1) + l]: forward + backward of layers 0..l-1 on type k. */
  compute: Float64Array;
  /** unrunnable[k * (L + 1) + l]: layers among 0..l-1 that type k cannot run. */
  unrunnable: Int32Array;
  /** Bytes per replica that do not shrink with replicas (4 × params), and those that do (M × activations). */
  fixedBytes: Float64Array;
  stashBytes: Float64Array;
  /** Forward + backward of the whole chain, each layer on its cheapest runnable type. */
  cheapestTotal: number;
}

const prefixesBySim = new WeakMap<Simulator, Prefixes>();

function prefixesOf(sim: Simulator): Prefixes {
  let p = prefixesBySim.get(sim);
  if (p) return p;
  const { problem } = sim;
  const L = sim.layerCount;
  const K = sim.typeCount;
  const stride = L + 1;
  const compute = new Float64Array(K * stride);
  const unrunnable = new Int32Array(K * stride);
  for (let k = 0; k < K; k++) {
    for (let l = 0; l < L; l++) {
      const f = problem.forwardMs[l * K + k];
      const b = problem.backwardMs[l * K + k];
      const bad = Number.isNaN(f) || Number.isNaN(b);
      compute[k * stride + l + 1] = compute[k * stride + l] + (bad ? 0 : f + b);
      unrunnable[k * stride + l + 1] = unrunnable[k * stride + l] + (bad ? 1 : 0);
    }
  }
  const M = sim.settings.microBatches;
  const fixedBytes = new Float64Array(stride);
  const stashBytes = new Float64Array(stride);
  for (let l = 0; l < L; l++) {
    fixedBytes[l + 1] = fixedBytes[l] + 4 * problem.layers[l].paramBytes;
    stashBytes[l + 1] = stashBytes[l] + M * problem.layers[l].activationBytes;
  }
  let cheapestTotal = 0;
  for (let l = 0; l < L; l++) {
    let least = Infinity;
    for (let k = 0; k < K; k++) {
      const c = problem.forwardMs[l * K + k] + problem.backwardMs[l * K + k];
      if (c < least) least = c;
    }
    if (least < Infinity) cheapestTotal += least;
  }
  p = { compute, unrunnable, fixedBytes, stashBytes, cheapestTotal };
  prefixesBySim.set(sim, p);
  return p;
}

/** Bisection steps at most: the bottleneck to within 2⁻¹² of the starting interval. */
export const REBALANCE_PROBES = 12;

/**
 * Sets the simulator's cuts to the balanced cuts for its stage types and
 * replicas (see the file comment) when some bottleneck lets the stages cover
 * the chain and they score better than the cuts it had; otherwise leaves (or
 * puts back) those. Returns the evaluations used: a score of the cuts it had,
 * the probes, a score of the balanced cuts and one more when they are put
 * back; never more than `maxEvaluations` (with fewer than `probes` + 3 left it
 * only scores the cuts it has). The simulator holds its placement, scored.
 */
export function rebalanceCuts(sim: Simulator, maxEvaluations = Infinity, probes = REBALANCE_PROBES): number {
  const S = sim.stageCount;
  sim.score();
  if (S <= 1 || maxEvaluations < probes + 3) return 1;
  const before = { feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue };
  const balanced = balancedCuts(sim, probes);
  if (balanced.cuts === null) return 1 + balanced.probes;
  const { stageFirst, stageLast } = sim;
  const old = stageLast.slice(0, S);
  setCuts(sim, balanced.cuts);
  sim.score();
  let used = 2 + balanced.probes;
  if (better(sim, before)) return used;
  // Links and all-reduces made the balanced cuts worse: back to the cuts it had.
  setCuts(sim, old);
  sim.score();
  return used + 1;
}

function setCuts(sim: Simulator, cuts: ArrayLike<number>): void {
  for (let s = 0; s < sim.stageCount; s++) {
    sim.stageLast[s] = cuts[s];
    sim.stageFirst[s] = s === 0 ? 0 : cuts[s - 1] + 1;
  }
}

/**
 * The balanced cuts (last layer of each stage) for the simulator's stage
 * types and replicas, found by at most `probes` fill tests (`probes` counts
 * those made); `cuts` null when no bottleneck lets the stages cover the chain
 * (a stage type that cannot run a layer it would have to take, or memory).
 * Touches neither the stage arrays nor the simulator's results.
 */
export function balancedCuts(sim: Simulator, probes = REBALANCE_PROBES): { cuts: Int32Array | null; probes: number } {
  const S = sim.stageCount;
  const L = sim.layerCount;
  const { compute, cheapestTotal } = prefixesOf(sim);
  const stride = L + 1;
  const { stageType, stageReplicas } = sim;
  // Bounds on the bottleneck: every layer on its cheapest type spread evenly over every replica is a floor;
  // the whole chain on any one stage is always enough compute.
  let hi = 0;
  let replicas = 0;
  for (let s = 0; s < S; s++) {
    hi = Math.max(hi, compute[stageType[s] * stride + L] / stageReplicas[s]);
    replicas += stageReplicas[s];
  }
  hi *= 1 + 1e-9; // (c / n) × n can round below c
  let lo = Math.min(hi, cheapestTotal / replicas);
  const cuts = new Int32Array(S);
  let best: Int32Array | null = null;
  let used = 0;
  // The first probe at hi: if even that does not cover the chain, runnability or memory rule these types out.
  while (used < probes) {
    const t = best ? (lo + hi) / 2 : hi;
    used++;
    if (fill(sim, t, cuts)) {
      best = cuts.slice();
      hi = t;
    } else {
      if (!best) break;
      lo = t;
    }
  }
  return { cuts: best, probes: used };
}

/** Feasible first, then less violation, then a smaller objective. */
function better(sim: Simulator, than: { feasible: boolean; violation: number; objective: number }): boolean {
  if (sim.feasible !== than.feasible) return sim.feasible;
  if (!sim.feasible) return sim.violation < than.violation;
  return sim.objectiveValue < than.objective;
}

/**
 * Whether the stages, each within bottleneck `t`, can cover the chain; if so
 * `cuts[s]` = last layer of stage s. A stage that starts at `a` may end
 * anywhere from `a` to the farthest layer it can take (each condition only
 * gets easier for a shorter stage), so the ends each stage can reach form a
 * union of intervals, swept stage by stage (O(stages × layers × log layers));
 * then the cuts are read back from the last stage.
 */
function fill(sim: Simulator, t: number, cuts: Int32Array): boolean {
  const { compute, unrunnable, fixedBytes, stashBytes } = prefixesOf(sim);
  const S = sim.stageCount;
  const L = sim.layerCount;
  const stride = L + 1;
  const { stageType, stageReplicas } = sim;
  const types = sim.problem.types;
  const reach = reachOf(S, L);
  const diff = new Int32Array(L + 1);
  // far(s, a): one past the last layer stage s can take from layer a (a itself when it cannot take even a).
  const far = (s: number, a: number): number => {
    const at = stageType[s] * stride;
    const n = stageReplicas[s];
    const capacity = types[stageType[s]].memoryBytes;
    const limit = t * n;
    const fits = (end: number): boolean =>
      compute[at + end] - compute[at + a] <= limit &&
      unrunnable[at + end] === unrunnable[at + a] &&
      fixedBytes[end] - fixedBytes[a] + (stashBytes[end] - stashBytes[a]) / n <= capacity;
    if (!fits(a + 1)) return a;
    let lo = a + 1;
    let hi = L;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fits(mid)) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  for (let s = 0; s < S; s++) {
    diff.fill(0);
    let any = false;
    const row = s * L;
    for (let a = 0; a < L; a++) {
      if (s === 0 ? a !== 0 : reach[row - L + a - 1] === 0 || a === 0) continue;
      const end = far(s, a);
      if (end > a) {
        diff[a]++;
        diff[end]--;
        any = true;
      }
    }
    if (!any) return false;
    let open = 0;
    for (let l = 0; l < L; l++) {
      open += diff[l];
      reach[row + l] = open > 0 ? 1 : 0;
    }
  }
  if (reach[(S - 1) * L + L - 1] === 0) return false;
  // Back from the end: the latest start of each stage that reaches its end and follows a reachable end of the stage before.
  let end = L - 1;
  for (let s = S - 1; s >= 0; s--) {
    cuts[s] = end;
    if (s === 0) break;
    let a = end;
    while (a > 0 && !(reach[(s - 1) * L + a - 1] === 1 && far(s, a) > end)) a--;
    if (a === 0) return false;
    end = a - 1;
  }
  return true;
}

let reachBuffer = new Uint8Array(0);

/** Scratch for the reachable ends (stages × layers), reused between probes. */
function reachOf(S: number, L: number): Uint8Array {
  if (reachBuffer.length < S * L) reachBuffer = new Uint8Array(S * L);
  return reachBuffer;
}

