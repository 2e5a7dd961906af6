/**
 * The distribution of problems a generalist policy is pretrained on, and the
 * problems held out of it. Pure and seeded: a draw's name fixes it bit for bit.
 *
 * Two families, each drawn with a random micro-batch count (2 to 32) and an
 * objective (time or cost; the constraint is drawn by agent/pretrain/constraints.ts):
 *  - synthetic chains (profiles/synthetic.ts), 10 to `maxLayers` layers
 *    (log-uniform), 2 to 8 types: type k is archetype k, so 8 types use all eight;
 *  - the layer tables of the training architectures (TRAIN_ARCHITECTURES) at a
 *    random micro-batch size, on a random catalogue drawn around the real cloud
 *    types (profiles/hardware.ts): a subset of them, each with its price, unit
 *    count, memory, network and sustained efficiencies jittered.
 * Held out (never drawn for training): the architectures HELD_OUT_ARCHITECTURES
 * and every bundled problem in HELD_OUT_BUNDLED; synthetic training chains use
 * seeds from their own stream (`pretrain:` names), never the bundled ones.
 */
import seedrandom from 'seedrandom';
import type { Objective, Problem } from '../../env/problem.js';
import { deriveLayer, MODELS } from '../../profiles/architectures.js';
import { CATALOGUE_HARDWARE, deviceType, layerTimes, type Hardware } from '../../profiles/hardware.js';
import { syntheticProblem } from '../../profiles/synthetic.js';

/** Architectures whose layer tables are trained on. */
export const TRAIN_ARCHITECTURES = ['bert-base', 'ctr', 'vgg16'] as const;
/** Architectures never trained on (their bundled problems and random catalogues measure transfer). */
export const HELD_OUT_ARCHITECTURES = ['gpt2-medium', 'resnet50'] as const;
/** Bundled problems never trained on: the held-out real models, the measured local ones, and the bundled synthetic chains. */
export const HELD_OUT_BUNDLED = ['gpt2-medium', 'resnet50', 'local-mlp', 'local-cnn', 'synthetic-60', 'synthetic-small', 'toy'] as const;

export const MIN_LAYERS = 10;
export const MAX_TYPES = 8;

/** A problem drawn from the distribution, before its constraint is drawn. */
export interface DrawnProblem {
  /** Names the draw (family, size, seed): enough to redraw it. */
  name: string;
  problem: Problem;
  microBatches: number;
  objective: Objective;
  /** Uniform in [0, 1): where the constraint falls between its tightest and loosest (agent/pretrain/constraints.ts). */
  tightness: number;
}

export interface DrawOptions {
  /** Largest synthetic chain (default 1000). */
  maxLayers: number;
  /** Share of architecture draws (default 0.5). */
  architectureShare: number;
  /** Architectures to draw layer tables from. */
  architectures: readonly string[];
  /** Share of objective `cost` draws (default 0.3). */
  costShare: number;
}

export const DEFAULT_DRAW_OPTIONS: DrawOptions = {
  maxLayers: 1000,
  architectureShare: 0.5,
  architectures: TRAIN_ARCHITECTURES,
  costShare: 0.3,
};

type Rng = () => number;
const between = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const logBetween = (rng: Rng, lo: number, hi: number) => Math.exp(between(rng, Math.log(lo), Math.log(hi)));
const intBetween = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

/** Draw `index` of the stream `stream` ("train", "held-out", ...): the same arguments, the same problem. */
export function drawProblem(stream: string, index: number, options: Partial<DrawOptions> = {}): DrawnProblem {
  const o = { ...DEFAULT_DRAW_OPTIONS, ...options };
  const rng = seedrandom.alea(`pretrain:${stream}:${index}`);
  const microBatches = Math.round(logBetween(rng, 2, 32));
  const objective: Objective = rng() < o.costShare ? 'cost' : 'time';
  const tightness = rng();
  if (o.architectures.length > 0 && rng() < o.architectureShare) {
    const model = o.architectures[Math.floor(rng() * o.architectures.length)];
    const types = intBetween(rng, 2, MAX_TYPES);
    const seed = Math.floor(rng() * 2 ** 31);
    return { name: `${stream}/${index}:${model}:${types}types:seed${seed}`, problem: architectureProblem(model, types, seed), microBatches, objective, tightness };
  }
  const layers = Math.round(logBetween(rng, MIN_LAYERS, Math.max(MIN_LAYERS, o.maxLayers)));
  const types = intBetween(rng, 2, MAX_TYPES);
  // 2^31 and up: no bundled synthetic problem (seeds 1 and 60) can be drawn.
  const seed = 2 ** 31 + Math.floor(rng() * 2 ** 30);
  return { name: `${stream}/${index}:synthetic:${layers}x${types}:seed${seed}`, problem: syntheticProblem({ layers, types, seed }), microBatches, objective, tightness };
}

/**
 * A model's layer table (profiles/architectures.ts) at a random micro-batch
 * size (0.25× to 2× the bundled one) on a random catalogue of `types` types.
 */
export function architectureProblem(model: string, types: number, seed: number): Problem {
  const make = MODELS[model];
  if (!make) throw new Error(`architectureProblem: no architecture "${model}"`);
  const rng = seedrandom.alea(`architecture:${model}:${types}:${seed}`);
  const spec = make();
  const microBatch = Math.max(1, Math.round(spec.microBatch * logBetween(rng, 0.25, 2)));
  const derived = spec.layers.map((layer) => deriveLayer(layer, microBatch));
  const hardware = randomCatalogue(rng, types);
  // Every layer must run somewhere: when no drawn type runs one (an embedding on accelerators only), add a CPU.
  const orphan = derived.some((layer) => hardware.every((hw) => hw.cannotRun.includes(layer.work.kind)));
  if (orphan) hardware[hardware.length - 1] = jitter(rng, CATALOGUE_HARDWARE.find((hw) => hw.cannotRun.length === 0)!);
  const K = hardware.length;
  const forwardMs = new Float64Array(derived.length * K).fill(NaN);
  const backwardMs = new Float64Array(derived.length * K).fill(NaN);
  derived.forEach((layer, l) => {
    hardware.forEach((hw, k) => {
      const times = layerTimes(hw, layer.work);
      if (!times) return;
      forwardMs[l * K + k] = times.forwardMs;
      backwardMs[l * K + k] = times.backwardMs;
    });
  });
  // Type names must be distinct: a drawn type's name carries its position.
  const deviceTypes = hardware.map((hw, k) => ({ ...deviceType(hw), name: `${hw.type}-${k}` }));
  return {
    layers: derived.map(({ name, paramBytes, activationBytes }) => ({ name, paramBytes, activationBytes })),
    types: deviceTypes,
    forwardMs,
    backwardMs,
  };
}

/** `types` distinct cloud types (of the nine in profiles/hardware.ts; more than nine repeats some), each jittered. */
function randomCatalogue(rng: Rng, types: number): Hardware[] {
  const pool = [...CATALOGUE_HARDWARE];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return Array.from({ length: types }, (_, k) => jitter(rng, pool[k % pool.length]));
}

/** One cloud type with its figures moved: price ×0.6–1.6, count 1–2× the catalogue's, memory and network ×0.5–2, efficiencies ×0.7–1.3. */
function jitter(rng: Rng, hw: Hardware): Hardware {
  return {
    ...hw,
    instancePricePerHour: hw.instancePricePerHour * logBetween(rng, 0.6, 1.6),
    count: intBetween(rng, 1, Math.max(2, 2 * hw.count)),
    memoryBytes: Math.round(hw.memoryBytes * logBetween(rng, 0.5, 2)),
    instanceNetworkGbit: hw.instanceNetworkGbit * logBetween(rng, 0.5, 2),
    computeEfficiency: Math.min(0.95, hw.computeEfficiency * between(rng, 0.7, 1.3)),
    memoryEfficiency: Math.min(0.95, hw.memoryEfficiency * between(rng, 0.7, 1.3)),
    overheadMs: hw.overheadMs * logBetween(rng, 0.5, 2),
  };
}
