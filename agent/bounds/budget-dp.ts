/**
 * The budget DP bound: a lower bound on the step (objective `time`) of every
 * feasible placement, with the budget kept as a resource of a dynamic
 * program over the chain instead of priced (a price lets a bound mix a
 * placement that overspends with one that underspends; the DP cannot).
 *
 * Any placement has step = Σ (f + b + links) + (M − 1)(max f + max b) + max AR
 * ≥ Σ (f + b + links) + X + Y, with X = max over stages of (M − 1)(f + b)
 * (a link counts as a stage with f = b = τ) and Y = max AR. For caps
 * (x, y), S(x, y) = the least Σ (f + b + links) over placements whose stages
 * all keep (M − 1)(f + b) ≤ x and AR ≤ y, fit memory, take at most count_k
 * units each, and spend at most the budget together. S only grows as the
 * caps shrink. So a placement with X in (a, x] and Y in (c, y] has step
 * > a + c + S(x, y), and the least of that over boxes that tile the plane is
 * a bound. The box that sets the least is split in two, and again, while
 * time lasts: the bound only grows.
 *
 * Money is counted in G buckets of budget / G, each stage's price rounded
 * down, so every placement within the budget stays within G buckets (sound;
 * a little loose). Per-type unit counts are kept per stage only. Cost of one
 * S: O(layers × types × replicas × stage length × G).
 */
import type { Placement, Problem, Settings } from '../../env/problem.js';
import { allReduceMs, layerMemoryBytes, linkMs } from '../../env/stage-cost.js';
import { Simulator } from '../../env/simulate.js';
import { runSync, type Steps, YIELD_EVERY_MS } from '../exact/steps.js';

export interface BudgetDpOptions {
  /** Stop by then (performance.now() milliseconds). */
  deadlineAt?: number;
  signal?: AbortSignal;
  /** A known feasible step: boxes whose value reaches it need no splitting (default Infinity). */
  upperBound?: number;
  /** Money buckets (default 100; 0 when the budget is unlimited). */
  buckets?: number;
  /** Stages by sliding windows (default true; false: enumerated one by one, the reference the tests compare with). */
  windows?: boolean;
  /** Also price the money at its slope for every cap (default true; see pricedSum). */
  priced?: boolean;
  /** budgetDpSchedule: the bucket counts of its runs (default SCHEDULE_BUCKETS). */
  runs?: number[];
  /** Keep X and Y apart (default false: AR folded into X, one cap; the split converges slowly). */
  separateAllReduce?: boolean;
  /** Caps (multiples of the bound's) at which placements are read back; [] for none. */
  placementCaps?: number[];
  /** Stop splitting boxes narrower than this, relative to their cap (default 1e-4). */
  tolerance?: number;
  /** A cap near where the bound was set before (a coarser run's): the first caps are put around it. */
  capHint?: number;
  /**
   * Keep the programs' tables (at most this many numbers in all) as completion bounds for a
   * search over partial placements (CompletionTables); default 0: none kept.
   */
  keepTables?: number;
}

/**
 * The tables of one run, kept for the exact searcher: tables[j][(i × (K + 1) + prev + 1) × (G + 1) + g]
 * is the least Σ (f + b + links) of layers i.. (after a stage of type prev, -1 for none) over
 * placements whose stages each keep (M − 1)(f + b) + AR ≤ caps[j] (a link 2(M − 1)τ ≤ caps[j])
 * and spend at most g buckets (money rounded down). caps ascend and end at Infinity, so a
 * completion whose largest stage term lies in (caps[j − 1], caps[j]] sums at least tables[j].
 */
export interface CompletionTables {
  caps: number[];
  /** Per cap, its tables (each a valid bound: the largest counts) and the price each paid per dollar per hour (take back price × the money left). */
  tables: Float64Array[][];
  prices: number[][];
  /** Buckets (0: no budget, one cell). */
  buckets: number;
  /** Dollars per hour of one bucket (Infinity without a budget). */
  bucket: number;
}

export interface BudgetDpBound {
  /** ≤ the step of every feasible placement (Infinity: no placement is feasible); 0 when not applicable. */
  bound: number;
  /** Dynamic programs solved. */
  programs: number;
  /** A feasible placement found on the way (the program with money rounded up, near the bound's caps); null when none. */
  placement: Placement | null;
  /** Its step (Infinity when none). */
  placementStep: number;
  /** The cap of the box that set the bound (a hint for a finer run). */
  cap?: number;
  /**
   * Whether the relaxed placement behind the bound (no prices) keeps within every type's count:
   * false says the counts, which the DP only limits per stage, bind more than the budget, and the
   * bound is weak (undefined when not known).
   */
  countsHold?: boolean;
  /** The run's tables when asked for (keepTables) and it had one with no cap at least. */
  tables?: CompletionTables;
}

/** Bucket counts of the runs of budgetDpSchedule, coarse to fine. */
export const SCHEDULE_BUCKETS = [100, 400, 1600];

/**
 * Runs of budgetDpBound with finer and finer money (each around the caps the
 * last one found) while time lasts: the largest bound and the best placement.
 * Unlimited budget: one run (money plays no part).
 */
export function* budgetDpScheduleSteps(problem: Problem, settings: Settings, options: BudgetDpOptions = {}): Steps<BudgetDpBound> {
  let best: BudgetDpBound = { bound: 0, programs: 0, placement: null, placementStep: Infinity };
  const runs = Number.isFinite(settings.budget) ? options.buckets !== undefined ? [options.buckets] : options.runs ?? SCHEDULE_BUCKETS : [1];
  let hint = options.capHint;
  let programs = 0;
  for (const [index, buckets] of runs.entries()) {
    if (performance.now() > (options.deadlineAt ?? Infinity) || options.signal?.aborted) break;
    const run = yield* budgetDpBoundSteps(problem, settings, {
      ...options, buckets, capHint: hint, tolerance: index + 1 < runs.length ? 1e-3 : options.tolerance, upperBound: Math.min(options.upperBound ?? Infinity, best.placementStep),
    });
    programs += run.programs;
    if (run.bound > best.bound) best = { ...best, bound: run.bound, cap: run.cap, tables: run.tables ?? best.tables };
    if (run.placementStep < best.placementStep) best = { ...best, placement: run.placement, placementStep: run.placementStep };
    if (run.cap !== undefined && run.cap < Infinity) hint = run.cap;
    if (best.bound === Infinity || best.bound >= best.placementStep * (1 - 1e-9)) break; // nothing left to close
  }
  return { ...best, programs };
}

export function budgetDpSchedule(problem: Problem, settings: Settings, options: BudgetDpOptions = {}): BudgetDpBound {
  return runSync(budgetDpScheduleSteps(problem, settings, options));
}

/** Caps, as multiples of the one that sets the bound, at which placements are read back. */
const PLACEMENT_CAPS = [1, 1.02, 1.05, 1.1, 1.2, 1.4, 1.7, 2.2, Infinity];

/** Money buckets: 200 keeps the rounding loss small on the scaling sweep's problems (100 → 200 → 400: 29,245 → 34,590 → 34,590 ms at 300 layers × 4 types). */
export const DEFAULT_BUCKETS = 200;

/** Replica counts above this are grouped on a ladder (as in the exact searcher). */
const DENSE = 256;
const LADDER = 1.25;
/** Numbers in the sliding windows' queues at most (4 bytes each); beyond, stages are enumerated one by one. */
const MAX_WINDOW_CELLS = 5e7;
/** Dynamic programs of one run at most (each split of a box costs one). */
const MAX_PROGRAMS = 400;
/** Float slack on the caps, memory and money: the relaxation admits a hair more, never less. */
const SLACK = 1e-9;

export function budgetDpBound(problem: Problem, settings: Settings, options: BudgetDpOptions = {}): BudgetDpBound {
  return runSync(budgetDpBoundSteps(problem, settings, options));
}

export function* budgetDpBoundSteps(problem: Problem, settings: Settings, options: BudgetDpOptions = {}): Steps<BudgetDpBound> {
  if (settings.objective !== 'time') return { bound: 0, programs: 0, placement: null, placementStep: Infinity };
  const deadlineAt = options.deadlineAt ?? Infinity;
  const signal = options.signal;
  const upper = options.upperBound ?? Infinity;
  const separate = options.separateAllReduce ?? false;
  const { types, forwardMs, backwardMs } = problem;
  const L = problem.layers.length;
  const K = types.length;
  const M = settings.microBatches;
  const W = M - 1;
  const budget = settings.budget;
  const G = Number.isFinite(budget) && budget > 0 ? Math.max(1, Math.floor(options.buckets ?? DEFAULT_BUCKETS)) : 0;
  const bucket = G > 0 ? budget / G : Infinity;
  const paramBytes = problem.layers.map((layer) => layer.paramBytes);
  const activationBytes = problem.layers.map((layer) => layer.activationBytes);
  const allowed = (l: number, k: number) => !Number.isNaN(forwardMs[l * K + k]);
  // Buckets of n units of type k (rounded down); Infinity when over the budget.
  // Rounded down for the bound (every placement within the budget stays within G buckets); rounded
  // up when looking for a placement (every path within G buckets is within the budget).
  let roundUp = false;
  const costOf = (n: number, k: number) => {
    if (G === 0) return 0;
    const x = (n * types[k].pricePerHour) / bucket;
    if (roundUp) return x > G ? Infinity : Math.ceil(x * (1 + SLACK));
    return x > G * (1 + SLACK) ? Infinity : Math.max(0, Math.floor(x * (1 - SLACK)));
  };
  let nextYield = performance.now() + YIELD_EVERY_MS;
  let programs = 0;
  let outOfTime = false;
  const G1 = G + 1;
  const stride = K + 1;
  const dist = new Float64Array((L + 1) * stride * G1);
  const stageBest = new Float64Array(K * G1);
  // The choices behind dist, kept for the last program (to read back its placement).
  const stageN = new Float64Array(K * G1);
  const stageEnd = new Int32Array(K * G1);
  const chosenType = new Int32Array((L + 1) * stride * G1);
  const chosenN = new Float64Array((L + 1) * K * G1);
  const chosenEnd = new Int32Array((L + 1) * K * G1);
  const kept: { cap: number; table: Float64Array; price: number }[] = [];
  const counts = Float64Array.from(types, (t) => t.count);
  let keepLeft = options.keepTables ?? 0;

  // Stages by sliding windows (see slideStages): for a type k and a replica count n, the stages
  // that may start at layer i end at e in [i, last(i)], and last(i) only falls as i falls (a
  // stage that breaks a cap or memory breaks it with one more layer in front). The least of
  // "time of the layers up to e + dist after e" over that window is kept per money left in a
  // monotone queue: O(1) per (layer, type, count, money) instead of O(stage length).
  const dense = options.windows ?? true;
  const pairsMost = dense ? types.reduce((sum, t) => sum + (t.count >= 1 ? 1 + countLeft(1, t.count) : 0), 0) : 0;
  const windows = dense && pairsMost * G1 * (L + 1) <= MAX_WINDOW_CELLS ? {
    // Prefix sums per type (f + b), and of params and activations.
    work: new Float64Array(K * (L + 1)),
    params: new Float64Array(L + 1),
    activations: new Float64Array(L + 1),
    /** Last layer of the run of layers type k can run that holds layer l (−1 where it cannot). */
    runEnd: Int32Array.from({ length: K * L }, () => -1),
    queue: new Int32Array(pairsMost * G1 * (L + 1)),
    front: new Int32Array(pairsMost * G1),
    back: new Int32Array(pairsMost * G1),
    last: new Int32Array(pairsMost),
  } : null;
  if (windows) {
    for (let l = 0; l < L; l++) {
      windows.params[l + 1] = windows.params[l] + paramBytes[l];
      windows.activations[l + 1] = windows.activations[l] + activationBytes[l];
      for (let k = 0; k < K; k++) {
        const t = allowed(l, k) ? forwardMs[l * K + k] + backwardMs[l * K + k] : 0;
        windows.work[k * (L + 1) + l + 1] = windows.work[k * (L + 1) + l] + t;
      }
    }
    for (let k = 0; k < K; k++) {
      for (let l = L - 1; l >= 0; l--) {
        if (allowed(l, k)) windows.runEnd[k * L + l] = l + 1 < L && allowed(l + 1, k) ? windows.runEnd[k * L + l + 1] : l;
      }
    }
  }

  /**
   * stageBest at layer i (dist after i already final) by the sliding windows: per (k, n) pair, a
   * queue per money g of stage ends e, oldest (largest e) first, values strictly rising towards
   * the newest, so the least is the oldest. Prefix differences lose a little to rounding: every
   * stage time is taken a hair low and every cap and memory test admits a hair more (a bound
   * must never be above the true one).
   */
  function slideStages(i: number, x: number, y: number, price: number): void {
    const w = windows!;
    const { work, params, activations, runEnd, queue, front, back, last } = w;
    const C = L + 1;
    let pair = 0;
    for (let k = 0; k < K; k++) {
      const type = types[k];
      const most = type.count;
      const room = type.memoryBytes * (1 + SLACK);
      const base = k * (L + 1);
      const totalWork = work[base + L];
      const end = runEnd[k * L + i];
      for (let n = 1; n <= most; n = n < DENSE ? n + 1 : nextOnLadder(n, most), pair++) {
        const widest = n < DENSE ? n : Math.min(most, nextOnLadder(n, most) - 1);
        const c = costOf(n, k);
        const queues = pair * G1;
        if (end < 0 || c === Infinity) {
          // Layer i cannot run on k (or this many units are never affordable): no window reaches past it.
          for (let g = 0; g <= G; g++) front[queues + g] = back[queues + g];
          last[pair] = i - 1;
          if (c === Infinity) {
            pair += 1 + countLeft(n, most); // the larger counts cost more still
            break;
          }
          continue;
        }
        // The window's end: start from the last one (or the run's end after a break) and pull it in.
        let e = last[pair] < i ? end : Math.min(last[pair], end);
        // Prefix sums carry up to about L roundings of their largest value.
        const slackWork = totalWork * (L + 8) * 4e-16;
        const slackBytes = (params[L] + activations[L]) * (L + 8) * 4e-16 * (4 + M);
        for (; e >= i; e--) {
          const memory = 4 * (params[e + 1] - params[i]) + (M * (activations[e + 1] - activations[i])) / widest;
          if (memory > room + slackBytes) continue;
          const fb = Math.max(0, work[base + e + 1] - work[base + i] - slackWork) / widest;
          const allReduce = allReduceMs(n, Math.max(0, params[e + 1] - params[i] - params[L] * (L + 8) * 4e-16), type.bandwidthBytesPerS);
          if (separate ? W * fb <= x && allReduce <= y : W * fb + allReduce <= x) break;
        }
        last[pair] = e;
        const paid = price * n * type.pricePerHour;
        const into = k * G1;
        const lead = work[base + i] / widest + slackWork / widest;
        const startAt = ((i + 1) * stride + k + 1) * G1;
        for (let g = 0; g <= G; g++) {
          const q = queues + g;
          const slots = q * C;
          let f = front[q];
          let b = back[q];
          if (g < c) {
            front[q] = b;
            continue;
          }
          while (f < b && queue[slots + f] > e) f++;
          if (e >= i) {
            const mine = work[base + i + 1] / widest + dist[startAt + g - c];
            while (b > f) {
              const other = queue[slots + b - 1];
              if (work[base + other + 1] / widest + dist[((other + 1) * stride + k + 1) * G1 + g - c] < mine) break;
              b--;
            }
            queue[slots + b++] = i;
          }
          front[q] = f;
          back[q] = b;
          if (f < b) {
            const best = queue[slots + f];
            const value = work[base + best + 1] / widest - lead + paid + dist[((best + 1) * stride + k + 1) * G1 + g - c];
            if (value < stageBest[into + g]) {
              stageBest[into + g] = value;
              stageN[into + g] = n;
              stageEnd[into + g] = best;
            }
          }
        }
      }
    }
  }

  /**
   * S(x, y) over the whole chain (null: out of time). dist[(i, prev, g)]: least sum of layers i..
   * with g buckets left, each stage also paying `price` per dollar per hour it spends (a Lagrangian
   * price on the budget: a placement within the budget gets back at least price × its money, so
   * dist[(0, root, G)] − price × budget is still ≤ its sum; it takes back what rounding the money
   * down let the relaxed placements overspend).
   */
  function* leastSum(capX: number, capY: number, price = 0): Steps<number | null> {
    programs++;
    const x = capX * (1 + SLACK);
    const y = capY * (1 + SLACK);
    dist.fill(Infinity);
    for (let at = L * stride * G1; at < dist.length; at++) dist[at] = 0;
    if (windows) {
      windows.front.fill(0);
      windows.back.fill(0);
      windows.last.fill(-1);
    }
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
      stageBest.fill(Infinity);
      if (windows) slideStages(i, x, y, price);
      else {
        for (let k = 0; k < K; k++) {
          if (!allowed(i, k)) continue;
          const type = types[k];
          const most = type.count;
          const room = type.memoryBytes * (1 + SLACK);
          for (let n = 1; n <= most; n = n < DENSE ? n + 1 : nextOnLadder(n, most)) {
            // n..widest stand for every count between them: the least money and all-reduce (at n),
            // the least times and memory (at widest) bound them all.
            const widest = n < DENSE ? n : Math.min(most, nextOnLadder(n, most) - 1);
            const c = costOf(n, k);
            if (c === Infinity) break;
            const paid = price * n * type.pricePerHour;
            if (allReduceMs(n, paramBytes[i], type.bandwidthBytesPerS) > y && n > 1) break; // grows with n
            let forward = 0;
            let backward = 0;
            let params = 0;
            let memory = 0;
            for (let e = i; e < L && allowed(e, k); e++) {
              forward += forwardMs[e * K + k];
              backward += backwardMs[e * K + k];
              params += paramBytes[e];
              memory += layerMemoryBytes(paramBytes[e], activationBytes[e], M, widest);
              if (memory > room) break; // all of these only grow with e
              const fb = forward / widest + backward / widest;
              const allReduce = allReduceMs(n, params, type.bandwidthBytesPerS);
              if (separate ? W * fb > x || allReduce > y : W * fb + allReduce > x) break;
              const from = ((e + 1) * stride + k + 1) * G1;
              const into = k * G1;
              for (let g = c; g <= G; g++) {
                const value = fb + paid + dist[from + g - c];
                if (value < stageBest[into + g]) {
                  stageBest[into + g] = value;
                  stageN[into + g] = n;
                  stageEnd[into + g] = e;
                }
              }
            }
          }
        }
      }
      chosenN.set(stageN, i * K * G1);
      chosenEnd.set(stageEnd, i * K * G1);
      for (let prev = -1; prev < K; prev++) {
        if ((i === 0) !== (prev === -1)) continue;
        const at = (i * stride + prev + 1) * G1;
        for (let k = 0; k < K; k++) {
          let link = 0;
          if (i > 0) {
            link = linkMs(activationBytes[i - 1], types[prev].bandwidthBytesPerS, types[k].bandwidthBytesPerS);
            if (2 * W * link > x) continue;
          }
          const into = k * G1;
          for (let g = 0; g <= G; g++) {
            const value = link + link + stageBest[into + g];
            if (value < dist[at + g]) {
              dist[at + g] = value;
              chosenType[at + g] = k;
            }
          }
        }
      }
    }
    if (!roundUp && keepLeft >= dist.length && !separate) {
      kept.push({ cap: capX, table: dist.slice(), price });
      keepLeft -= dist.length;
    }
    return price > 0 ? dist[G] - price * budget : dist[G]; // (0, root, all buckets)
  }

  /**
   * The larger of S at no price and S at the price money is worth there: the slope of the first
   * program's least sum over the buckets near all of them (what a little less money costs).
   */
  function* pricedSum(capX: number, capY: number): Steps<number | null> {
    const plain = yield* leastSum(capX, capY);
    if (plain === null || plain === Infinity) return plain;
    let best = plain;
    let money = 0;
    if (G >= 2 && (options.priced ?? true)) {
      offer();
      const step = Math.max(1, Math.round(G / 50));
      const less = dist[G - step];
      if (less < Infinity && less > plain) {
        money = (less - plain) / (step * bucket);
        const priced = yield* leastSum(capX, capY, money);
        if (priced === null) return best;
        best = Math.max(best, priced);
      }
    }
    return best;
  }

  /** The placement behind the last program's S (null when it had none). */
  function lastPlacement(): Placement | null {
    if (!(dist[G] < Infinity)) return null;
    const placement: Placement = [];
    for (let i = 0, prev = -1, g = G; i < L;) {
      const k = chosenType[(i * stride + prev + 1) * G1 + g];
      const n = chosenN[(i * K + k) * G1 + g];
      const e = chosenEnd[(i * K + k) * G1 + g];
      placement.push({ type: k, replicas: n, first: i, last: e });
      g -= costOf(n, k);
      [i, prev] = [e + 1, k];
    }
    return placement;
  }

  // Scales of the caps: X up to the whole chain on one unit of its slowest type; Y up to the largest all-reduce.
  let slowest = 0;
  let fastest = 0;
  let largestAllReduce = 0;
  let totalParams = 0;
  for (let l = 0; l < L; l++) {
    let least = Infinity;
    let most = 0;
    for (let k = 0; k < K; k++) {
      if (!allowed(l, k)) continue;
      const g = forwardMs[l * K + k] + backwardMs[l * K + k];
      least = Math.min(least, g);
      most = Math.max(most, g);
    }
    if (least === Infinity) return { bound: Infinity, programs, placement: null, placementStep: Infinity };
    fastest += least;
    slowest += most;
    totalParams += paramBytes[l];
  }
  for (const t of types) if (t.count > 1) largestAllReduce = Math.max(largestAllReduce, allReduceMs(t.count, totalParams, t.bandwidthBytesPerS));
  // Every program's own placement is scored too (money rounded down, it may break the budget).
  let placement: Placement | null = null;
  let placementStep = Infinity;
  const sim = new Simulator(problem, settings);
  const offer = () => {
    const candidate = lastPlacement();
    if (!candidate) return;
    const step = sim.scorePlacement(candidate);
    if (sim.feasible && step < placementStep) [placement, placementStep] = [candidate, step];
  };
  interface Box { x0: number; x1: number; y0: number; y1: number; sum: number }
  const valueOf = (box: Box) => (box.sum === Infinity ? Infinity : box.x0 + box.y0 + Math.max(0, box.sum));
  const grid = (bottom: number, top: number, n: number) => {
    const caps = [0];
    if (top > 0) for (let j = 0; j < n; j++) caps.push(bottom * Math.pow(top / bottom, j / Math.max(1, n - 1)));
    caps.push(Infinity);
    return caps;
  };
  let linkMost = 0;
  for (let l = 0; l + 1 < L; l++) for (const a of types) for (const b of types) {
    linkMost = Math.max(linkMost, linkMs(activationBytes[l], a.bandwidthBytesPerS, b.bandwidthBytesPerS));
  }
  const topX = Math.max(W * slowest, 2 * W * linkMost, 1e-12);
  // Below this a cap is no cap: the least positive time in the chain, relative to the whole.
  const smallest = Math.max(fastest * 1e-9, 1e-12);
  const hint = options.capHint;
  const xs = hint !== undefined && hint > 0 && hint < Infinity
    ? [0, ...[0.25, 0.6, 0.85, 0.95, 1, 1.05, 1.15, 1.4, 2, 4].map((f) => hint * f), Infinity]
    : grid(Math.max(topX * 1e-6, W * fastest / Math.max(1, L)), topX, 8);
  const ys = separate && largestAllReduce > 0 ? grid(largestAllReduce * 1e-3, largestAllReduce, 4) : [0, Infinity];
  const boxes: Box[] = [];
  // Largest caps first: S there is a floor for every smaller box's S.
  const sums = new Map<string, number>();
  for (let a = xs.length - 1; a >= 1; a--) {
    for (let b = ys.length - 1; b >= 1; b--) {
      let sum = -Infinity;
      if (!outOfTime) sum = (yield* pricedSum(xs[a], ys[b])) ?? -Infinity;
      const above = Math.max(sums.get(`${a + 1},${b}`) ?? -Infinity, sums.get(`${a},${b + 1}`) ?? -Infinity);
      if (sum > -Infinity) offer();
      sum = Math.max(sum, above);
      sums.set(`${a},${b}`, sum);
      boxes.push({ x0: xs[a - 1], x1: xs[a], y0: ys[b - 1], y1: ys[b], sum });
    }
  }
  // Split the box that sets the bound while time lasts; a box's halves keep its S as a floor.
  while (!outOfTime) {
    let worst = 0;
    for (let j = 1; j < boxes.length; j++) if (valueOf(boxes[j]) < valueOf(boxes[worst])) worst = j;
    const box = boxes[worst];
    if (valueOf(box) >= upper) break;
    // Splitting a box raises its value by its width at most, unless a half turns out empty: widths are
    // measured against the box's value (a box at 0 is split until its caps are below any time of the chain).
    const scale = Math.max(valueOf(box), smallest);
    const xWidth = box.x1 === Infinity ? 0 : (box.x1 - box.x0) / scale;
    const yWidth = box.y1 === Infinity ? 0 : (box.y1 - box.y0) / scale;
    if (Math.max(xWidth, yWidth) <= (options.tolerance ?? 1e-4) || programs >= MAX_PROGRAMS) break;
    const splitX = xWidth >= yWidth;
    const [lo, hi] = splitX ? [box.x0, box.x1] : [box.y0, box.y1];
    const mid = lo > 0 && hi > 4 * lo ? Math.sqrt(lo * hi) : (lo + hi) / 2;
    const sum = yield* pricedSum(splitX ? mid : box.x1, splitX ? box.y1 : mid);
    if (sum === null) break;
    offer();
    const low = Math.max(sum, box.sum);
    boxes.splice(worst, 1,
      splitX ? { ...box, x1: mid, sum: low } : { ...box, y1: mid, sum: low },
      splitX ? { ...box, x0: mid } : { ...box, y0: mid });
  }
  let bound = Infinity;
  let least: Box | null = null;
  for (const box of boxes) if (valueOf(box) < bound) [bound, least] = [valueOf(box), box];
  // Placements near the caps that set the bound, money rounded up (so within the budget): the
  // simulator scores them (they may still break a type's count); the best feasible one is kept.
  let countsHold: boolean | undefined;
  if (least && least.sum < Infinity && !outOfTime) {
    const sum = yield* leastSum(least.x1, separate ? least.y1 : Infinity);
    const relaxed = sum !== null && sum < Infinity ? lastPlacement() : null;
    if (relaxed) {
      const used = new Float64Array(K);
      for (const stage of relaxed) used[stage.type] += stage.replicas;
      countsHold = used.every((n, k) => n <= counts[k]);
    }
  }
  if (least && least.sum < Infinity) {
    roundUp = true;
    const tried = new Set<string>();
    for (const factor of options.placementCaps ?? PLACEMENT_CAPS) {
      if (outOfTime) break;
      const x = least!.x1 === Infinity ? Infinity : least!.x1 * factor;
      const sum = yield* leastSum(x, separate ? least!.y1 : Infinity);
      if (sum === null || sum === Infinity) continue;
      const candidate = lastPlacement();
      if (!candidate) continue;
      const key = JSON.stringify(candidate);
      if (tried.has(key)) continue;
      tried.add(key);
      const step = sim.scorePlacement(candidate);
      if (sim.feasible && step < placementStep) [placement, placementStep] = [candidate, step];
    }
    roundUp = false;
  }
  // The DP's sums are in another order than the simulator's: keep a hair below.
  const result: BudgetDpBound = { bound: bound === Infinity ? Infinity : Math.max(0, bound * (1 - 1e-9)), programs, placement, placementStep, cap: least?.x1, countsHold };
  kept.sort((a, b) => a.cap - b.cap);
  if (kept.length > 0 && kept[kept.length - 1].cap === Infinity) {
    const tables: CompletionTables = { caps: [], tables: [], prices: [], buckets: G, bucket };
    for (const { cap, table, price } of kept) {
      if (tables.caps[tables.caps.length - 1] !== cap) {
        tables.caps.push(cap);
        tables.tables.push([]);
        tables.prices.push([]);
      }
      tables.tables[tables.tables.length - 1].push(table);
      tables.prices[tables.prices.length - 1].push(price);
    }
    result.tables = tables;
  }
  return result;
}

/** Pairs (k, n) the ladder from n (excluded) to `most` still holds. */
function countLeft(n: number, most: number): number {
  let left = 0;
  for (let m = n < DENSE ? n + 1 : nextOnLadder(n, most); m <= most; m = m < DENSE ? m + 1 : nextOnLadder(m, most)) left++;
  return left;
}

function nextOnLadder(n: number, free: number): number {
  if (n >= free) return Infinity;
  return Math.min(free, Math.max(n + 1, Math.floor(n * LADDER)));
}
