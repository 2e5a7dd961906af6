/**
 * The load bound: a lower bound on the best objective from how the work of
 * the layers can be shared among the units, ignoring where stages are cut,
 * memory, links and all-reduce (each only adds to a step). Cheap (O(layers ×
 * types) per step of the ascent below) and sound whatever the size, it is what
 * certifies long chains the exact search cannot finish.
 *
 * Time objective. With g = f + b of a layer on a type, a stage s on type k
 * with n ≤ count_k replicas, T = the largest stage g / n, and work_k the g of
 * the layers on type k: step ≥ Σ_s g_s / n_s + (M − 1)(max f + max b)
 * ≥ Σ_k work_k / count_k + (M − 1) T, with work_k ≤ T × units_k and the
 * price Σ p_k units_k ≤ budget. Relaxing the layers' types to fractions makes
 * this a linear program; its Lagrangian dual is
 *   max Σ_l min_k g_lk (1/count_k + μ_k + λ p_k)
 *   over λ, μ ≥ 0 with λ × budget + Σ_k μ_k count_k ≤ M − 1,
 * and EVERY feasible (λ, μ) gives a lower bound (weak duality), so the ascent
 * may stop anywhere. It moves on that simplex by exponentiated subgradient
 * steps and keeps the best value seen.
 *
 * Cost objective. price × step ≥ Σ_s n_s p_s (Σ_s g_s / n_s + (M − 1) T)
 * ≥ M Σ_s p_s g_s ≥ M Σ_l min_k p_k g_lk, so
 * cost ≥ M Σ_l min_k p_k g_lk / 3 600 000 (no ascent needed).
 */
import type { Problem, Settings } from '../env/problem.js';

const MS_PER_HOUR = 3_600_000;

export interface LoadBoundOptions {
  /** Steps of the ascent (time objective). */
  iterations?: number;
  /** Stop by then (performance.now() milliseconds). */
  deadlineAt?: number;
}

/** A lower bound on the objective of every feasible placement (Infinity when some layer runs on no available type). */
export function loadBound(problem: Problem, settings: Settings, options: LoadBoundOptions = {}): number {
  const L = problem.layers.length;
  const K = problem.types.length;
  const M = settings.microBatches;
  const { types, forwardMs, backwardMs } = problem;
  const usable = types.map((t) => t.count >= 1);
  const work = new Float64Array(L * K).fill(Infinity); // g of a layer on a type; Infinity where it cannot run
  for (let l = 0; l < L; l++) {
    let any = false;
    for (let k = 0; k < K; k++) {
      const g = forwardMs[l * K + k] + backwardMs[l * K + k];
      if (usable[k] && g === g) {
        work[l * K + k] = g;
        any = true;
      }
    }
    if (!any) return Infinity;
  }
  if (settings.objective === 'cost') {
    let least = 0;
    for (let l = 0; l < L; l++) {
      let best = Infinity;
      for (let k = 0; k < K; k++) best = Math.min(best, types[k].pricePerHour * work[l * K + k]);
      least += best;
    }
    return (M * least) / MS_PER_HOUR * (1 - 1e-12);
  }
  return timeBound(problem, settings, work, options);
}

function timeBound(problem: Problem, settings: Settings, work: Float64Array, options: LoadBoundOptions): number {
  const L = problem.layers.length;
  const K = problem.types.length;
  const { types } = problem;
  const spend = settings.microBatches - 1; // what λ × budget + Σ μ_k count_k may add up to
  const budget = settings.budget;
  const count = types.map((t) => t.count);
  const price = types.map((t) => t.pricePerHour);
  const base = count.map((c) => (c >= 1 ? 1 / c : Infinity));
  // Shares of `spend`: y[k] = μ_k count_k (k < K), y[K] = λ budget, y[K + 1] unused. On the simplex.
  const withBudget = Number.isFinite(budget) && budget > 0;
  const parts = K + 2;
  const share = new Float64Array(parts).fill(1 / parts);
  if (!withBudget) share[K] = 0;
  const weight = new Float64Array(K);
  const gradient = new Float64Array(parts);
  const iterations = options.iterations ?? 400;
  const deadlineAt = options.deadlineAt ?? Infinity;
  let best = 0;
  const value = (record: boolean): number => {
    const lambda = withBudget ? (spend * share[K]) / budget : 0;
    for (let k = 0; k < K; k++) weight[k] = base[k] + (spend * share[k]) / count[k] + lambda * price[k];
    if (record) gradient.fill(0);
    let total = 0;
    for (let l = 0; l < L; l++) {
      let least = Infinity;
      let arg = -1;
      for (let k = 0; k < K; k++) {
        const v = work[l * K + k] * weight[k];
        if (v < least) [least, arg] = [v, k];
      }
      total += least;
      if (record && arg >= 0) {
        const g = work[l * K + arg];
        gradient[arg] += (spend * g) / count[arg];
        if (withBudget) gradient[K] += (spend * g * price[arg]) / budget;
      }
    }
    return total;
  };
  for (let it = 0; it < iterations; it++) {
    const total = value(true);
    if (total > best) best = total;
    if ((it & 15) === 15 && performance.now() > deadlineAt) break;
    // Exponentiated gradient on the simplex, the step shrinking as 1/sqrt(t), scaled to the gradient.
    let largest = 0;
    for (let p = 0; p < parts; p++) largest = Math.max(largest, gradient[p]);
    if (largest === 0) break;
    const step = 2 / Math.sqrt(it + 1) / largest;
    let sum = 0;
    for (let p = 0; p < parts; p++) {
      if (!withBudget && p === K) continue;
      share[p] *= Math.exp(step * gradient[p]);
      sum += share[p];
    }
    for (let p = 0; p < parts; p++) share[p] /= sum;
  }
  best = Math.max(best, value(false));
  // Rounding: the value is a sum of L products; keep a hair below it.
  return best * (1 - 1e-12);
}
