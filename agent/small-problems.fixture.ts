/** Small random problems for the differential tests of the exact solver and its certificates (brute force is exponential). */
import seedrandom from 'seedrandom';
import type { Problem } from '../env/problem.js';

/** A random small problem: varied speeds, prices, bandwidths, missing pairs and tight memory. */
export function randomSmallProblem(seed: number): Problem {
  const rng = seedrandom.alea(String(seed));
  const L = 1 + Math.floor(rng() * 5);
  const K = 1 + Math.floor(rng() * 3);
  const layers = Array.from({ length: L }, (_, l) => ({
    name: `l${l}`,
    paramBytes: Math.round(rng() * 4e6),
    activationBytes: Math.round(rng() * 2e6),
  }));
  const types = Array.from({ length: K }, (_, k) => ({
    name: `t${k}`,
    pricePerHour: Math.round(rng() * 400) / 100,
    count: 1 + Math.floor(rng() * 3),
    memoryBytes: 4e6 + rng() * 4e7,
    bandwidthBytesPerS: 1e8 + rng() * 1e10,
  }));
  const forwardMs = new Float64Array(L * K);
  const backwardMs = new Float64Array(L * K);
  for (let l = 0; l < L; l++) {
    const missing = K > 1 ? Math.floor(rng() * K * 3) : -1; // sometimes one pair cannot run
    for (let k = 0; k < K; k++) {
      forwardMs[l * K + k] = k === missing ? NaN : 0.1 + rng() * 20;
      backwardMs[l * K + k] = k === missing ? NaN : 0.1 + rng() * 40;
    }
  }
  return { layers, types, forwardMs, backwardMs };
}

