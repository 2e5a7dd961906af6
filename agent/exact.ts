/**
 * The exact searcher: the proven optimum over stage cuts, types and replicas.
 *
 * Label-setting dynamic programming over the layer chain. A label is a
 * partial placement of layers 0..i-1; it carries what the rest of the
 * pipeline needs to know (the sum of stage and link times S, the largest
 * forward F and backward B step, the largest all-reduce A, the units used of
 * each type) and the type of its last stage (the next link depends on it).
 * Every term of the objective only grows as a placement is extended, so:
 *  - a label is dropped when another at the same (layer, last type) is no
 *    worse in S, F, B, A and every unit count (dominance);
 *  - a label is dropped when a lower bound on any completion of it is no
 *    better than the best complete placement found so far (bounding).
 * What survives at the end of the chain contains an optimum. The stage sums
 * are accumulated in layer order exactly as the simulator does, so the DP's
 * numbers are the simulator's, bit for bit.
 *
 * A first pass with a narrow beam finds a good incumbent quickly; the exact
 * pass then prunes against it. For the time objective the budget DP
 * (agent/bounds/budget-dp.ts) runs first instead: its placement is the
 * incumbent and its tables bound every label's completion with the money it
 * has left (completionStep), which is what proves chains of hundreds of layers.
 */
import { Simulator } from '../env/simulate.js';
import { allReduceMs, layerMemoryBytes, linkMs } from '../env/stage-cost.js';
import type { Placement, Problem, Settings } from '../env/problem.js';
import type { SearchOptions, SearchResult, Searcher, TracePoint } from './searcher.js';
import { runAsync, runSync, type Steps, YIELD_EVERY_MS } from './exact/steps.js';
import { budgetDpBoundSteps, budgetDpScheduleSteps, type CompletionTables } from './bounds/budget-dp.js';

const MS_PER_HOUR = 3_600_000;

/** What to minimise. `price` is used to say how much budget would make a problem feasible. */
export type ExactGoal = 'time' | 'cost' | 'price';

export interface ExactOptions {
  /** Mask of allowed (layer, type) pairs, layers × types, 1 = allowed. Default: every pair in the profile. */
  allowedTypes?: Uint8Array;
  /** Keep at most this many labels per (layer, last type): a heuristic when finite. Default Infinity (exact). */
  beamWidth?: number;
  /** Only placements strictly better than this objective are of interest (prunes more). */
  upperBound?: number;
  timeLimitS?: number;
  onProgress?: SearchOptions['onProgress'];
  /** What to minimise; defaults to the settings' objective. */
  goal?: ExactGoal;
  /** Honour the budget / deadline of the settings (default true). */
  constrained?: boolean;
  /** Stop soon when aborted (the async runner yields to the event loop so the abort can arrive). */
  signal?: AbortSignal;
  /** Stop (incomplete) rather than create more than this many labels: an evaluation budget. Default Infinity. */
  maxLabels?: number;
  /** Stop (incomplete) after expanding this many labels (pruned or not): a deterministic cap on the work. Default Infinity. */
  maxExpansions?: number;
  /** Use the relaxation bound (default true). Its tables cost O(L²) time before the first label: off for short capped decodes of long chains. */
  relaxation?: boolean;
  /** Share of the time limit the relaxation's tables may take before the labels (default 0.25). */
  relaxationShare?: number;
  /**
   * The budget DP's tables (agent/bounds/budget-dp.ts) for this problem and these settings: a
   * bound on every completion of a label that keeps the budget as a resource (goal time only).
   */
  completion?: CompletionTables;
}

/**
 * Replica counts of one stage are tried one by one up to this many; above it (a type with
 * thousands of units and the budget to pay for them) they are tried on a geometric ladder,
 * and the search no longer claims to be complete.
 */
export const DENSE_REPLICAS = 256;
const REPLICA_LADDER = 1.25;

export interface ExactResult {
  placement: Placement | null;
  /** Value of the goal for `placement` (Infinity when none). */
  value: number;
  /** True when the search ran to the end without a beam, a time limit, an abort or a replica ladder cutting it. */
  complete: boolean;
  /**
   * A lower bound on the goal over every placement (Infinity: none is feasible), when the search
   * covered every placement up to its bounds (no beam, no replica ladder); equal to `value` when
   * complete. undefined when the search cannot say.
   */
  lowerBound?: number;
  /** The relaxation's bound on every placement before any search (sound whatever cut the search). */
  rootBound: number;
  labels: number;
  seconds: number;
}

interface Label {
  sumMs: number;
  maxForward: number;
  maxBackward: number;
  maxAllReduce: number;
  price: number;
  /** Float64: unit counts beyond 2^31 must not wrap. */
  used: Float64Array;
  lastType: number;
  parent: Label | null;
  // the stage that led here
  first: number;
  last: number;
  replicas: number;
  bound: number;
}

/** The exact search, run to its end (or its time limit) without yielding. */
export function solveExact(problem: Problem, settings: Settings, options: ExactOptions = {}): ExactResult {
  return runSync(exactSteps(problem, settings, options));
}

/** The exact search, yielding to the event loop every few tens of milliseconds so `signal` (Ctrl-C) can stop it. */
export function solveExactAsync(problem: Problem, settings: Settings, options: ExactOptions = {}): Promise<ExactResult> {
  return runAsync(exactSteps(problem, settings, options));
}

function* exactSteps(problem: Problem, settings: Settings, options: ExactOptions): Steps<ExactResult> {
  const started = performance.now();
  let nextYield = started + YIELD_EVERY_MS;
  const signal = options.signal;
  const L = problem.layers.length;
  const K = problem.types.length;
  const M = settings.microBatches;
  const goal: ExactGoal = options.goal ?? settings.objective;
  const constrained = options.constrained ?? true;
  const budget = constrained && settings.objective === 'time' ? settings.budget : Infinity;
  const deadline = constrained && settings.objective === 'cost' ? settings.deadline : Infinity;
  const beamWidth = options.beamWidth ?? Infinity;
  const deadlineAt = options.timeLimitS !== undefined ? started + options.timeLimitS * 1000 : Infinity;
  const maxLabels = options.maxLabels ?? Infinity;
  const maxExpansions = options.maxExpansions ?? Infinity;
  const { forwardMs, backwardMs, types } = problem;
  const paramBytes = problem.layers.map((layer) => layer.paramBytes);
  const activationBytes = problem.layers.map((layer) => layer.activationBytes);
  const allowed = (l: number, k: number) =>
    !Number.isNaN(forwardMs[l * K + k]) && (options.allowedTypes ? options.allowedTypes[l * K + k] === 1 : true);

  // Lower-bound ingredients for the layers from i on: the least forward and
  // backward work any allowed type needs (on its fastest type), and for each
  // type its best-case efficiency against that fastest type: one unit of type
  // k does at most `efficiency` units of fastest-type work per unit of time.
  const suffixForward = new Float64Array(L + 1);
  const suffixBackward = new Float64Array(L + 1);
  const forwardEfficiency = new Float64Array((L + 1) * K);
  const backwardEfficiency = new Float64Array((L + 1) * K);
  for (let l = L - 1; l >= 0; l--) {
    let f = Infinity;
    let b = Infinity;
    for (let k = 0; k < K; k++) {
      if (!allowed(l, k)) continue;
      f = Math.min(f, forwardMs[l * K + k]);
      b = Math.min(b, backwardMs[l * K + k]);
    }
    suffixForward[l] = suffixForward[l + 1] + f;
    suffixBackward[l] = suffixBackward[l + 1] + b;
    for (let k = 0; k < K; k++) {
      const fk = allowed(l, k) ? efficiency(f, forwardMs[l * K + k]) : 0;
      const bk = allowed(l, k) ? efficiency(b, backwardMs[l * K + k]) : 0;
      forwardEfficiency[l * K + k] = Math.max(forwardEfficiency[(l + 1) * K + k], fk);
      backwardEfficiency[l * K + k] = Math.max(backwardEfficiency[(l + 1) * K + k], bk);
    }
  }
  const cheapestPrice = Math.min(...types.filter((t) => t.count > 0).map((t) => t.pricePerHour));
  const efficiencyPerDollar = (e: number, k: number) => (types[k].pricePerHour > 0 ? e / types[k].pricePerHour : e * 1e300);
  // Per position, the types by work per dollar (best first), for the forward and the backward knapsack.
  const forwardOrder = new Int32Array((L + 1) * K);
  const backwardOrder = new Int32Array((L + 1) * K);
  for (let l = 0; l <= L; l++) {
    const byForward = types.map((_, k) => k).sort((a, b) =>
      efficiencyPerDollar(forwardEfficiency[l * K + b], b) - efficiencyPerDollar(forwardEfficiency[l * K + a], a) || a - b);
    const byBackward = types.map((_, k) => k).sort((a, b) =>
      efficiencyPerDollar(backwardEfficiency[l * K + b], b) - efficiencyPerDollar(backwardEfficiency[l * K + a], a) || a - b);
    forwardOrder.set(byForward, l * K);
    backwardOrder.set(byBackward, l * K);
  }
  // The heaviest single layers from each position on (at full speed): a stage holding one of them
  // has f at least its time on some type over that type's most replicas.
  const HEAVY = 3;
  const heavyForward = new Int32Array((L + 1) * HEAVY).fill(-1);
  const heavyBackward = new Int32Array((L + 1) * HEAVY).fill(-1);
  const minOf = (table: Float64Array, l: number) => {
    let least = Infinity;
    for (let k = 0; k < K; k++) if (allowed(l, k) && table[l * K + k] < least) least = table[l * K + k];
    return least;
  };
  const allowedForward = Float64Array.from(forwardMs, (t, cell) => (allowed(Math.floor(cell / K), cell % K) ? t : Infinity));
  const allowedBackward = Float64Array.from(backwardMs, (t, cell) => (allowed(Math.floor(cell / K), cell % K) ? t : Infinity));
  for (let l = L - 1; l >= 0; l--) {
    for (const [heavy, table] of [[heavyForward, forwardMs], [heavyBackward, backwardMs]] as const) {
      const candidates = [l];
      for (let h = 0; h < HEAVY; h++) if (heavy[(l + 1) * HEAVY + h] >= 0) candidates.push(heavy[(l + 1) * HEAVY + h]);
      candidates.sort((a, b) => minOf(table, b) - minOf(table, a) || a - b);
      for (let h = 0; h < HEAVY && h < candidates.length; h++) heavy[l * HEAVY + h] = candidates[h];
    }
  }
  const freeUnits = new Float64Array(K);
  // The relaxation may take a quarter of the time left (it pays off on long searches only).
  const relaxationShare = options.relaxationShare ?? 0.25;
  const relaxationDeadline = deadlineAt === Infinity ? Infinity : performance.now() + (deadlineAt - performance.now()) * relaxationShare;
  const relaxation = goal === 'price' || signal?.aborted || options.relaxation === false
    ? null
    : yield* relaxedTables(problem, M, budget, allowed, options.allowedTypes === undefined, relaxationDeadline, signal);

  /** Upper bound on the work rate (in fastest-type work) that `money` more dollars per hour buy: a fractional knapsack. */
  function capacity(efficiencyOf: Float64Array, order: Int32Array, next: number, money: number): number {
    const at = next * K;
    let total = 0;
    for (let i = 0; i < K; i++) {
      const k = order[at + i];
      const free = freeUnits[k];
      const e = efficiencyOf[at + k];
      if (free <= 0 || e === 0) continue;
      const price = types[k].pricePerHour;
      const affordable = price > 0 ? Math.min(free, money / price) : free;
      if (affordable <= 0) break;
      total += e * affordable;
      money -= affordable * price;
    }
    return total;
  }
  const mostReplicas = new Float64Array(K);
  /** Most replicas of each type one stage can have with `money` more dollars per hour (into mostReplicas). */
  function setMostReplicas(money: number): void {
    for (let k = 0; k < K; k++) {
      const price = types[k].pricePerHour;
      mostReplicas[k] = price > 0 ? Math.min(freeUnits[k], Math.floor(money / price + 1e-9)) : freeUnits[k];
    }
  }
  /** Work rate of the best single stage (after setMostReplicas). */
  function widestStage(efficiencyOf: Float64Array, next: number): number {
    let widest = 0;
    for (let k = 0; k < K; k++) {
      const rate = efficiencyOf[next * K + k] * mostReplicas[k];
      if (rate > widest) widest = rate;
    }
    return widest;
  }
  /** The least time the stage of the heaviest layers takes (after setMostReplicas). */
  function heavyStage(heavy: Int32Array, table: Float64Array, next: number): number {
    let worst = 0;
    for (let h = 0; h < HEAVY; h++) {
      const l = heavy[next * HEAVY + h];
      if (l < 0) break;
      let least = Infinity;
      for (let k = 0; k < K; k++) {
        const n = mostReplicas[k];
        const t = table[l * K + k]; // Infinity where not allowed
        if (n >= 1 && t / n < least) least = t / n;
      }
      if (least > worst) worst = least;
    }
    return worst;
  }

  const stepOf = (label: Label) => label.sumMs + (M - 1) * (label.maxForward + label.maxBackward) + label.maxAllReduce;
  const valueOf = (price: number, stepMs: number) =>
    goal === 'time' ? stepMs : goal === 'cost' ? (price * stepMs) / MS_PER_HOUR : price;

  /** A lower bound on the step of any completion of `label` that spends at most `money` more dollars per hour. */
  function stepBound(label: Label, next: number, money: number): number {
    const restForward = suffixForward[next];
    const restBackward = suffixBackward[next];
    const totalForward = capacity(forwardEfficiency, forwardOrder, next, money);
    const totalBackward = capacity(backwardEfficiency, backwardOrder, next, money);
    setMostReplicas(money);
    const widestForward = widestStage(forwardEfficiency, next);
    const widestBackward = widestStage(backwardEfficiency, next);
    // Each later stage takes its work / (units × efficiency); the bottleneck is at least the mean load.
    // No work left (every remaining fastest time is 0) costs nothing whatever the rate; work with no
    // rate to do it cannot be done (Infinity).
    const share = (work: number, rate: number) => (work > 0 ? work / rate : 0);
    const sumMs = label.sumMs + share(restForward, widestForward) + share(restBackward, widestBackward);
    const maxForward = Math.max(label.maxForward, share(restForward, totalForward), heavyStage(heavyForward, allowedForward, next));
    const maxBackward = Math.max(label.maxBackward, share(restBackward, totalBackward), heavyStage(heavyBackward, allowedBackward, next));
    const step = sumMs + (M - 1) * (maxForward + maxBackward) + label.maxAllReduce;
    const relaxed = relaxedStep(label, money);
    return step > relaxed ? step : relaxed;
  }

  /**
   * A lower bound on the step of every completion of `label`, whatever it spends: the label's sum,
   * plus the least sum of the rest whose stages each keep (M − 1)(f + b) + AR under a cap, plus
   * the larger of the cap's grid floor and the label's own (M − 1)(F + B) + A (see relaxedTables).
   */
  const relaxedByPrice = new Float64Array(relaxation ? relaxation.prices.length : 0);
  /** Fills relaxedByPrice for `label` (once per label; relaxedStep then costs a few operations per money). */
  function prepareRelaxed(label: Label, next: number): void {
    if (relaxation === null) return;
    const { caps, prices, sums } = relaxation;
    const own = (M - 1) * (label.maxForward + label.maxBackward) + label.maxAllReduce;
    const cell = next * (K + 1) + label.lastType + 1;
    const J = caps.length; // sums[j] for the cap caps[j]; sums[J] with no cap
    const stride = (L + 1) * (K + 1);
    for (let p = 0; p < prices.length; p++) {
      const at = p * (J + 1) * stride + cell;
      let best = Infinity;
      const least = sums[at + J * stride]; // no completion sums less
      for (let j = 0; j <= J; j++) {
        const floor = j === 0 ? 0 : caps[j - 1];
        if (floor > own && floor + least >= best) break;
        const value = sums[at + j * stride] + (floor > own ? floor : own);
        if (value < best) best = value;
      }
      relaxedByPrice[p] = best;
    }
  }
  function relaxedStep(label: Label, money: number): number {
    if (relaxation === null) return 0;
    const { prices } = relaxation;
    let bound = 0;
    for (let p = 0; p < prices.length; p++) {
      const value = relaxedByPrice[p] - prices[p] * money;
      if (value > bound) bound = value;
    }
    return (label.sumMs + bound) * (1 - 1e-11);
  }

  // The budget DP's tables bound the time of completions that stay within the budget.
  const completion = goal === 'time' && constrained && settings.objective === 'time' ? options.completion ?? null : null;
  /**
   * A lower bound on the step of every completion of `label` within the budget: a completion whose
   * largest stage term q lies in (caps[j − 1], caps[j]] sums at least tables[j] at the buckets the
   * money left allows, and has (M − 1)(F + B) + A ≥ max(caps[j − 1], the label's own).
   */
  function completionStep(label: Label, next: number): number {
    if (completion === null) return 0;
    const { caps, tables, prices, buckets: G, bucket } = completion;
    const money = budget - label.price;
    const g = G === 0 ? 0 : Math.min(G, Math.floor((money / bucket) * (1 + 1e-9)));
    if (!(g >= 0)) return Infinity;
    const cell = (next * (K + 1) + label.lastType + 1) * (G + 1) + g;
    const own = (M - 1) * (label.maxForward + label.maxBackward) + label.maxAllReduce;
    // The least sum any completion within the money left can have (with a price: minus what it gets back).
    const sumAt = (j: number) => {
      let most = -Infinity;
      for (let t = 0; t < tables[j].length; t++) {
        const value = prices[j][t] > 0 ? tables[j][t][cell] - prices[j][t] * money : tables[j][t][cell];
        if (value > most) most = value;
      }
      return most;
    };
    const least = sumAt(caps.length - 1); // no cap: no completion sums less
    let best = Infinity;
    let floor = 0;
    for (let j = 0; j < caps.length; j++) {
      const atLeast = floor > own ? floor : own;
      if (atLeast + least >= best) break;
      const value = sumAt(j) + atLeast;
      if (value < best) best = value;
      floor = caps[j];
    }
    // The DP sums in another order than the simulator: keep a hair below.
    return (label.sumMs + Math.max(0, best)) * (1 - 1e-9);
  }

  const GRID = 24;
  /** A lower bound on the goal over every completion of `label` (which ends before layer `next`). */
  function lowerBound(label: Label, next: number): number {
    if (next === L) return valueOf(label.price, stepOf(label));
    if (goal === 'price') return label.price + cheapestPrice;
    const dpBound = completionStep(label, next);
    if (dpBound >= incumbent) return dpBound;
    let least = Infinity; // the cheapest unit that can still run layer `next`
    let most = 0; // every free unit
    for (let k = 0; k < K; k++) {
      freeUnits[k] = types[k].count - label.used[k];
      if (freeUnits[k] <= 0) continue;
      most += freeUnits[k] * types[k].pricePerHour;
      if (allowed(next, k) && types[k].pricePerHour < least) least = types[k].pricePerHour;
    }
    const top = Math.min(most, budget - label.price);
    if (!(least <= top)) return Infinity;
    prepareRelaxed(label, next);
    const fastest = stepBound(label, next, top);
    if (fastest > deadline) return Infinity;
    if (goal === 'time') return fastest > dpBound ? fastest : dpBound;
    if (least === top) return valueOf(label.price + least, fastest);
    // cost: the completion spends some m in [least, top] more per hour; price grows with m, the step shrinks.
    // Over m in [m_i, m_i+1]: cost ≥ (price + m_i) × step bound at m_i+1. Intervals are tried from the
    // cheapest; once one is below the incumbent (the label survives anyway), the rest are bounded below
    // by (price + m_i) × fastest, which keeps the returned bound valid.
    const floor = ((label.price + least) * fastest) / MS_PER_HOUR;
    if (floor >= incumbent) return floor;
    let bound = ((label.price + top) * fastest) / MS_PER_HOUR;
    const lowest = least > 0 ? least : top / 1024;
    const ratio = Math.pow(top / lowest, 1 / GRID);
    let from = least;
    for (let i = 1; i <= GRID; i++) {
      const rest = ((label.price + from) * fastest) / MS_PER_HOUR; // bounds every interval from here on
      if (rest >= bound) break;
      if (bound < incumbent && incumbent < Infinity) return rest;
      const to = i === GRID ? top : lowest * Math.pow(ratio, i);
      const step = stepBound(label, next, to);
      if (step <= deadline) {
        const value = ((label.price + from) * step) / MS_PER_HOUR;
        if (value < bound) bound = value;
      }
      from = to;
    }
    return bound;
  }

  const dominates = (a: Label, b: Label): boolean => {
    if (a.sumMs > b.sumMs || a.maxForward > b.maxForward || a.maxBackward > b.maxBackward || a.maxAllReduce > b.maxAllReduce) return false;
    if (a.price > b.price) return false;
    for (let k = 0; k < K; k++) if (a.used[k] > b.used[k]) return false;
    return true;
  };

  // buckets[i * (K + 1) + lastType + 1]: labels covering layers 0..i-1.
  const buckets: Label[][] = Array.from({ length: (L + 1) * (K + 1) }, () => []);
  const root: Label = {
    sumMs: 0, maxForward: 0, maxBackward: 0, maxAllReduce: 0, price: 0, used: new Float64Array(K),
    lastType: -1, parent: null, first: -1, last: -1, replicas: 0, bound: 0,
  };
  buckets[0].push(root);
  let incumbent = options.upperBound ?? Infinity;
  let best: Label | null = null;
  const rootBound = lowerBound(root, 0);
  let labels = 0;
  let complete = beamWidth === Infinity;
  let sampledReplicas = false;
  let cutAt = -1; // the layer whose labels were being extended when the time limit or an abort cut the search
  let checks = 0;
  let extensions = 0;

  /** Files `label`; false when the label budget is spent (the label is dropped and the search must stop). */
  function insert(label: Label, next: number): boolean {
    const bucket = buckets[next * (K + 1) + label.lastType + 1];
    for (const other of bucket) if (dominates(other, label)) return true;
    if (labels >= maxLabels) return false;
    let kept = 0;
    for (let i = 0; i < bucket.length; i++) if (!dominates(label, bucket[i])) bucket[kept++] = bucket[i];
    bucket.length = kept;
    bucket.push(label);
    labels++;
    if (next === L && label.bound < incumbent) {
      incumbent = label.bound;
      best = label;
    }
    return true;
  }

  outer: for (let i = 0; i < L; i++) {
    options.onProgress?.({ evaluations: labels, seconds: (performance.now() - started) / 1000, bestObjective: incumbent, fraction: i / L });
    for (let prev = -1; prev < K; prev++) {
      let bucket = buckets[i * (K + 1) + prev + 1];
      if (bucket.length === 0) continue;
      if (bucket.length > beamWidth) {
        bucket.sort((a, b) => a.bound - b.bound);
        bucket = bucket.slice(0, beamWidth);
      }
      for (const from of bucket) {
        if (from.bound >= incumbent) continue;
        if (checks >= maxExpansions) {
          complete = false;
          cutAt = i;
          break outer;
        }
        if (++checks % 8 === 0) {
          const now = performance.now();
          if (now > deadlineAt || signal?.aborted) {
            complete = false;
            cutAt = i;
            break outer;
          }
          if (now >= nextYield) {
            yield;
            nextYield = performance.now() + YIELD_EVERY_MS;
          }
        }
        for (let k = 0; k < K; k++) {
          if (!allowed(i, k)) continue;
          const type = types[k];
          const free = type.count - from.used[k];
          const link = i > 0 ? linkMs(activationBytes[i - 1], types[prev].bandwidthBytesPerS, type.bandwidthBytesPerS) : 0;
          // What every stage from layer i on this type adds whatever its end and replicas: a floor that
          // only grows with n (its price and its all-reduce do), so once it cannot beat the incumbent
          // no larger n can.
          const floorSum = from.sumMs + (i > 0 ? link + link : 0);
          const floorMax = (M - 1) * (Math.max(from.maxForward, link) + Math.max(from.maxBackward, link));
          for (let n = 1; n <= free; n = n < DENSE_REPLICAS ? n + 1 : nextOnLadder(n, free)) {
            if (n > DENSE_REPLICAS) sampledReplicas = true;
            const price = from.price + n * type.pricePerHour;
            if (price > budget) break;
            const floorAllReduce = allReduceMs(n, paramBytes[i], type.bandwidthBytesPerS);
            const floorStep = floorSum + floorMax + (floorAllReduce > from.maxAllReduce ? floorAllReduce : from.maxAllReduce);
            if (valueOf(price, floorStep) >= incumbent || floorStep > deadline) break;
            let forward = 0;
            let backward = 0;
            let params = 0;
            let memory = 0;
            for (let j = i; j < L && allowed(j, k); j++) {
              // One label's extensions can be many on a long chain: the clock is read here too.
              if ((++extensions & 1023) === 0 && (performance.now() > deadlineAt || signal?.aborted)) {
                complete = false;
                cutAt = i;
                break outer;
              }
              forward += forwardMs[j * K + k];
              backward += backwardMs[j * K + k];
              params += paramBytes[j];
              memory += layerMemoryBytes(paramBytes[j], activationBytes[j], M, n);
              if (memory > type.memoryBytes) break; // only grows with j
              const f = forward / n;
              const b = backward / n;
              let sumMs = from.sumMs;
              let maxForward = from.maxForward;
              let maxBackward = from.maxBackward;
              if (i > 0) {
                sumMs += link + link;
                if (link > maxForward) maxForward = link;
                if (link > maxBackward) maxBackward = link;
              }
              sumMs += f + b;
              if (f > maxForward) maxForward = f;
              if (b > maxBackward) maxBackward = b;
              const allReduce = allReduceMs(n, params, type.bandwidthBytesPerS);
              const maxAllReduce = allReduce > from.maxAllReduce ? allReduce : from.maxAllReduce;
              const partialStep = sumMs + (M - 1) * (maxForward + maxBackward) + maxAllReduce;
              // Everything here only grows with j: once the partial placement is no better, stop.
              if (valueOf(price, partialStep) >= incumbent || partialStep > deadline) break;
              const used = from.used.slice();
              used[k] += n;
              const label: Label = {
                sumMs, maxForward, maxBackward, maxAllReduce, price, used, lastType: k, parent: from,
                first: i, last: j, replicas: n, bound: 0,
              };
              label.bound = lowerBound(label, j + 1);
              if (label.bound >= incumbent) continue;
              if (!insert(label, j + 1)) {
                complete = false;
                cutAt = i;
                break outer;
              }
            }
          }
        }
      }
      buckets[i * (K + 1) + prev + 1] = []; // done with it: free the memory
    }
  }
  if (sampledReplicas) complete = false;
  // Every placement either was found (no better than the incumbent), or descends from a label
  // pruned by its bound (no better than the incumbent), dominated by another, or still open when
  // the search was cut: the least of the incumbent and the open labels' bounds bounds the optimum.
  let coveredBound: number | undefined;
  if (beamWidth === Infinity && !sampledReplicas) {
    coveredBound = incumbent;
    if (cutAt >= 0) {
      for (let at = cutAt * (K + 1); at < buckets.length; at++) {
        for (const label of buckets[at]) if (label.bound < coveredBound) coveredBound = label.bound;
      }
      // Both bound the optimum; the relaxation's may be the better one when the search was cut early.
      if (rootBound > coveredBound) coveredBound = Math.min(rootBound, incumbent);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  if (best === null) return { placement: null, value: Infinity, complete, lowerBound: coveredBound, rootBound, labels, seconds };
  const placement: Placement = [];
  for (let label: Label | null = best; label && label.parent; label = label.parent) {
    placement.unshift({ type: label.lastType, replicas: label.replicas, first: label.first, last: label.last });
  }
  return { placement, value: incumbent, complete, lowerBound: coveredBound, rootBound, labels, seconds };
}

/** The next replica count to try above DENSE_REPLICAS: a geometric ladder that ends on the last count. */
function nextOnLadder(n: number, free: number): number {
  if (n >= free) return Infinity;
  return Math.min(free, Math.max(n + 1, Math.floor(n * REPLICA_LADDER)));
}

/**
 * The relaxation behind relaxedStep: for a grid of caps c, sums[c][i][prev] is the least
 * Σ (links + f + b) over the stages of layers i..L-1 (after a stage of type prev) when every
 * stage keeps q = (M − 1)(f + b) + AR ≤ c (a link: 2(M − 1)τ ≤ c), ignoring how many units the
 * stages use together (each may take up to the type's count, and what the budget alone allows).
 * Any completion whose largest q lies in (c_{j-1}, c_j] sums at least sums[c_j] and has
 * (M − 1)(F + B) + A ≥ max(c_{j-1}, the label's own), since (M − 1)(max f + max b) + max AR
 * ≥ q of every stage. Cached per problem (unmasked).
 */
interface Relaxation { caps: Float64Array; prices: Float64Array; sums: Float64Array }
const relaxationCache = new WeakMap<Problem, Map<string, Relaxation>>();
/** Per problem and key, the longest time a build was given and did not finish in. */
const relaxationGaveUp = new WeakMap<Problem, Map<string, number>>();
const RELAXATION_CAPS = 48;
const RELAXATION_PRICES = 6;

/** Most entries of the relaxation's table (8 bytes each); fewer caps on long chains, none below MIN_CAPS. */
const RELAXATION_MAX_ENTRIES = 2e7;
const MIN_CAPS = 8;

/**
 * Builds the tables, checking the clock and the signal as it goes: null when they cannot be built
 * in time (the bound is then weaker, never wrong).
 */
function* relaxedTables(
  problem: Problem, M: number, budget: number, allowed: (l: number, k: number) => boolean, cacheable: boolean,
  deadlineAt: number, signal: AbortSignal | undefined,
): Steps<Relaxation | null> {
  const key = `${M}/${budget}`;
  if (cacheable) {
    const hit = relaxationCache.get(problem)?.get(key);
    if (hit) return hit;
    // A build already cut short with at least this much time would be cut again.
    if ((relaxationGaveUp.get(problem)?.get(key) ?? -1) >= deadlineAt - performance.now()) return null;
  }
  const giveUp = () => {
    if (!cacheable || signal?.aborted) return null;
    let byKey = relaxationGaveUp.get(problem);
    if (!byKey) relaxationGaveUp.set(problem, (byKey = new Map()));
    byKey.set(key, Math.max(byKey.get(key) ?? 0, allowedMs));
    return null;
  };
  const allowedMs = deadlineAt - performance.now();
  let nextYield = performance.now() + YIELD_EVERY_MS;
  const { forwardMs, backwardMs, types } = problem;
  const L = problem.layers.length;
  const K = types.length;
  const W = M - 1;
  const paramBytes = problem.layers.map((layer) => layer.paramBytes);
  const activationBytes = problem.layers.map((layer) => layer.activationBytes);
  const most = types.map((t) => Math.max(0, t.pricePerHour > 0 ? Math.min(t.count, Math.floor(budget / t.pricePerHour + 1e-9)) : t.count));
  // Cap grid: geometric around the step of the whole chain on its fastest types, one unit.
  let total = 0;
  for (let l = 0; l < L; l++) {
    let fastest = Infinity;
    for (let k = 0; k < K; k++) if (allowed(l, k)) fastest = Math.min(fastest, forwardMs[l * K + k] + backwardMs[l * K + k]);
    if (Number.isFinite(fastest)) total += fastest;
  }
  const units = Math.max(1, types.reduce((sum, t) => sum + t.count, 0));
  const top = 4 * W * total + 1e-9;
  const bottom = (W * total) / (2 * units) + 1e-12; // no stage set beats the whole chain spread over every unit
  const stride = (L + 1) * (K + 1);
  const P = RELAXATION_PRICES;
  const J = Math.min(RELAXATION_CAPS, Math.floor(RELAXATION_MAX_ENTRIES / (P * stride)) - 1);
  if (J < MIN_CAPS) return null;
  const caps = new Float64Array(J);
  for (let j = 0; j < J; j++) caps[j] = bottom * Math.pow(top / bottom, j / (J - 1));
  // Prices of money in ms per ($/h): 0, then a geometric ladder around the whole chain's sum per dollar.
  const meanPrice = types.reduce((sum, t) => sum + t.count * t.pricePerHour, 0) / units;
  const scale = meanPrice > 0 ? total / meanPrice : 0;
  const priceCount = scale > 0 ? P : 1;
  const prices = new Float64Array(priceCount);
  for (let p = 1; p < priceCount; p++) prices[p] = scale * Math.pow(4, 3 - p);
  const sums = new Float64Array(priceCount * (J + 1) * stride);
  const stageBest = new Float64Array(K);
  for (let p = 0; p < priceCount; p++) for (let j = 0; j <= J; j++) {
    const cap = j < J ? caps[j] : Infinity;
    const perDollar = prices[p];
    const at = (p * (J + 1) + j) * stride;
    // sums[at + L * (K + 1) + *] = 0 already
    for (let i = L - 1; i >= 0; i--) {
      const now = performance.now();
      if (now > deadlineAt || signal?.aborted) return giveUp();
      if (now >= nextYield) {
        yield;
        nextYield = performance.now() + YIELD_EVERY_MS;
      }
      for (let k = 0; k < K; k++) {
        let bestHere = Infinity;
        if (allowed(i, k)) {
          const type = types[k];
          // Replica counts n..widest stand for every count between them (the ladder above DENSE_REPLICAS):
          // the least charge and all-reduce (at n) with the least times and memory (at widest) bound them all.
          for (let n = 1; n <= most[k]; n = n < DENSE_REPLICAS ? n + 1 : nextOnLadder(n, most[k])) {
            const widest = n < DENSE_REPLICAS ? n : Math.min(most[k], nextOnLadder(n, most[k]) - 1);
            const charge = perDollar * n * type.pricePerHour;
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
              const allReduce = allReduceMs(n, params, type.bandwidthBytesPerS);
              if (W * (f + b) + allReduce > cap) break; // only grows with e
              const value = f + b + charge + sums[at + (e + 1) * (K + 1) + k + 1];
              if (value < bestHere) bestHere = value;
            }
          }
        }
        stageBest[k] = bestHere;
      }
      for (let prev = -1; prev < K; prev++) {
        if ((i === 0) !== (prev === -1)) {
          sums[at + i * (K + 1) + prev + 1] = Infinity;
          continue;
        }
        let least = Infinity;
        for (let k = 0; k < K; k++) {
          if (stageBest[k] === Infinity) continue;
          let link = 0;
          if (i > 0) {
            link = linkMs(activationBytes[i - 1], types[prev].bandwidthBytesPerS, types[k].bandwidthBytesPerS);
            if (2 * W * link > cap) continue;
          }
          const value = link + link + stageBest[k];
          if (value < least) least = value;
        }
        sums[at + i * (K + 1) + prev + 1] = least;
      }
    }
  }
  const tables = { caps, prices, sums };
  if (cacheable) {
    let byKey = relaxationCache.get(problem);
    if (!byKey) relaxationCache.set(problem, (byKey = new Map()));
    byKey.set(key, tables);
  }
  return tables;
}

/** How much of a layer's fastest time one unit of a type achieves (1 = as fast as the fastest). */
function efficiency(fastestMs: number, ms: number): number {
  return ms > 0 ? fastestMs / ms : 1;
}

export interface ExactConfig {
  /**
   * Beam widths of the heuristic passes that find an incumbent, in order;
   * each pass prunes against the best found so far, so the wider ones are cheap.
   */
  warmStartBeams: number[];
  /** Stop the warm start after this many passes in a row without improvement. */
  warmStartPatience: number;
}

export const DEFAULT_EXACT_CONFIG: ExactConfig = { warmStartBeams: [1, 2, 4, 8, 16, 32, 64], warmStartPatience: 2 };

/** Upper bound that lets the exact pass re-find a placement of value `value` (so ties resolve the same way every run). */
const reFind = (value: number) => (Number.isFinite(value) ? value * (1 + 1e-12) + 1e-300 : Infinity);

/**
 * Beam passes of growing width, each pruned by the best value so far: a good
 * incumbent for the exact pass, deterministically.
 */
export function warmStart(
  problem: Problem, settings: Settings, config: ExactConfig = DEFAULT_EXACT_CONFIG, timeLimitS?: number,
  goalOptions: Pick<ExactOptions, 'goal' | 'constrained' | 'signal' | 'maxLabels'> = {},
): WarmStart {
  return runSync(warmStartSteps(problem, settings, config, timeLimitS, goalOptions));
}

interface WarmStart { placement: Placement | null; value: number; labels: number }

function* warmStartSteps(
  problem: Problem, settings: Settings, config: ExactConfig, timeLimitS: number | undefined,
  goalOptions: Pick<ExactOptions, 'goal' | 'constrained' | 'signal' | 'maxLabels' | 'completion'>,
): Steps<WarmStart> {
  const maxLabels = goalOptions.maxLabels ?? Infinity;
  const started = performance.now();
  let placement: Placement | null = null;
  let value = Infinity;
  let labels = 0;
  let idle = 0;
  for (const beamWidth of config.warmStartBeams) {
    const left = timeLimitS !== undefined ? timeLimitS - (performance.now() - started) / 1000 : undefined;
    if ((left !== undefined && left <= 0) || goalOptions.signal?.aborted || labels >= maxLabels) break;
    const pass = yield* exactSteps(problem, settings, { ...goalOptions, beamWidth, upperBound: reFind(value), timeLimitS: left, maxLabels: maxLabels - labels });
    labels += pass.labels;
    if (pass.placement && pass.value < value) {
      placement = pass.placement;
      value = pass.value;
      idle = 0;
    } else if (++idle >= config.warmStartPatience) break;
  }
  return { placement, value, labels };
}

/** The `exact` searcher: beam warm start, then the full DP. Proves optimality unless the time limit or an abort cuts it. */
export function createExactSearcher(config: Partial<ExactConfig> = {}): Searcher {
  const full: ExactConfig = { ...DEFAULT_EXACT_CONFIG, ...config };
  return {
    name: 'exact',
    search(problem: Problem, settings: Settings, options: SearchOptions): Promise<SearchResult> {
      return runAsync(exactSearchSteps(problem, settings, options, full));
    },
  };
}

function* exactSearchSteps(problem: Problem, settings: Settings, options: SearchOptions, config: ExactConfig): Steps<SearchResult> {
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const limitS = options.timeLimitS;
  const left = () => (limitS !== undefined ? Math.max(0, limitS - elapsed()) : undefined);
  /** Seconds left until `share` of the time limit has passed (undefined: no limit). */
  const until = (share: number) => (limitS !== undefined ? Math.max(0, limitS * share - elapsed()) : undefined);
  const at = (share: number) => (limitS !== undefined ? started + limitS * share * 1000 : Infinity);
  const trace: TracePoint[] = [];
  const { signal } = options;
  // The warm start may use half the time limit at most; its labels count against maxEvaluations.
  const maxLabels = options.maxEvaluations ?? Infinity;
  // Objective time: the budget DP first (a coarse run), for a bound, a placement to start from and
  // its tables, which bound every label's completion in the searches below. Its programs are not
  // labels, so it is left out under an evaluation budget.
  const useDp = settings.objective === 'time' && maxLabels === Infinity;
  let dp = useDp
    ? yield* budgetDpBoundSteps(problem, settings, { buckets: DP_FIRST_BUCKETS, keepTables: DP_KEEP_TABLES, deadlineAt: at(DP_FIRST_SHARE), signal })
    : null;
  let dpBound = dp?.bound ?? 0;
  if (dp?.placement) trace.push({ evaluations: 0, seconds: elapsed(), bestObjective: dp.placementStep });
  // When the relaxed placement behind the DP's bound breaks a type's count, the counts bind more
  // than the budget (no budget, or a loose one) and the DP's bound is weak: the beam passes then run
  // as they would without it (half the time) and the pass keeps its own relaxation, without the
  // DP's tables (a weak bound that costs a lookup per cap and label).
  const tables = dp?.tables;
  const dpLeads = dp?.placement != null && tables !== undefined && dp.countsHold === true;
  const warm = dpLeads
    ? { placement: null, value: Infinity, labels: 0 }
    : yield* warmStartSteps(problem, settings, config, until(0.5), { signal, maxLabels });
  if (dp?.placement && dp.placementStep < warm.value) [warm.placement, warm.value] = [dp.placement, dp.placementStep];
  let labels = warm.labels;
  if (warm.placement) trace.push({ evaluations: labels, seconds: elapsed(), bestObjective: warm.value });
  let best = { placement: warm.placement, value: warm.value };
  const pass = (timeLimitS: number | undefined) => exactSteps(problem, settings, {
    upperBound: reFind(best.value), timeLimitS, maxLabels: maxLabels - labels, onProgress: options.onProgress, signal,
    completion: dpLeads ? tables : undefined, relaxation: dpLeads ? false : undefined,
  });
  // The exact pass; when the clock cuts it (long chains), the DP with the all-reduce capped apart.
  const exact = yield* pass(dpLeads ? until(EXACT_FIRST_SHARE) : left());
  labels += exact.labels;
  if (exact.placement && exact.value < best.value) best = { placement: exact.placement, value: exact.value };
  // Bounds from a pass hold up to the hair reFind adds above the value it was given.
  let lowerBound = exact.lowerBound === undefined ? undefined : Math.min(exact.lowerBound, best.value);
  if (!exact.complete && useDp && (left() ?? 0) > 0 && !signal?.aborted) {
    // Tighter per program than the coarse run, and more programs: for the bound and for placements.
    const fine = yield* budgetDpScheduleSteps(problem, settings, {
      runs: DP_FINE_BUCKETS, separateAllReduce: true, upperBound: best.value, deadlineAt: at(1), signal,
    });
    dpBound = Math.max(dpBound, fine.bound);
    if (fine.placement && fine.placementStep < best.value) {
      best = { placement: fine.placement, value: fine.placementStep };
      trace.push({ evaluations: labels, seconds: elapsed(), bestObjective: best.value });
    }
  }
  const chosen = best.placement;
  if (exact.placement) trace.push({ evaluations: labels, seconds: elapsed(), bestObjective: best.value });
  // The budget DP's bound holds whatever cut the search; it cannot exceed a feasible value.
  if (dpBound > (lowerBound ?? 0)) lowerBound = Math.min(dpBound, best.value);
  const provenOptimal = exact.complete || (lowerBound !== undefined && lowerBound >= best.value);
  if (chosen) {
    const sim = new Simulator(problem, settings);
    const objective = sim.scorePlacement(chosen);
    return {
      method: 'exact', placement: chosen, objective, feasible: sim.feasible, evaluations: labels,
      seconds: elapsed(), trace, provenOptimal, lowerBound,
    };
  }
  // Nothing satisfies the constraints: hand back the least violating placement we can name
  // (searched for within what is left of the time limit).
  const fallback = yield* leastViolatingSteps(problem, settings, Math.min(RELAXED_TIME_LIMIT_S, left() ?? Infinity), signal);
  const sim = new Simulator(problem, settings);
  const objective = sim.scorePlacement(fallback);
  return {
    method: 'exact', placement: fallback, objective, feasible: false, evaluations: labels,
    seconds: elapsed(), trace, provenOptimal: exact.complete, lowerBound,
  };
}

export const exactSearcher: Searcher = createExactSearcher();

/**
 * The exact searcher's use of the budget DP (objective time, any chain): a coarse run first (money
 * in DP_FIRST_BUCKETS buckets, at most DP_FIRST_SHARE of the time limit); when it leads (its
 * bound's relaxed placement keeps the counts), its tables bound the labels; when the exact pass
 * is still open at EXACT_FIRST_SHARE of the limit (long chains), runs with the all-reduce capped
 * apart (money in DP_FINE_BUCKETS buckets) take the rest (at 1,000 layers × 8 types they, not a
 * second pass, close the gap: 2.7% with all the rest, 4.6–6.6% with a second pass after 85%).
 */
const DP_FIRST_BUCKETS = 100;
const DP_FIRST_SHARE = 0.3;
const EXACT_FIRST_SHARE = 0.4;
const DP_FINE_BUCKETS = [100, 400];
/** Numbers of the DP tables kept for the searches (8 bytes each: 160 MB). */
const DP_KEEP_TABLES = 2e7;

/** How long the helpers below may search for the loosest workable constraint. */
const RELAXED_TIME_LIMIT_S = 30;

interface Relaxed { placement: Placement | null; proven: boolean }

/**
 * The placement that breaks only the budget (or deadline), by the least:
 * least price (objective time) or least step (objective cost) over every
 * placement that fits memory and counts. `proven` is false when the time
 * limit cut the search (the value is then the best found).
 */
function* relaxedOptimumSteps(problem: Problem, settings: Settings, timeLimitS: number, signal?: AbortSignal): Steps<Relaxed> {
  // The searcher's fallback and the CLI's "smallest budget" line both need it: search once.
  const key = `${settings.objective} ${settings.microBatches}`;
  const cached = relaxedCache.get(problem)?.get(key);
  if (cached && (cached.proven || cached.timeLimitS >= timeLimitS)) return cached;
  const goalOptions = { goal: (settings.objective === 'time' ? 'price' : 'time') as ExactGoal, constrained: false, signal };
  const started = performance.now();
  const warm = yield* warmStartSteps(problem, settings, DEFAULT_EXACT_CONFIG, timeLimitS / 2, goalOptions);
  const exact = yield* exactSteps(problem, settings, {
    ...goalOptions,
    upperBound: reFind(warm.value),
    timeLimitS: Math.max(0, timeLimitS - (performance.now() - started) / 1000),
  });
  const result = { placement: exact.placement ?? warm.placement, proven: exact.complete, timeLimitS };
  if (!signal?.aborted) {
    if (!relaxedCache.has(problem)) relaxedCache.set(problem, new Map());
    relaxedCache.get(problem)!.set(key, result);
  }
  return result;
}

const relaxedCache = new WeakMap<Problem, Map<string, Relaxed & { timeLimitS: number }>>();

/**
 * When no placement is feasible: the one that breaks only the budget (or
 * deadline) by the least, when memory and counts can be met at all; else
 * every layer on its roomiest runnable type.
 */
export function leastViolatingPlacement(problem: Problem, settings: Settings, timeLimitS = RELAXED_TIME_LIMIT_S): Placement {
  return runSync(leastViolatingSteps(problem, settings, timeLimitS));
}

function* leastViolatingSteps(problem: Problem, settings: Settings, timeLimitS: number, signal?: AbortSignal): Steps<Placement> {
  const relaxed = yield* relaxedOptimumSteps(problem, settings, timeLimitS, signal);
  if (relaxed.placement) return relaxed.placement;
  const K = problem.types.length;
  const assignment = problem.layers.map((_, l) => {
    let best = -1;
    for (let k = 0; k < K; k++) {
      if (Number.isNaN(problem.forwardMs[l * K + k])) continue;
      if (best < 0 || problem.types[k].memoryBytes > problem.types[best].memoryBytes) best = k;
    }
    return best;
  });
  const placement: Placement = [];
  assignment.forEach((type, l) => {
    const last = placement[placement.length - 1];
    if (last && last.type === type) last.last = l;
    else placement.push({ type, replicas: 1, first: l, last: l });
  });
  return placement;
}

/**
 * The loosest constraint that would make some placement feasible: the least
 * budget (objective time) or the least deadline (objective cost) over every
 * placement that fits memory and counts; value null when none fits even then.
 * When the search is cut by its time limit (default 30 s) or `signal`, the
 * value is an upper bound on the least one (a constraint that surely works),
 * and `proven` says so.
 */
export function smallestFeasibleConstraintWithProof(
  problem: Problem, settings: Settings, timeLimitS = RELAXED_TIME_LIMIT_S,
): LoosestConstraint {
  return describeRelaxed(problem, settings, runSync(relaxedOptimumSteps(problem, settings, timeLimitS)));
}

/** As smallestFeasibleConstraintWithProof, yielding to the event loop so `signal` can stop it. */
export async function smallestFeasibleConstraintAsync(
  problem: Problem, settings: Settings, timeLimitS = RELAXED_TIME_LIMIT_S, signal?: AbortSignal,
): Promise<LoosestConstraint> {
  return describeRelaxed(problem, settings, await runAsync(relaxedOptimumSteps(problem, settings, timeLimitS, signal)));
}

/** value null: no placement fits memory and counts (proven: the search covered them all; else none was found in time). */
export interface LoosestConstraint { value: number | null; proven: boolean }

function describeRelaxed(problem: Problem, settings: Settings, relaxed: Relaxed): LoosestConstraint {
  if (!relaxed.placement) return { value: null, proven: relaxed.proven };
  const sim = new Simulator(problem, settings);
  sim.scorePlacement(relaxed.placement);
  return { value: settings.objective === 'time' ? sim.pricePerHour : sim.stepMs, proven: relaxed.proven };
}

export function smallestFeasibleConstraint(problem: Problem, settings: Settings): number | null {
  return smallestFeasibleConstraintWithProof(problem, settings).value;
}
