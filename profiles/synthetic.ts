/**
 * Seeded synthetic placement problems and the CSV writer shared by every bundled problem.
 *
 * A synthetic problem is built like the real ones (hardware archetypes, layers
 * with FLOPs and bytes, a roofline time per pair) but with random sizes, so it
 * has the same structure: price/speed trade-offs between types, layers that
 * one type cannot run, and memory that sometimes does not hold a layer.
 */
import seedrandom from 'seedrandom';
import type { DeviceType, Layer, Problem } from '../env/problem.js';

type Rng = () => number;

interface Archetype {
  name: string;
  price: number;
  /** Sustained FLOP/s. */
  flops: number;
  /** Sustained memory bandwidth, bytes/s. */
  memoryBandwidth: number;
  /** Memory as a fraction of the whole model's training footprint. */
  memoryShare: [number, number];
  bandwidth: number;
  count: [number, number];
  overheadMs: number;
  cannotEmbed: boolean;
}

// Loosely the cloud catalogue (profiles/hardware.ts), scaled; type k of a problem uses archetype k.
const ARCHETYPES: readonly Archetype[] = [
  { name: 'cpu', price: 0.77, flops: 0.45e12, memoryBandwidth: 25e9, memoryShare: [1.5, 3], bandwidth: 1.25e9, count: [6, 16], overheadMs: 0.01, cannotEmbed: false },
  { name: 'gpu-small', price: 0.53, flops: 4e12, memoryBandwidth: 220e9, memoryShare: [0.25, 0.6], bandwidth: 3.1e9, count: [4, 8], overheadMs: 0.02, cannotEmbed: false },
  { name: 'gpu-large', price: 4.1, flops: 45e12, memoryBandwidth: 1.2e12, memoryShare: [0.8, 1.6], bandwidth: 6.25e9, count: [2, 8], overheadMs: 0.015, cannotEmbed: false },
  { name: 'accel', price: 1.34, flops: 38e12, memoryBandwidth: 490e9, memoryShare: [0.5, 1.1], bandwidth: 1.56e9, count: [2, 4], overheadMs: 0.03, cannotEmbed: true },
  { name: 'gpu-mid', price: 3.06, flops: 10e12, memoryBandwidth: 680e9, memoryShare: [0.3, 0.6], bandwidth: 1.25e9, count: [2, 6], overheadMs: 0.015, cannotEmbed: false },
  { name: 'cpu-large', price: 2.0, flops: 1.2e12, memoryBandwidth: 60e9, memoryShare: [2, 4], bandwidth: 3.1e9, count: [2, 8], overheadMs: 0.01, cannotEmbed: false },
  // Appended (never inserted) so problems of up to 6 types stay bit-identical.
  { name: 'gpu-xl', price: 8.2, flops: 120e12, memoryBandwidth: 3.3e12, memoryShare: [1, 2], bandwidth: 12.5e9, count: [1, 4], overheadMs: 0.012, cannotEmbed: false },
  { name: 'accel-small', price: 0.9, flops: 8e12, memoryBandwidth: 200e9, memoryShare: [0.2, 0.5], bandwidth: 1.25e9, count: [2, 8], overheadMs: 0.03, cannotEmbed: true },
];

type Kind = 'conv' | 'dense' | 'embedding' | 'memory' | 'attention';

const between = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng();
const logBetween = (rng: Rng, lo: number, hi: number) => Math.exp(between(rng, Math.log(lo), Math.log(hi)));
const intBetween = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));

export interface SyntheticOptions {
  layers: number;
  types: number;
  seed: number;
}

/** Same options → the identical problem (bit for bit). */
export function syntheticProblem(options: SyntheticOptions): Problem {
  const { layers: L, types: K, seed } = options;
  if (!Number.isInteger(L) || L < 1) throw new Error(`syntheticProblem: layers must be a positive integer, got ${L}`);
  if (!Number.isInteger(K) || K < 1 || K > ARCHETYPES.length) {
    throw new Error(`syntheticProblem: types must be an integer in 1..${ARCHETYPES.length}, got ${K}`);
  }
  const rng: Rng = seedrandom.alea(String(seed));

  // Layers: a network-like mix; embeddings are rare, big in parameters and cheap in FLOPs.
  const kinds: Kind[] = [];
  const layers: Layer[] = [];
  const flops: number[] = [];
  const bytes: number[] = [];
  for (let l = 0; l < L; l++) {
    const r = rng();
    const kind: Kind = (l === 0 && r < 0.3) || r < 0.06 ? 'embedding' : r < 0.35 ? 'conv' : r < 0.65 ? 'dense' : r < 0.8 ? 'attention' : 'memory';
    kinds.push(kind);
    const activation = Math.round(logBetween(rng, 2e5, 6e7));
    let params: number;
    let work: number;
    let traffic: number;
    switch (kind) {
      case 'embedding':
        params = Math.round(logBetween(rng, 2e8, 4e9));
        work = activation * 2;
        traffic = activation * 4;
        break;
      case 'conv':
        params = Math.round(logBetween(rng, 1e4, 1e7));
        work = activation * logBetween(rng, 200, 5000);
        traffic = params + activation * 4;
        break;
      case 'dense':
        params = Math.round(logBetween(rng, 1e5, 4e8));
        // 2 FLOPs per weight per row of the micro-batch (rows: samples or tokens).
        work = 2 * (params / 4) * logBetween(rng, 32, 4096);
        traffic = params + activation * 3;
        break;
      case 'attention':
        params = rng() < 0.5 ? 0 : Math.round(logBetween(rng, 1e6, 3e7));
        work = activation * logBetween(rng, 300, 3000);
        traffic = params + activation * 8;
        break;
      default:
        params = rng() < 0.5 ? 0 : Math.round(logBetween(rng, 1e3, 1e5));
        work = activation * 4;
        traffic = activation * 3;
    }
    layers.push({ name: `${kind}${l}`, paramBytes: params, activationBytes: activation });
    flops.push(work);
    bytes.push(traffic);
  }

  const footprint = layers.reduce((sum, layer) => sum + 4 * layer.paramBytes + 8 * layer.activationBytes, 0);
  const types: DeviceType[] = [];
  for (let k = 0; k < K; k++) {
    const a = ARCHETYPES[k];
    const jitter = () => between(rng, 0.85, 1.18);
    types.push({
      name: a.name,
      pricePerHour: Math.round(a.price * jitter() * 1000) / 1000,
      count: intBetween(rng, a.count[0], a.count[1]),
      // Never below the largest layer's weights: every layer must fit somewhere.
      memoryBytes: Math.round(footprint * between(rng, a.memoryShare[0], a.memoryShare[1])),
      bandwidthBytesPerS: Math.round(a.bandwidth * jitter()),
    });
  }
  // The roomiest type holds any single layer, so every layer has a home.
  const roomiest = types.reduce((best, t, k) => (t.memoryBytes > types[best].memoryBytes ? k : best), 0);
  const largestLayer = Math.max(...layers.map((layer) => 4 * layer.paramBytes + 8 * layer.activationBytes));
  if (types[roomiest].memoryBytes < largestLayer) types[roomiest].memoryBytes = Math.ceil(largestLayer * 1.25);

  const forwardMs = new Float64Array(L * K).fill(NaN);
  const backwardMs = new Float64Array(L * K).fill(NaN);
  for (let l = 0; l < L; l++) {
    const runnable: number[] = [];
    for (let k = 0; k < K; k++) {
      const a = ARCHETYPES[k];
      // Rare unsupported ops on the accelerator-like and small types, besides embeddings.
      const missing = (a.cannotEmbed && kinds[l] === 'embedding') || (k > 0 && rng() < 0.04);
      if (missing) continue;
      runnable.push(k);
      // Per-pair noise: some layers suit some hardware better than the peak rates say.
      const fit = between(rng, 0.7, 1.4);
      const pass = (f: number, b: number) => Math.max(f / a.flops, b / a.memoryBandwidth) * 1000 * fit + a.overheadMs;
      forwardMs[l * K + k] = pass(flops[l], bytes[l]);
      // Backward ≈ 2× forward work; an embedding's is a sparse scatter of its gathered rows.
      backwardMs[l * K + k] = kinds[l] === 'embedding' ? pass(0, 2 * bytes[l]) : pass(2 * flops[l], 2 * bytes[l]) * between(rng, 0.9, 1.2);
    }
    // Type 0 (cpu-like) is never left out, so every layer can run somewhere.
    if (runnable.length === 0) throw new Error(`syntheticProblem: layer ${l} has no type (a bug)`);
  }
  return { layers, types, forwardMs, backwardMs };
}

// ---------------------------------------------------------------- CSV

function cell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function num(x: number): string {
  // String(x) is the shortest text that reads back as the same float64.
  if (!Number.isFinite(x)) throw new Error(`problemToCsv: non-finite number ${x}`);
  return String(x);
}

/** The three CSV texts of a problem (README "Input files") (profile rows only for pairs that can run). */
export function problemToCsv(problem: Problem): { layers: string; devices: string; profile: string } {
  const K = problem.types.length;
  const layers = ['name,param_bytes,activation_bytes'];
  for (const layer of problem.layers) layers.push([cell(layer.name), num(layer.paramBytes), num(layer.activationBytes)].join(','));
  const devices = ['type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend'];
  for (const t of problem.types) {
    devices.push([cell(t.name), num(t.pricePerHour), num(t.count), num(t.memoryBytes), num(t.bandwidthBytesPerS), cell(t.backend ?? '')].join(','));
  }
  const profile = ['layer,type,forward_ms,backward_ms'];
  problem.layers.forEach((layer, l) => {
    problem.types.forEach((t, k) => {
      const f = problem.forwardMs[l * K + k];
      if (Number.isNaN(f)) return;
      profile.push([cell(layer.name), cell(t.name), num(f), num(problem.backwardMs[l * K + k])].join(','));
    });
  });
  const text = (rows: string[]) => rows.join('\n') + '\n';
  return { layers: text(layers), devices: text(devices), profile: text(profile) };
}
