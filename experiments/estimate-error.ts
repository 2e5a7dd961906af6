/**
 * How far is `placer estimate` from `placer profile`? On the types this
 * machine has (the tfjs `cpu` and `wasm` backends of profiles/local/), the
 * roofline is given three measured figures per backend, from micro-benchmarks
 * that know nothing of the models: a 256³ matMul (sustained FLOP/s), an add of
 * two 1 M-element tensors (bytes/s) and an add of two 1-element tensors (the
 * per-op overhead). Efficiencies are then 1. The bundled `mlp` and `cnn`
 * models are written as tfjs layers-models, imported, estimated layer by
 * layer, and compared with their committed measured profiles
 * (profiles/local/<model>/profile.csv).
 *
 *   npm run exp:estimate      → experiments/results/estimate-vs-measured.{json,md}
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../env/bundled.js';
import { writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import { readCsv } from '../env/csv.js';
import { useBackend } from '../env/real/backends.js';
import { importTfjsLayers } from '../profiles/import/tfjs-layers.js';
import { passMs, type Roofline } from '../profiles/estimate/roofline.js';

interface ModelSpec {
  name: string;
  inputShape: number[];
  microBatchSize: number;
  layers: { name: string; type: string; config: Record<string, unknown> }[];
}

/** placer's own model description → the tfjs layers-model topology the importer reads. */
function asLayersModel(spec: ModelSpec): string {
  const layers: unknown[] = [{ class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, ...spec.inputShape], dtype: 'float32' } }];
  for (const l of spec.layers) {
    const c = l.config;
    const config: Record<string, unknown> = { name: l.name, activation: c.activation ?? 'linear' };
    if (l.type === 'dense') layers.push({ class_name: 'Dense', config: { ...config, units: c.units } });
    else if (l.type === 'conv2d') layers.push({ class_name: 'Conv2D', config: { ...config, filters: c.filters, kernel_size: [c.kernelSize, c.kernelSize], padding: c.padding ?? 'valid', strides: [1, 1] } });
    else if (l.type === 'maxPooling2d') layers.push({ class_name: 'MaxPooling2D', config: { name: l.name, pool_size: [c.poolSize, c.poolSize], padding: 'valid' } });
    else if (l.type === 'flatten') layers.push({ class_name: 'Flatten', config: { name: l.name } });
    else throw new Error(`estimate-error: layer type ${l.type} not mapped`);
  }
  return JSON.stringify({ format: 'layers-model', modelTopology: { model_config: { class_name: 'Sequential', config: { name: spec.name, layers } } } });
}

function timeMs(run: () => tf.Tensor, repeats: number): number {
  for (let i = 0; i < 3; i++) run().dispose();
  const start = performance.now();
  let last: tf.Tensor | undefined;
  for (let i = 0; i < repeats; i++) {
    last?.dispose();
    last = run();
  }
  last!.dataSync();
  last!.dispose();
  return (performance.now() - start) / repeats;
}

/** Three model-free figures of the active backend. */
function calibrate(): { gemmFlops: number; bytesPerS: number; overheadMs: number } {
  const n = 256;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const gemmMs = timeMs(() => tf.matMul(a, b), 20);
  const big = 1 << 20;
  const x = tf.randomNormal([big], 0, 1, 'float32', 3);
  const y = tf.randomNormal([big], 0, 1, 'float32', 4);
  const addMs = timeMs(() => tf.add(x, y), 20);
  const one = tf.tensor1d([1]);
  const overheadMs = timeMs(() => tf.add(one, one), 2000);
  tf.dispose([a, b, x, y, one]);
  return { gemmFlops: (2 * n ** 3) / (gemmMs / 1000), bytesPerS: (3 * 4 * big) / (addMs / 1000), overheadMs };
}

interface Row {
  model: string;
  layer: string;
  type: string;
  pass: 'forward' | 'backward';
  estimatedMs: number;
  measuredMs: number;
}

async function main(): Promise<void> {
  const backends: Record<string, string> = { 'local-cpu': 'cpu', 'local-wasm': 'wasm' };
  const calibration: Record<string, ReturnType<typeof calibrate>> = {};
  for (const [type, backend] of Object.entries(backends)) {
    await useBackend(backend);
    calibration[type] = calibrate();
  }
  const rows: Row[] = [];
  for (const model of ['mlp', 'cnn']) {
    const spec = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'profiles', 'models', `${model}.json`), 'utf8')) as ModelSpec;
    const graph = importTfjsLayers(`${model}.json`, asLayersModel(spec), { microBatchSize: spec.microBatchSize, dims: new Map() });
    const measured = readCsv(join(PACKAGE_ROOT, 'profiles', 'local', model, 'profile.csv'), ['layer', 'type', 'forward_ms', 'backward_ms']);
    for (const row of measured.rows) {
      const type = row.get('type');
      const c = calibration[type];
      if (!c) continue; // the -b twins repeat the same measurement
      const node = graph.nodes.find((n) => n.name === row.get('layer'));
      if (!node) throw new Error(`estimate-error: ${model} has no layer ${row.get('layer')}`);
      const roofline: Roofline = {
        peakFlopsFp32: c.gemmFlops, peakFlopsBf16: c.gemmFlops, memoryBandwidth: c.bytesPerS,
        computeEfficiency: 1, convEfficiency: 1, gemmEfficiency: 1, memoryEfficiency: 1, overheadMs: c.overheadMs, cannotRun: new Set(), from: 'calibrated',
      };
      const kernels = node.kind === 'shape' ? 0 : 1;
      rows.push({ model, layer: node.name, type, pass: 'forward', estimatedMs: passMs(roofline, 'fp32', node.flops, node.bytesTouched, kernels), measuredMs: Number(row.get('forward_ms')) });
      rows.push({ model, layer: node.name, type, pass: 'backward', estimatedMs: passMs(roofline, 'fp32', 2 * node.flops, 2 * node.bytesTouched, 2 * kernels), measuredMs: Number(row.get('backward_ms')) });
    }
  }

  const median = (xs: number[]) => {
    const s = [...xs].sort((p, q) => p - q);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const summary: Record<string, unknown>[] = [];
  for (const model of ['mlp', 'cnn']) {
    for (const type of Object.keys(backends)) {
      for (const pass of ['forward', 'backward'] as const) {
        const group = rows.filter((r) => r.model === model && r.type === type && r.pass === pass && r.measuredMs > 0);
        if (!group.length) continue;
        const ratios = group.map((r) => r.estimatedMs / r.measuredMs);
        const est = group.reduce((s, r) => s + r.estimatedMs, 0);
        const meas = group.reduce((s, r) => s + r.measuredMs, 0);
        summary.push({
          model, type, pass, layers: group.length,
          medianAbsRelError: median(ratios.map((q) => Math.abs(q - 1))),
          geometricMeanRatio: Math.exp(ratios.reduce((s, q) => s + Math.log(q), 0) / ratios.length),
          sumEstimatedMs: est, sumMeasuredMs: meas, sumRatio: est / meas,
        });
      }
    }
  }
  const out = join(PACKAGE_ROOT, 'experiments', 'results');
  writeJsonAtomic(join(out, 'estimate-vs-measured.json'), { command: 'npm run exp:estimate', calibration, summary, rows });
  const f = (x: number) => Number(x.toPrecision(3)).toString();
  const md = [
    '# Roofline estimate vs measured profile (local tfjs backends)',
    '',
    'Written by `npm run exp:estimate` (experiments/estimate-error.ts). Calibration (this run, model-free micro-benchmarks):',
    '',
    '| type | matMul 256³ FLOP/s | add 1M bytes/s | per-op overhead ms |',
    '| --- | --- | --- | --- |',
    ...Object.entries(calibration).map(([t, c]) => `| ${t} | ${f(c.gemmFlops / 1e9)} G | ${f(c.bytesPerS / 1e9)} G | ${f(c.overheadMs)} |`),
    '',
    'Error per (model, type, pass) over the layers with a non-zero measurement. Ratio = estimated / measured; the sum ratio compares the sum over layers (what a stage adds up).',
    '',
    '| model | type | pass | layers | median abs. rel. error | geometric-mean ratio | sum ratio |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...summary.map((s) => `| ${s.model} | ${s.type} | ${s.pass} | ${s.layers} | ${f(s.medianAbsRelError as number)} | ${f(s.geometricMeanRatio as number)} | ${f(s.sumRatio as number)} |`),
    '',
  ].join('\n');
  writeFileAtomic(join(out, 'estimate-vs-measured.md'), md);
  process.stdout.write(md);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
