/**
 * Fixed problems for the agent's tests and benches (not for users: the
 * seeded synthetic problems users see come from profiles/synthetic.ts).
 * `chainFixture`: a chain of layers whose sizes vary like a convolutional
 * network turning into dense layers, and four unit types from a cheap CPU to
 * a costly accelerator that cannot run every layer. `smallProblem`: a random
 * small problem whose every layer runs on every type. Kept as they were so
 * the tests that use them keep their numbers.
 */
import seedrandom from 'seedrandom';
import type { DeviceType, Layer, Problem } from '../env/problem.js';

export function chainFixture(layerCount: number, seed: number): Problem {
  const rng = seedrandom.alea(String(seed));
  const types: DeviceType[] = [
    { name: 'cpu', pricePerHour: 0.2, count: 8, memoryBytes: 64e9, bandwidthBytesPerS: 1.25e9 },
    { name: 'gpu-t4', pricePerHour: 0.35, count: 4, memoryBytes: 16e9, bandwidthBytesPerS: 4e9 },
    { name: 'gpu-v100', pricePerHour: 2.48, count: 4, memoryBytes: 16e9, bandwidthBytesPerS: 12e9 },
    { name: 'accel', pricePerHour: 4.5, count: 2, memoryBytes: 32e9, bandwidthBytesPerS: 50e9 },
  ];
  // Speed-up over the CPU, per type; each layer perturbs it (some layers suit a type better).
  const speedup = [1, 8, 20, 32];
  const K = types.length;
  const layers: Layer[] = [];
  const forwardMs = new Float64Array(layerCount * K);
  const backwardMs = new Float64Array(layerCount * K);
  for (let l = 0; l < layerCount; l++) {
    const depth = l / Math.max(1, layerCount - 1);
    // Early layers: big activations, few parameters; late layers: the reverse.
    const activationBytes = Math.round(2e6 * Math.pow(40, 1 - depth) * (0.5 + rng()));
    const paramBytes = Math.round(1e5 * Math.pow(2000, depth) * (0.5 + rng()));
    layers.push({ name: `layer${l}`, paramBytes, activationBytes });
    const cpuForwardMs = 5 + 60 * rng();
    for (let k = 0; k < K; k++) {
      const cell = l * K + k;
      // The accelerator lacks a kernel for every seventh layer.
      if (k === 3 && l % 7 === 6) {
        forwardMs[cell] = NaN;
        backwardMs[cell] = NaN;
        continue;
      }
      const f = cpuForwardMs / (speedup[k] * (0.6 + 0.8 * rng()));
      forwardMs[cell] = f;
      backwardMs[cell] = f * (1.6 + 0.8 * rng());
    }
  }
  return { layers, types, forwardMs, backwardMs };
}

/** A random small problem whose every layer runs on every type (so short forms score). */
export function smallProblem(seed: number, layerCount = 1 + (seed % 6)): Problem {
  const rng = seedrandom.alea(`small-${seed}`);
  const K = 1 + Math.floor(rng() * 3);
  const layers = Array.from({ length: layerCount }, (_, l) => ({
    name: `l${l}`,
    paramBytes: Math.round(rng() * 4e6),
    activationBytes: Math.round(rng() * 2e6),
  }));
  const types = Array.from({ length: K }, (_, k) => ({
    name: `t${k}`,
    pricePerHour: Math.round(1 + rng() * 400) / 100,
    count: 1 + Math.floor(rng() * 4),
    memoryBytes: 8e6 + rng() * 6e7,
    bandwidthBytesPerS: 1e8 + rng() * 1e10,
  }));
  const forwardMs = Float64Array.from({ length: layerCount * K }, () => 0.1 + rng() * 20);
  const backwardMs = Float64Array.from(forwardMs, (f) => f * (1 + rng()));
  return { layers, types, forwardMs, backwardMs };
}
