/**
 * Profiling worker, on the backend of one device type. Role `layers`: the
 * forward and backward ms of every layer for ONE micro-batch, measured on
 * tensors (cpu, wasm and tfjs-node run kernels synchronously, so wall time
 * is compute time); the first layer's forward includes uploading the input,
 * the last layer's includes the loss; backward includes the recomputed
 * forward and adding into the gradient sums, as in the stage worker. Roles
 * `ping`/`echo`: a stage boundary between two threads (download the tensor,
 * transfer the buffer, upload it on the other side), both ways.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './backends.js';
import { stepBatch, type ModelSpec } from './model.js';
import { StageModel } from './stage.js';

export interface LayerTiming {
  layer: number;
  /** Median ms over the repeats, or null when the backend cannot run (train) the layer. */
  forwardMs: number | null;
  backwardMs: number | null;
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
  | { role: 'layers'; spec: ModelSpec; backend: string; warmup: number; repeats: number }
  | { role: 'ping'; backend: string; sizes: number[]; warmup: number; repeats: number; port: MessagePort }
  | { role: 'echo'; backend: string; port: MessagePort };

const data = workerData as ProfileWorkerData;

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
}

function measure(warmup: number, repeats: number, run: () => void): { ms: number; spread: number } {
  for (let i = 0; i < warmup; i++) run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const ms = quantile(times, 0.5);
  return { ms, spread: ms > 0 ? (quantile(times, 0.9) - quantile(times, 0.1)) / ms : 0 };
}

function profileLayers(spec: ModelSpec, warmup: number, repeats: number): LayerTiming[] {
  const B = spec.microBatchSize;
  const M = 8;
  const { inputs, targets } = stepBatch(spec, 0, 1);
  const L = spec.layers.length;
  const timings: LayerTiming[] = [];
  for (let l = 0; l < L; l++) {
    const stage = new StageModel(spec, l, l);
    try {
      const x = l === 0 ? inputs[0] : Float32Array.from({ length: B * stage.inputShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
      const xTensor = stage.input(x, B);
      const outShape = [B, ...stage.outputShape()];
      const dy = tf.randomNormal(outShape, 0, 1e-3, 'float32', 1);
      const last = l === L - 1;
      const y = last ? tf.tensor(targets[0], outShape) : null;
      const lossOf = (out: tf.Tensor) =>
        spec.loss === 'softmaxCrossEntropy'
          ? tf.mul(tf.sum(tf.neg(tf.sum(tf.mul(y!, tf.logSoftmax(out)), 1))), 1 / (B * M))
          : tf.mul(tf.sum(tf.mean(tf.square(tf.sub(out, y!)), 1)), 1 / (B * M));
      const forward = measure(warmup, repeats, () =>
        tf.tidy(() => {
          const input = l === 0 ? stage.input(x, B) : xTensor;
          const out = stage.apply(input);
          if (last) lossOf(out);
        }),
      );
      let sums: tf.Tensor[] | null = null;
      const backward = measure(warmup, repeats, () => {
        const grads = tf.tidy(() => {
          const xs = l === 0 ? [...stage.variables] : [xTensor, ...stage.variables];
          const f = () => (last ? lossOf(stage.apply(xTensor)) : stage.apply(xTensor));
          return tf.grads(f)(xs, last ? undefined : dy);
        });
        const paramGrads = l === 0 ? grads : grads.slice(1);
        if (sums === null) sums = paramGrads.map((g) => g.clone());
        else sums = sums.map((s, i) => {
          const next = tf.add(s, paramGrads[i]);
          s.dispose();
          return next;
        });
        tf.dispose(grads);
      });
      tf.dispose([xTensor, dy, ...(y ? [y] : []), ...(sums ?? [])]);
      timings.push({ layer: l, forwardMs: forward.ms, backwardMs: backward.ms, forwardSpread: forward.spread, backwardSpread: backward.spread });
    } catch (error) {
      // A backend without a kernel the layer needs (wasm has no Conv2DBackpropFilter) cannot train it: no row.
      timings.push({ layer: l, forwardMs: null, backwardMs: null, forwardSpread: 0, backwardSpread: 0, reason: (error as Error).message.split('\n')[0] });
    } finally {
      stage.dispose();
    }
  }
  return timings;
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
  if (data.role === 'layers') parentPort!.postMessage(profileLayers(data.spec, data.warmup, data.repeats));
  else if (data.role === 'ping') parentPort!.postMessage(await ping(data.port, data.sizes, data.warmup, data.repeats));
  else echo(data.port);
}

main().catch((error: Error) => parentPort!.postMessage({ error: error.message }));
