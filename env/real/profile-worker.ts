/**
 * Profiling worker, on the backend of one device type. Role `layers`: the
 * forward and backward ms of every layer for ONE micro-batch, measured on the
 * stage worker's own calls (StageModel.forward / forwardLoss / backward: input
 * upload, compute, output download; backward includes the recomputed forward
 * and adding into the gradient sums), interleaved over the layers (cpu, wasm
 * and tfjs-node run kernels synchronously, so wall time is compute time).
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

/** One layer as a single-layer stage, ready to be timed on the stage worker's own code path. */
interface LayerBench {
  layer: number;
  stage: StageModel;
  x: Float32Array;
  dy: Float32Array;
  targets: Float32Array;
  forward: number[];
  backward: number[];
  apply: number[];
}

/**
 * Every layer as a one-layer StageModel, timed on exactly the calls a stage
 * worker makes per micro-batch: `forward` (upload the input, compute,
 * download the output) or, on the last layer, `forwardLoss`; `backward`
 * (recomputed forward, gradients, adding them into the sums, downloading the
 * input gradient). The repeats are interleaved, round robin over the layers,
 * so a change of machine load spreads over every layer alike instead of
 * landing on a few. The optimizer step (once per training step) is timed
 * too, every `microBatches` backward passes, and its share per micro-batch is
 * reported separately (`applyMs`).
 */
async function profileLayers(spec: ModelSpec, warmup: number, repeats: number, microBatches: number): Promise<LayerTiming[]> {
  const B = spec.microBatchSize;
  const M = microBatches;
  const scale = 1 / (B * M);
  const { inputs, targets } = stepBatch(spec, 0, 1);
  const L = spec.layers.length;
  const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const benches: (LayerBench | null)[] = [];
  const timings: LayerTiming[] = [];
  for (let l = 0; l < L; l++) {
    let stage: StageModel | null = null;
    try {
      stage = new StageModel(spec, l, l);
      const x = l === 0 ? inputs[0] : Float32Array.from({ length: B * product(stage.inputShape) }, (_, i) => Math.sin(i));
      const dy = Float32Array.from({ length: B * product(stage.outputShape()) }, (_, i) => 1e-3 * Math.cos(i));
      const bench: LayerBench = { layer: l, stage, x, dy, targets: targets[0], forward: [], backward: [], apply: [] };
      runBackward(bench, scale); // fails here when the backend cannot train the layer
      stage.applyGradients();
      benches.push(bench);
    } catch (error) {
      // A backend without a kernel the layer needs (wasm has no Conv2DBackpropFilter) cannot train it: no row.
      stage?.dispose();
      benches.push(null);
      timings[l] = { layer: l, forwardMs: null, backwardMs: null, applyMs: null, forwardSpread: 0, backwardSpread: 0, reason: (error as Error).message.split('\n')[0] };
    }
  }
  const live = benches.filter((b): b is LayerBench => b !== null);
  for (let r = 0; r < warmup; r++) {
    for (const bench of live) {
      runForward(bench, scale);
      runBackward(bench, scale);
    }
  }
  for (const bench of live) bench.stage.applyGradients();
  // Concurrent profiling threads start timing together, once every one has loaded, built and warmed up.
  await new Promise<void>((resolve) => {
    parentPort!.once('message', () => resolve());
    parentPort!.postMessage({ ready: true });
  });
  for (let r = warmup; r < warmup + repeats; r++) {
    for (const bench of live) {
      const t0 = performance.now();
      runForward(bench, scale);
      const t1 = performance.now();
      runBackward(bench, scale);
      const t2 = performance.now();
      if (r >= warmup) {
        bench.forward.push(t1 - t0);
        bench.backward.push(t2 - t1);
      }
      if ((r + 1) % M === 0) {
        const t3 = performance.now();
        bench.stage.applyGradients();
        if (r >= warmup) bench.apply.push(performance.now() - t3);
      }
    }
  }
  for (const bench of live) {
    const forward = summary(bench.forward);
    const backward = summary(bench.backward);
    const apply = bench.apply.length > 0 ? summary(bench.apply).ms : 0; // mean apply ms
    timings[bench.layer] = { layer: bench.layer, forwardMs: forward.ms, backwardMs: backward.ms, applyMs: apply / M, forwardMedianMs: forward.medianMs, backwardMedianMs: backward.medianMs, forwardSpread: forward.spread, backwardSpread: backward.spread };
    bench.stage.dispose();
  }
  return timings;
}

function runForward(bench: LayerBench, scale: number): void {
  const { stage, x } = bench;
  const rows = stage.spec.microBatchSize;
  if (stage.isLast) stage.forwardLoss(x, rows, bench.targets, scale);
  else stage.forward(x, rows);
}

function runBackward(bench: LayerBench, scale: number): void {
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
