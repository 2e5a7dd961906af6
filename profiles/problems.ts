/**
 * The bundled problems, built in memory. generate.ts writes them under
 * profiles/problems/; the tests rebuild them and compare with the committed text.
 */
import type { DeviceType, Problem } from '../env/problem.js';
import { deriveLayer, MODELS } from './architectures.js';
import { catalogueCsv } from './catalogue.js';
import { CATALOGUE_HARDWARE, deviceType, HARDWARE, layerTimes } from './hardware.js';
import { problemToCsv, syntheticProblem } from './synthetic.js';

export interface ProblemMeta {
  description: string;
  microBatches: number;
  /** Dollars per hour. */
  budget: number;
  objective: 'time';
}

export interface BundledProblem {
  name: string;
  problem: Problem;
  meta: ProblemMeta;
}

/** The full cloud catalogue (profiles/catalogues/cloud.csv); the bundled problems use its first five types (HARDWARE). */
export function catalogueTypes(): DeviceType[] {
  return CATALOGUE_HARDWARE.map((hw) => deviceType(hw));
}

/** A model's layer table and profile on the catalogue; `counts` overrides the fleet for one problem. */
export function modelProblem(model: string, counts: Record<string, number> = {}): Problem {
  const spec = MODELS[model]();
  const derived = spec.layers.map((layer) => deriveLayer(layer, spec.microBatch));
  const types = HARDWARE.map((hw) => deviceType(hw, counts[hw.type] ?? hw.count));
  const K = types.length;
  const forwardMs = new Float64Array(derived.length * K).fill(NaN);
  const backwardMs = new Float64Array(derived.length * K).fill(NaN);
  derived.forEach((layer, l) => {
    HARDWARE.forEach((hw, k) => {
      const times = layerTimes(hw, layer.work);
      if (!times) return;
      forwardMs[l * K + k] = times.forwardMs;
      backwardMs[l * K + k] = times.backwardMs;
    });
  });
  return {
    layers: derived.map(({ name, paramBytes, activationBytes }) => ({ name, paramBytes, activationBytes })),
    types,
    forwardMs,
    backwardMs,
  };
}

/**
 * A 4-layer, 2-type problem small enough to solve by hand (see README, "The toy").
 * Round numbers on purpose; they are illustrative, not derived from hardware.
 */
export function toyProblem(): Problem {
  const layers = [
    { name: 'embed', paramBytes: 1.5e9, activationBytes: 1e6 },
    { name: 'dense1', paramBytes: 4e6, activationBytes: 1e6 },
    { name: 'dense2', paramBytes: 4e6, activationBytes: 1e6 },
    { name: 'head', paramBytes: 4e6, activationBytes: 1e5 },
  ];
  const types: DeviceType[] = [
    { name: 'cpu', pricePerHour: 1, count: 2, memoryBytes: 8e9, bandwidthBytesPerS: 1e9, backend: 'cpu' },
    { name: 'gpu', pricePerHour: 3, count: 1, memoryBytes: 4e9, bandwidthBytesPerS: 1e9, backend: 'tensorflow' },
  ];
  // [layer][type] = [forward, backward]
  const times = [
    [[2, 2], [1, 1]],
    [[6, 12], [1, 2]],
    [[6, 12], [1, 2]],
    [[2, 4], [0.5, 1]],
  ];
  return {
    layers,
    types,
    forwardMs: Float64Array.from(times.flatMap((row) => row.map((pair) => pair[0]))),
    backwardMs: Float64Array.from(times.flatMap((row) => row.map((pair) => pair[1]))),
  };
}

/**
 * Budgets are chosen so the budget binds: the unconstrained fastest placement
 * costs more, the cheapest feasible one less (checked by `node dist/profiles/check.js`).
 */
export function bundledProblems(): BundledProblem[] {
  const meta = (description: string, budget: number, microBatches = 8): ProblemMeta => ({ description, microBatches, budget, objective: 'time' });
  const model = (name: string, budget: number, counts: Record<string, number> = {}): BundledProblem => ({
    name,
    problem: modelProblem(name, counts),
    meta: meta(MODELS[name]().description, budget),
  });
  return [
    model('bert-base', 6),
    model('ctr', 4),
    model('gpt2-medium', 8),
    model('resnet50', 5),
    model('vgg16', 5),
    {
      name: 'synthetic-small',
      problem: syntheticProblem({ layers: 8, types: 3, seed: 1 }),
      meta: meta('Synthetic: 8 layers, 3 types (cpu, gpu-small, gpu-large), seed 1', 5),
    },
    {
      name: 'synthetic-60',
      problem: syntheticProblem({ layers: 60, types: 4, seed: 60 }),
      meta: meta('Synthetic: 60 layers, 4 types (cpu, gpu-small, gpu-large, accel), seed 60', 8),
    },
    {
      name: 'toy',
      problem: toyProblem(),
      meta: meta('Toy: 4 layers, 2 types, solvable by hand (profiles/README.md)', 3.5, 4),
    },
  ];
}

/** Every generated file, path relative to profiles/ → text. */
export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  files.set('catalogues/cloud.csv', catalogueCsv());
  for (const { name, problem, meta } of bundledProblems()) {
    const csv = problemToCsv(problem);
    files.set(`problems/${name}/layers.csv`, csv.layers);
    files.set(`problems/${name}/devices.csv`, csv.devices);
    files.set(`problems/${name}/profile.csv`, csv.profile);
    files.set(`problems/${name}/problem.json`, JSON.stringify(meta, null, 2) + '\n');
  }
  return files;
}
