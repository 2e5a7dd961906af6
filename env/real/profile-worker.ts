/**
 * Profiling worker, on the backend of one device type. Role `layers`: the
 * forward and backward ms of every layer for ONE micro-batch, from stages
 * first..l timed on the stage worker's own calls (StageModel.forward /
 * forwardLoss / backward: input upload, compute, output download; backward
 * includes the recomputed forward and adding into the gradient sums),
 * interleaved (cpu, wasm and tfjs-node run kernels synchronously, so wall
 * time is compute time).
 * Roles `ping`/`echo`: a stage boundary between two threads (download the
 * tensor, transfer the buffer, upload it on the other side), both ways.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './backends.js';
import { stepBatch, type ModelSpec } from './model.js';
import { StageModel } from './stage.js';

export interface LayerTiming {
  layer: number;
  /** Mean ms over the repeats, or null when the backend cannot run (train) the layer. */
  forwardMs: number | null;
  backwardMs: number | null;
  /** The optimizer step's share of one micro-batch (median apply ms / M), or null. */
  applyMs: number | null;
  /** Median ms over the repeats (reported, not used). */
  forwardMedianMs?: number;
  backwardMedianMs?: number;
  /** The first layer of the chain this layer's row was measured in (its row is T(chainFirst..layer) − T(chainFirst..layer−1)). */
  chainFirst?: number;
  /** (p90 − p10) / median over the repeats: the spread. */
  forwardSpread: number;
  backwardSpread: number;
  reason?: string;
}

export interface LinkTiming {
  bytes: number;
  /** One way: download + transfer + upload, median over the repeats. */
  ms: number;
}

export type ProfileWorkerData =
  | { role: 'layers'; spec: ModelSpec; backend: string; warmup: number; repeats: number; microBatches: number }
  | { role: 'ping'; backend: string; sizes: number[]; warmup: number; repeats: number; port: MessagePort }
  | { role: 'echo'; backend: string; port: MessagePort };

const data = workerData as ProfileWorkerData;

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}

/** Layers first..last as one stage, ready to be timed on the stage worker's own code path. */
interface StageBench {
  first: number;
  last: number;
  stage: StageModel;
  x: Float32Array;
  dy: Float32Array;
  targets: Float32Array;
  forward: number[];
  backward: number[];
  apply: number[];
}

/**
 * Per-layer times from whole stages, as the stage worker runs them: for each
 * run of layers s..e that the backend can train, the stages s..s, s..s+1, …,
 * s..e are timed on exactly the calls a stage worker makes per micro-batch
 * (`forward`: upload the input, compute, download the output, or
 * `forwardLoss` on the last layer; `backward`: recomputed forward, gradients,
 * adding them into the sums, downloading the input gradient), and layer l's
 * row is T(s..l) − T(s..l−1). A stage's fixed cost per call (uploads,
 * downloads, tidy, the scheduler's interruptions, counted once per call) thus
 * lands once, on the layer a chain starts with, instead of once per layer:
 * every stage that starts where a chain starts (the model's first layer, the
 * first layer a backend can train after one it cannot) is timed as it runs,
 * and no layer pays for a per-call cost that a longer stage pays once. The
 * repeats are interleaved, round robin over the stages, so a change of load
 * spreads over every layer alike. The optimizer step (once per training step)
 * is timed every `microBatches` passes; its share per micro-batch is
 * `applyMs`. A difference below zero (noise on a layer that costs next to
 * nothing) is written as 0.
 */
async function profileLayers(spec: ModelSpec, warmup: number, repeats: number, microBatches: number): Promise<LayerTiming[]> {
  const B = spec.microBatchSize;
  const M = microBatches;
  const scale = 1 / (B * M);
  const { inputs, targets } = stepBatch(spec, 0, 1);
  const L = spec.layers.length;
  const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const timings: LayerTiming[] = [];
  const build = (first: number, last: number): StageBench => {
    const stage = new StageModel(spec, first, last);
    try {
      const x = first === 0 ? inputs[0] : Float32Array.from({ length: B * product(stage.inputShape) }, (_, i) => Math.sin(i));
      const dy = Float32Array.from({ length: B * product(stage.outputShape()) }, (_, i) => 1e-3 * Math.cos(i));
      const bench: StageBench = { first, last, stage, x, dy, targets: targets[0], forward: [], backward: [], apply: [] };
      runBackward(bench, scale); // fails here when the backend cannot train a layer
      stage.applyGradients();
      return bench;
    } catch (error) {
      stage.dispose();
      throw error;
    }
  };
  // Which layers this backend can train (wasm has no Conv2DBackpropFilter): alone, one at a time.
  const runnable: boolean[] = [];
  for (let l = 0; l < L; l++) {
    try {
      build(l, l).stage.dispose();
      runnable.push(true);
    } catch (error) {
      runnable.push(false);
      timings[l] = { layer: l, forwardMs: null, backwardMs: null, applyMs: null, forwardSpread: 0, backwardSpread: 0, reason: (error as Error).message.split('\n')[0] };
    }
  }
  const benches: StageBench[] = [];
  for (let l = 0; l < L; l++) {
    if (!runnable[l]) continue;
    const first = l > 0 && runnable[l - 1] ? benches.at(-1)!.first : l;
    benches.push(build(first, l));
  }
  for (let r = 0; r < warmup; r++) {
    for (const bench of benches) {
      runForward(bench, scale);
      runBackward(bench, scale);
    }
  }
  for (const bench of benches) bench.stage.applyGradients();
  // Concurrent profiling threads start timing together, once every one has loaded, built and warmed up.
  await new Promise<void>((resolve) => {
    parentPort!.once('message', () => resolve());
    parentPort!.postMessage({ ready: true });
  });
  for (let r = 0; r < repeats; r++) {
    for (const bench of benches) {
      const t0 = performance.now();
      runForward(bench, scale);
      const t1 = performance.now();
      runBackward(bench, scale);
      const t2 = performance.now();
      bench.forward.push(t1 - t0);
      bench.backward.push(t2 - t1);
      if ((r + 1) % M === 0) {
        const t3 = performance.now();
        bench.stage.applyGradients();
        bench.apply.push(performance.now() - t3);
      }
    }
  }
  let previous: { first: number; forward: ReturnType<typeof summary>; backward: ReturnType<typeof summary>; apply: number } | null = null;
  for (const bench of benches) {
    const forward = summary(bench.forward);
    const backward = summary(bench.backward);
    const apply = bench.apply.length > 0 ? summary(bench.apply).ms / M : 0;
    const before = previous !== null && previous.first === bench.first ? previous : null;
    const minus = (x: number, y: number | undefined) => Math.max(0, x - (y ?? 0));
    timings[bench.last] = {
      layer: bench.last,
      forwardMs: minus(forward.ms, before?.forward.ms),
      backwardMs: minus(backward.ms, before?.backward.ms),
      applyMs: minus(apply, before?.apply),
      forwardMedianMs: minus(forward.medianMs, before?.forward.medianMs),
      backwardMedianMs: minus(backward.medianMs, before?.backward.medianMs),
      forwardSpread: forward.spread,
      backwardSpread: backward.spread,
      chainFirst: bench.first,
    };
    previous = { first: bench.first, forward, backward, apply };
  }
  for (const bench of benches) bench.stage.dispose();
  return timings;
}

function runForward(bench: StageBench, scale: number): void {
  const { stage, x } = bench;
  const rows = stage.spec.microBatchSize;
  if (stage.isLast) stage.forwardLoss(x, rows, bench.targets, scale);
  else stage.forward(x, rows);
}

function runBackward(bench: StageBench, scale: number): void {
  const { stage, x } = bench;
  const rows = stage.spec.microBatchSize;
  stage.backward(x, rows, stage.isLast ? { targets: bench.targets, scale } : { dy: bench.dy });
}

/**
 * The mean over the repeats (a step is a sum of many such calls, so its
 * expected time is a sum of means; the median would drop the occasional
 * call that the scheduler or the garbage collector interrupts, which real
 * steps do pay), the median, and the spread (p90 − p10) / median.
 */
function summary(times: number[]): { ms: number; medianMs: number; spread: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const medianMs = quantile(sorted, 0.5);
  const ms = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { ms, medianMs, spread: medianMs > 0 ? (quantile(sorted, 0.9) - quantile(sorted, 0.1)) / medianMs : 0 };
}

/** Round trips of a tensor of each size to an echoing thread; one way = half. */
async function ping(port: MessagePort, sizes: number[], warmup: number, repeats: number): Promise<LinkTiming[]> {
  const reply = () => new Promise<Float32Array>((resolve) => port.once('message', resolve));
  const results: LinkTiming[] = [];
  for (const bytes of sizes) {
    let tensor = tf.randomUniform([bytes / 4]);
    const times: number[] = [];
    for (let i = 0; i < warmup + repeats; i++) {
      const t0 = performance.now();
      const values = (tensor.dataSync() as Float32Array).slice();
      port.postMessage(values, [values.buffer]);
      const back = await reply();
      tensor.dispose();
      tensor = tf.tensor(back);
      if (i >= warmup) times.push((performance.now() - t0) / 2);
    }
    tensor.dispose();
    times.sort((a, b) => a - b);
    results.push({ bytes, ms: quantile(times, 0.5) });
  }
  port.postMessage(null);
  return results;
}

function echo(port: MessagePort): void {
  port.on('message', (values: Float32Array | null) => {
    if (values === null) {
      port.close();
      parentPort!.postMessage('done');
      return;
    }
    const tensor = tf.tensor(values);
    const back = (tensor.dataSync() as Float32Array).slice();
    tensor.dispose();
    port.postMessage(back, [back.buffer]);
  });
}

async function main(): Promise<void> {
  await useBackend(data.backend);
  if (data.role === 'layers') parentPort!.postMessage(await profileLayers(data.spec, data.warmup, data.repeats, data.microBatches));
  else if (data.role === 'ping') parentPort!.postMessage(await ping(data.port, data.sizes, data.warmup, data.repeats));
  else echo(data.port);
}

main().catch((error: Error) => parentPort!.postMessage({ error: error.message }));
