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


/**
 * `randomSmallProblem(seed)` with zero times (the profiler clamps to 0) and ties
 * between neighbouring types: the cases that broke the exact bound. `salt`
 * keeps each test's draws its own.
 */
export function hardSmallProblem(seed: number, salt: string): Problem {
  const problem = randomSmallProblem(seed);
  const rng = seedrandom.alea(`${salt}-${seed}`);
  const K = problem.types.length;
  for (let cell = 0; cell < problem.forwardMs.length; cell++) {
    if (Number.isNaN(problem.forwardMs[cell])) continue;
    if (rng() < 0.3) problem.forwardMs[cell] = 0;
    if (rng() < 0.3) problem.backwardMs[cell] = 0;
    if (rng() < 0.2 && cell % K > 0 && !Number.isNaN(problem.forwardMs[cell - 1])) {
      problem.forwardMs[cell] = problem.forwardMs[cell - 1];
      problem.backwardMs[cell] = problem.backwardMs[cell - 1];
    }
  }
  return problem;
}
