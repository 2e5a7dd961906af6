/**
 * What the policy sees of a problem: numbers per (layer, type) pair and per
 * layer, all scale free (ratios, logs, z-scores), so one network reads chains
 * of any length with any number of types. Pure: problem → typed arrays.
 *
 * Pair features (layer l, type k), PAIR_FEATURES of them:
 *   0 runnable            1 if the profile has (l, k)
 *   1 forward slowdown    ln(forward[l,k] / fastest forward of l)
 *   2 backward slowdown   ln(backward[l,k] / fastest backward of l)
 *   3 fits memory         1 if the layer alone (one replica) fits one unit of k
 *   4 memory share        ln(1 + layer memory / unit memory of k)
 *   5 compute weight      ln(1 + L × (f + b)[l,k] / Σ over layers of the fastest f + b)
 *   6 link weight         ln(1 + link ms of l's output on k's bandwidth / fastest f + b of l)
 *   7 price               ln(price of k / mean price)
 *   8 price vs budget     price of k / budget (0 when the objective has no budget)
 *   9 count               ln(1 + count of k)
 *  10 affordable units    ln(1 + min(count, budget / price)) (count when unbounded)
 *  11 bandwidth           ln(bandwidth of k / largest bandwidth)
 *  12 speed per dollar    ln((fastest f + b of l / (f + b)[l,k]) / price share of k), centred over types
 *  13 incumbent           1 if the best placement so far puts l on k (the "present duration" to beat)
 *
 * Layer features, LAYER_FEATURES of them:
 *   0 position l / (L - 1)   1 ln param bytes (z-score)   2 ln activation bytes (z-score)
 *   3 compute share L × fastest (f + b) of l / Σ       4 objective is cost (1) or time (0)
 *   5 ln(1 + L) / 5 (chain length)
 */
import type { Problem, Settings } from '../env/problem.js';

export const PAIR_FEATURES = 14;
export const LAYER_FEATURES = 6;
/** Index of the incumbent flag among the pair features (set per update by the trainer). */
export const INCUMBENT_FEATURE = 13;

export interface ChainFeatures {
  layerCount: number;
  typeCount: number;
  /** [L × K × PAIR_FEATURES], row-major. */
  pair: Float32Array;
  /** [L × LAYER_FEATURES]. */
  layer: Float32Array;
  /** [L × K]: 1 where the layer can run on the type (from the profile). */
  runnable: Uint8Array;
}

const EPS = 1e-12;

export function chainFeatures(problem: Problem, settings: Settings, incumbent?: ArrayLike<number>): ChainFeatures {
  const L = problem.layers.length;
  const K = problem.types.length;
  const M = settings.microBatches;
  const { forwardMs, backwardMs, types, layers } = problem;
  const pair = new Float32Array(L * K * PAIR_FEATURES);
  const layer = new Float32Array(L * LAYER_FEATURES);
  const runnable = new Uint8Array(L * K);

  const fastestForward = new Float64Array(L).fill(Infinity);
  const fastestBackward = new Float64Array(L).fill(Infinity);
  const fastestCompute = new Float64Array(L).fill(Infinity);
  for (let l = 0; l < L; l++) {
    for (let k = 0; k < K; k++) {
      const f = forwardMs[l * K + k];
      if (Number.isNaN(f)) continue;
      runnable[l * K + k] = 1;
      const b = backwardMs[l * K + k];
      fastestForward[l] = Math.min(fastestForward[l], f);
      fastestBackward[l] = Math.min(fastestBackward[l], b);
      fastestCompute[l] = Math.min(fastestCompute[l], f + b);
    }
  }
  let totalFastest = 0;
  for (let l = 0; l < L; l++) if (Number.isFinite(fastestCompute[l])) totalFastest += fastestCompute[l];
  totalFastest = Math.max(totalFastest, EPS);

  const meanPrice = Math.max(EPS, types.reduce((sum, t) => sum + t.pricePerHour, 0) / Math.max(1, K));
  const maxBandwidth = Math.max(EPS, ...types.map((t) => t.bandwidthBytesPerS));
  const budget = settings.objective === 'time' && Number.isFinite(settings.budget) ? settings.budget : Infinity;
  const priceShare = types.map((t) => Math.max(EPS, t.pricePerHour) / meanPrice);

  const speedPerDollar = new Float64Array(K);
  for (let l = 0; l < L; l++) {
    const layerMemory = 4 * layers[l].paramBytes + M * layers[l].activationBytes;
    let meanSpd = 0;
    let runnableCount = 0;
    for (let k = 0; k < K; k++) {
      const cell = l * K + k;
      speedPerDollar[k] = 0;
      if (!runnable[cell]) continue;
      const speed = fastestCompute[l] / Math.max(EPS, forwardMs[cell] + backwardMs[cell]);
      speedPerDollar[k] = Math.log(Math.max(EPS, speed) / priceShare[k]);
      meanSpd += speedPerDollar[k];
      runnableCount++;
    }
    meanSpd /= Math.max(1, runnableCount);
    for (let k = 0; k < K; k++) {
      const cell = l * K + k;
      const type = types[k];
      const o = cell * PAIR_FEATURES;
      if (runnable[cell]) {
        const f = forwardMs[cell];
        const b = backwardMs[cell];
        pair[o + 0] = 1;
        pair[o + 1] = Math.log(Math.max(EPS, f) / Math.max(EPS, fastestForward[l]));
        pair[o + 2] = Math.log(Math.max(EPS, b) / Math.max(EPS, fastestBackward[l]));
        pair[o + 5] = Math.log1p((L * (f + b)) / totalFastest);
        pair[o + 12] = speedPerDollar[k] - meanSpd;
      }
      pair[o + 3] = layerMemory <= type.memoryBytes ? 1 : 0;
      pair[o + 4] = Math.log1p(layerMemory / Math.max(EPS, type.memoryBytes));
      const linkMs = (layers[l].activationBytes / Math.max(EPS, type.bandwidthBytesPerS)) * 1000;
      pair[o + 6] = Math.log1p(linkMs / Math.max(EPS, Number.isFinite(fastestCompute[l]) ? fastestCompute[l] : 1));
      pair[o + 7] = Math.log(Math.max(EPS, type.pricePerHour) / meanPrice);
      pair[o + 8] = Number.isFinite(budget) ? Math.min(10, type.pricePerHour / Math.max(EPS, budget)) : 0;
      pair[o + 9] = Math.log1p(type.count);
      const affordable = Number.isFinite(budget) && type.pricePerHour > 0 ? Math.min(type.count, budget / type.pricePerHour) : type.count;
      pair[o + 10] = Math.log1p(affordable);
      pair[o + 11] = Math.log(Math.max(EPS, type.bandwidthBytesPerS) / maxBandwidth);
    }
  }
  if (incumbent) setIncumbent({ layerCount: L, typeCount: K, pair, layer, runnable }, incumbent);

  const logParams = layers.map((x) => Math.log1p(x.paramBytes));
  const logActivations = layers.map((x) => Math.log1p(x.activationBytes));
  const zParams = zScores(logParams);
  const zActivations = zScores(logActivations);
  for (let l = 0; l < L; l++) {
    const o = l * LAYER_FEATURES;
    layer[o + 0] = L > 1 ? l / (L - 1) : 0;
    layer[o + 1] = zParams[l];
    layer[o + 2] = zActivations[l];
    layer[o + 3] = Number.isFinite(fastestCompute[l]) ? (L * fastestCompute[l]) / totalFastest : 0;
    layer[o + 4] = settings.objective === 'cost' ? 1 : 0;
    layer[o + 5] = Math.log1p(L) / 5;
  }
  return { layerCount: L, typeCount: K, pair, layer, runnable };
}

/** Writes the incumbent flags (feature INCUMBENT_FEATURE) in place; a negative type clears a layer. */
export function setIncumbent(features: ChainFeatures, incumbent: ArrayLike<number> | null): void {
  const { layerCount: L, typeCount: K, pair } = features;
  for (let l = 0; l < L; l++) {
    for (let k = 0; k < K; k++) {
      pair[(l * K + k) * PAIR_FEATURES + INCUMBENT_FEATURE] = incumbent !== null && incumbent[l] === k ? 1 : 0;
    }
  }
}

function zScores(values: number[]): Float32Array {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, n);
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, n);
  const std = Math.sqrt(variance);
  return Float32Array.from(values, (v) => (std > 1e-9 ? (v - mean) / std : 0));
}
