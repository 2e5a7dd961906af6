/**
 * The Lagrangian chain bound: a lower bound on the step (objective `time`) of
 * every feasible placement, from the chain itself with the units that all
 * the stages use together priced in.
 *
 * For a stage s let q_s = (M − 1)(f_s + b_s) + AR_s (a link: 2(M − 1)τ). Any
 * placement has step = Σ (f + b + links) + (M − 1)(max f + max b) + max AR
 * ≥ Σ (f + b + links) + max_s q_s. So for a cap c, every placement whose
 * largest q lies in (a, c] has step > a + S(c), where S(c) is the least
 * Σ (f + b + links) over placements whose every stage keeps q ≤ c, that fit
 * memory, spend at most the budget and use at most count_k units of each
 * type k. Pricing those two constraints (λ per $/h, μ_k per unit of type k,
 * all ≥ 0) turns S(c) into a shortest path over the chain:
 *   S(c) ≥ D(c; λ, μ) − λ × budget − Σ_k μ_k count_k,
 *   D = least Σ (f + b + links + n (λ p_k + μ_k)) over stages with q ≤ c,
 * for EVERY λ, μ ≥ 0 (weak duality): a subgradient ascent on (λ, μ) may stop
 * anywhere. The bound is the least, over a partition of the caps into
 * intervals (a, c], of a + (the best D bound at any cap ≥ c); intervals whose
 * cap admits no placement at all are empty. Intervals where that least is
 * reached are split in two, so the bound only grows with the time given.
 *
 * Cost: one shortest path is O(layers × types × replicas × stage length).
 */
import type { Problem, Settings } from '../../env/problem.js';
import { allReduceMs, layerMemoryBytes, linkMs } from '../../env/stage-cost.js';
import { runSync, type Steps, YIELD_EVERY_MS } from '../exact/steps.js';

export interface LagrangianOptions {
  /** Stop by then (performance.now() milliseconds). */
  deadlineAt?: number;
  signal?: AbortSignal;
  /** A known feasible objective: caps above it need no refining (default Infinity). */
  upperBound?: number;
  /** Subgradient steps per cap (default 40). */
  ascentSteps?: number;
}

export interface LagrangianBound {
  /** ≤ the step of every feasible placement (Infinity: none is feasible); 0 when not applicable. */
  bound: number;
  /** Shortest paths computed. */
  paths: number;
}

/** Replica counts above this are grouped on a ladder (as in the exact searcher). */
const DENSE = 256;
const LADDER = 1.25;

export function lagrangianBound(problem: Problem, settings: Settings, options: LagrangianOptions = {}): LagrangianBound {
  return runSync(lagrangianBoundSteps(problem, settings, options));
}

export function* lagrangianBoundSteps(problem: Problem, settings: Settings, options: LagrangianOptions = {}): Steps<LagrangianBound> {
  if (settings.objective !== 'time') return { bound: 0, paths: 0 };
  const deadlineAt = options.deadlineAt ?? Infinity;
  const signal = options.signal;
  const ascentSteps = options.ascentSteps ?? 40;
  const upper = options.upperBound ?? Infinity;
  const { types, forwardMs, backwardMs } = problem;
  const L = problem.layers.length;
  const K = types.length;
  const M = settings.microBatches;
  const W = M - 1;
  const budget = settings.budget;
  const withBudget = Number.isFinite(budget);
  const paramBytes = problem.layers.map((layer) => layer.paramBytes);
  const activationBytes = problem.layers.map((layer) => layer.activationBytes);
  const price = types.map((t) => t.pricePerHour);
  const count = types.map((t) => t.count);
  const most = types.map((t) => Math.max(0, t.pricePerHour > 0 && withBudget ? Math.min(t.count, Math.floor(budget / t.pricePerHour + 1e-9)) : t.count));
  const allowed = (l: number, k: number) => !Number.isNaN(forwardMs[l * K + k]);
  let nextYield = performance.now() + YIELD_EVERY_MS;
  let paths = 0;
  let outOfTime = false;

  // Link times before each layer i > 0, by (prev, k).
  const stride = K + 1;
  const dist = new Float64Array((L + 1) * stride);
  const choiceType = new Int32Array((L + 1) * stride); // best k at (i, prev)
  const choiceN = new Float64Array((L + 1) * K); // best n at (i, k)
  const choiceEnd = new Int32Array((L + 1) * K); // best last layer at (i, k)
  const stageBest = new Float64Array(K);
  const charge = new Float64Array(K); // λ p_k + μ_k
  const usedUnits = new Float64Array(K);

  /** D(c; λ, μ) and the units and money its path uses (into usedUnits; returns [D, money]); null when out of time. */
  function* shortestPath(cap: number): Steps<[number, number] | null> {
    paths++;
    for (let i = L - 1; i >= 0; i--) {
      const now = performance.now();
      if (now > deadlineAt || signal?.aborted) {
        outOfTime = true;
        return null;
      }
      if (now >= nextYield) {
        yield;
        nextYield = performance.now() + YIELD_EVERY_MS;
      }
      for (let k = 0; k < K; k++) {
        let bestHere = Infinity;
        let bestN = 0;
        let bestEnd = -1;
        if (allowed(i, k)) {
          const type = types[k];
          for (let n = 1; n <= most[k]; n = n < DENSE ? n + 1 : nextOnLadder(n, most[k])) {
            // n..widest stand for every count between them: the least charge and all-reduce (at n),
            // the least times and memory (at widest) bound them all.
            const widest = n < DENSE ? n : Math.min(most[k], nextOnLadder(n, most[k]) - 1);
            const stageCharge = n * charge[k];
            let forward = 0;
            let backward = 0;
            let params = 0;
            let memory = 0;
            for (let e = i; e < L && allowed(e, k); e++) {
              forward += forwardMs[e * K + k];
              backward += backwardMs[e * K + k];
              params += paramBytes[e];
              memory += layerMemoryBytes(paramBytes[e], activationBytes[e], M, widest);
              if (memory > type.memoryBytes) break;
              const f = forward / widest;
              const b = backward / widest;
              if (W * (f + b) + allReduceMs(n, params, type.bandwidthBytesPerS) > cap) break; // only grows with e
              const value = f + b + stageCharge + dist[(e + 1) * stride + k + 1];
              if (value < bestHere) [bestHere, bestN, bestEnd] = [value, n, e];
            }
          }
        }
        stageBest[k] = bestHere;
        choiceN[i * K + k] = bestN;
        choiceEnd[i * K + k] = bestEnd;
      }
      for (let prev = -1; prev < K; prev++) {
        const at = i * stride + prev + 1;
        if ((i === 0) !== (prev === -1)) {
          dist[at] = Infinity;
          continue;
        }
        let least = Infinity;
        let arg = -1;
        for (let k = 0; k < K; k++) {
          if (stageBest[k] === Infinity) continue;
          let link = 0;
          if (i > 0) {
            link = linkMs(activationBytes[i - 1], types[prev].bandwidthBytesPerS, types[k].bandwidthBytesPerS);
            if (2 * W * link > cap) continue;
          }
          const value = link + link + stageBest[k];
          if (value < least) [least, arg] = [value, k];
        }
        dist[at] = least;
        choiceType[at] = arg;
      }
    }
    const total = dist[0];
    usedUnits.fill(0);
    let money = 0;
    if (total < Infinity) {
      for (let i = 0, prev = -1; i < L;) {
        const k = choiceType[i * stride + prev + 1];
        const n = choiceN[i * K + k];
        usedUnits[k] += n;
        money += n * price[k];
        [i, prev] = [choiceEnd[i * K + k] + 1, k];
      }
    }
    return [total, money];
  }

  // The ascent's state is carried from cap to cap (neighbouring caps have similar prices).
  let lambda = 0;
  const mu = new Float64Array(K);
  /** The best D bound found at `cap` (−Infinity when out of time before any; Infinity: no placement keeps every q ≤ cap). */
  function* dualAt(cap: number): Steps<number> {
    let best = -Infinity;
    let theta = 1;
    let idle = 0;
    for (let step = 0; step < ascentSteps; step++) {
      for (let k = 0; k < K; k++) charge[k] = (withBudget ? lambda * price[k] : 0) + mu[k];
      const result = yield* shortestPath(cap);
      if (result === null) return best;
      const [total, money] = result;
      if (total === Infinity) return Infinity;
      let value = total - (withBudget ? lambda * budget : 0);
      for (let k = 0; k < K; k++) value -= mu[k] * count[k];
      if (value > best) [best, idle] = [value, 0];
      else if (++idle >= 3) [theta, idle] = [theta / 2, 0];
      // Subgradient: what the path uses beyond what it may.
      const gLambda = withBudget ? money - budget : 0;
      let norm = gLambda * gLambda;
      const g = new Float64Array(K);
      for (let k = 0; k < K; k++) {
        g[k] = usedUnits[k] - count[k];
        if (mu[k] === 0 && g[k] < 0) g[k] = 0; // projected: no move off the boundary
        norm += g[k] * g[k];
      }
      if (withBudget && lambda === 0 && gLambda < 0) norm -= gLambda * gLambda;
      if (norm === 0) break; // the path keeps every constraint with zero slack prices: the bound is exact for this cap
      // Polyak-like step towards a target a little above the best value.
      const target = Math.abs(best) * 0.05 + 1e-9;
      const size = (theta * target) / norm;
      if (withBudget && !(lambda === 0 && gLambda < 0)) lambda = Math.max(0, lambda + size * gLambda);
      for (let k = 0; k < K; k++) mu[k] = Math.max(0, mu[k] + size * g[k]);
      if (theta < 1e-4) break;
    }
    return best;
  }

  // Caps: from where no placement can be (the whole chain on every unit at once) to a generous top.
  let total = 0;
  let units = 0;
  for (let k = 0; k < K; k++) units += most[k];
  for (let l = 0; l < L; l++) {
    let fastest = Infinity;
    for (let k = 0; k < K; k++) if (allowed(l, k)) fastest = Math.min(fastest, forwardMs[l * K + k] + backwardMs[l * K + k]);
    if (fastest === Infinity) return { bound: Infinity, paths };
    total += fastest;
  }
  // Intervals (lo, hi] with the bound hi's dual gives; the last one is (top, ∞).
  interface Interval { lo: number; hi: number; dual: number }
  const intervals: Interval[] = [];
  const top = Math.min(Math.max(4 * W * total, 1e-9), upper);
  const bottom = Math.max((W * total) / (2 * Math.max(1, units)), top * 1e-6);
  const INITIAL = 8;
  const caps = [0];
  for (let j = 0; j < INITIAL; j++) caps.push(bottom * Math.pow(top / bottom, j / (INITIAL - 1)));
  caps.push(Infinity);
  // Largest cap first: its dual is a floor for every smaller cap's.
  const duals: number[] = new Array(caps.length).fill(-Infinity);
  for (let j = caps.length - 1; j >= 1; j--) {
    const dual = yield* dualAt(caps[j]);
    duals[j] = Math.max(dual, j + 1 < caps.length ? duals[j + 1] : -Infinity);
  }
  for (let j = 1; j < caps.length; j++) intervals.push({ lo: caps[j - 1], hi: caps[j], dual: duals[j] });
  const valueOf = (iv: Interval) => (iv.dual === Infinity ? Infinity : iv.lo + Math.max(0, iv.dual));
  // Refine: split the interval that sets the bound, while time lasts.
  for (let round = 0; round < 200 && !outOfTime; round++) {
    let worst = 0;
    for (let j = 1; j < intervals.length; j++) if (valueOf(intervals[j]) < valueOf(intervals[worst])) worst = j;
    const iv = intervals[worst];
    if (valueOf(iv) >= upper) break;
    if (iv.hi === Infinity || iv.hi - iv.lo <= 1e-4 * iv.hi) break;
    const mid = iv.lo > 0 && iv.hi > 4 * iv.lo ? Math.sqrt(iv.lo * iv.hi) : (iv.lo + iv.hi) / 2;
    const dual = yield* dualAt(mid);
    if (outOfTime && dual === -Infinity) break;
    intervals.splice(worst, 1, { lo: iv.lo, hi: mid, dual: Math.max(dual, iv.dual) }, { lo: mid, hi: iv.hi, dual: iv.dual });
  }
  let bound = Infinity;
  for (const iv of intervals) bound = Math.min(bound, valueOf(iv));
  // Rounding: sums in another order than the simulator's; keep a hair below.
  return { bound: bound === Infinity ? Infinity : Math.max(0, bound * (1 - 1e-9)), paths };
}

function nextOnLadder(n: number, free: number): number {
  if (n >= free) return Infinity;
  return Math.min(free, Math.max(n + 1, Math.floor(n * LADDER)));
}
