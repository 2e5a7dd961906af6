import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { evaluate } from '../env/simulate.js';
import type { Placement, Problem, Settings } from '../env/problem.js';
import { deriveLayer, MODELS } from './architectures.js';
import { profilesDir } from './generate.js';
import { HARDWARE } from './hardware.js';
import { bundledProblems, generatedFiles, toyProblem } from './problems.js';
import { problemToCsv, syntheticProblem } from './synthetic.js';

const ROOT = profilesDir();
const PROBLEMS = join(ROOT, 'problems');
const GIB = 2 ** 30;

type Row = Record<string, string>;
const readCsv = (file: string): { columns: string[]; rows: Row[] } => {
  const text = readFileSync(file, 'utf8');
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Row[];
  const columns = (parse(text, { to_line: 1 }) as string[][])[0];
  return { columns, rows };
};

test('synthetic: same seed gives identical CSV text, another seed does not', () => {
  for (const options of [
    { layers: 8, types: 3, seed: 1 },
    { layers: 60, types: 4, seed: 60 },
    { layers: 200, types: 6, seed: 12345 },
  ]) {
    assert.deepEqual(problemToCsv(syntheticProblem(options)), problemToCsv(syntheticProblem(options)));
    assert.notDeepEqual(problemToCsv(syntheticProblem(options)), problemToCsv(syntheticProblem({ ...options, seed: options.seed + 1 })));
  }
});

test('synthetic: shape, runnable layers, missing pairs and float64 round trip', () => {
  let missing = 0;
  let tightTypes = 0;
  for (let seed = 0; seed < 20; seed++) {
    const p = syntheticProblem({ layers: 30, types: 4, seed });
    const K = p.types.length;
    assert.equal(p.layers.length, 30);
    assert.equal(K, 4);
    assert.equal(new Set(p.layers.map((l) => l.name)).size, 30);
    p.layers.forEach((_, l) => {
      let runnable = 0;
      for (let k = 0; k < K; k++) {
        const f = p.forwardMs[l * K + k];
        if (Number.isNaN(f)) {
          missing++;
          assert.ok(Number.isNaN(p.backwardMs[l * K + k]));
        } else {
          runnable++;
          assert.ok(f > 0 && p.backwardMs[l * K + k] > 0);
        }
      }
      assert.ok(runnable > 0, `seed ${seed}: layer ${l} runs nowhere`);
    });
    const footprint = p.layers.reduce((s, l) => s + 4 * l.paramBytes + 8 * l.activationBytes, 0);
    tightTypes += p.types.filter((t) => t.memoryBytes < footprint).length;
    // Reading the CSV back gives the identical float64 values.
    const csv = problemToCsv(p);
    const profile = parse(csv.profile, { columns: true }) as Row[];
    for (const row of profile) {
      const l = p.layers.findIndex((layer) => layer.name === row.layer);
      const k = p.types.findIndex((t) => t.name === row.type);
      assert.equal(Number(row.forward_ms), p.forwardMs[l * K + k]);
      assert.equal(Number(row.backward_ms), p.backwardMs[l * K + k]);
    }
    const devices = parse(csv.devices, { columns: true }) as Row[];
    devices.forEach((row, k) => assert.equal(Number(row.price_per_hour), p.types[k].pricePerHour));
  }
  assert.ok(missing > 0, 'some (layer, type) pairs are missing');
  assert.ok(tightTypes > 0, 'some types cannot hold the whole model');
});

test('synthetic: rejects bad options', () => {
  assert.throws(() => syntheticProblem({ layers: 0, types: 3, seed: 1 }));
  assert.throws(() => syntheticProblem({ layers: 5, types: 99, seed: 1 }));
});

test('bundled problems: the columns of README "Input files", unique names, known references, every layer runnable', () => {
  // Every folder env/bundled.ts would list, including ones other tools write (local-*).
  const names = readdirSync(PROBLEMS, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(PROBLEMS, e.name, 'layers.csv')))
    .map((e) => e.name);
  for (const expected of ['bert-base', 'ctr', 'gpt2-medium', 'resnet50', 'vgg16', 'synthetic-small', 'synthetic-60', 'toy']) {
    assert.ok(names.includes(expected), `profiles/problems/${expected} exists`);
  }
  for (const name of names) {
    const dir = join(PROBLEMS, name);
    const layers = readCsv(join(dir, 'layers.csv'));
    const devices = readCsv(join(dir, 'devices.csv'));
    const profile = readCsv(join(dir, 'profile.csv'));
    for (const c of ['name', 'param_bytes', 'activation_bytes']) assert.ok(layers.columns.includes(c), `${name}/layers.csv has ${c}`);
    for (const c of ['type', 'price_per_hour', 'count', 'memory_bytes', 'bandwidth_bytes_per_s']) assert.ok(devices.columns.includes(c), `${name}/devices.csv has ${c}`);
    for (const c of ['layer', 'type', 'forward_ms', 'backward_ms']) assert.ok(profile.columns.includes(c), `${name}/profile.csv has ${c}`);

    const layerNames = layers.rows.map((r) => r.name);
    const typeNames = devices.rows.map((r) => r.type);
    assert.equal(new Set(layerNames).size, layerNames.length, `${name}: unique layer names`);
    assert.equal(new Set(typeNames).size, typeNames.length, `${name}: unique type names`);
    for (const r of layers.rows) for (const c of ['param_bytes', 'activation_bytes']) assert.ok(Number(r[c]) >= 0, `${name} ${r.name} ${c}`);
    for (const r of devices.rows) {
      assert.ok(Number(r.price_per_hour) >= 0 && Number(r.memory_bytes) > 0 && Number(r.bandwidth_bytes_per_s) > 0, `${name} ${r.type}`);
      assert.ok(Number.isInteger(Number(r.count)) && Number(r.count) >= 1, `${name} ${r.type} count`);
    }
    const pairs = new Set<string>();
    const runnable = new Set<string>();
    for (const r of profile.rows) {
      assert.ok(layerNames.includes(r.layer), `${name}: profile layer ${r.layer} is in layers.csv`);
      assert.ok(typeNames.includes(r.type), `${name}: profile type ${r.type} is in devices.csv`);
      const key = `${r.layer}\u0000${r.type}`;
      assert.ok(!pairs.has(key), `${name}: one row per pair (${r.layer}, ${r.type})`);
      pairs.add(key);
      assert.ok(Number(r.forward_ms) >= 0 && Number(r.backward_ms) >= 0 && Number.isFinite(Number(r.forward_ms)), `${name}: times of ${r.layer} on ${r.type}`);
      runnable.add(r.layer);
    }
    for (const layer of layerNames) assert.ok(runnable.has(layer), `${name}: layer ${layer} runs on some type`);

    // problem.json is optional for env/bundled.ts; ours always carry all four keys (checked below).
    if (existsSync(join(dir, 'problem.json'))) {
      const meta = JSON.parse(readFileSync(join(dir, 'problem.json'), 'utf8'));
      if (meta.objective !== undefined) assert.ok(['time', 'cost'].includes(meta.objective));
      if (meta.microBatches !== undefined) assert.ok(Number.isInteger(meta.microBatches) && meta.microBatches >= 1);
      if (meta.budget !== undefined) assert.ok(meta.budget > 0);
    }
  }
  for (const { name, meta } of bundledProblems()) {
    const onDisk = JSON.parse(readFileSync(join(PROBLEMS, name, 'problem.json'), 'utf8'));
    assert.deepEqual(Object.keys(onDisk).sort(), ['budget', 'description', 'microBatches', 'objective']);
    assert.deepEqual(onDisk, meta);
  }
  const catalogue = readCsv(join(ROOT, 'catalogues', 'cloud.csv'));
  assert.deepEqual(catalogue.rows.map((r) => r.type), ['cpu', 'gpu-t4', 'gpu-v100', 'gpu-a100', 'accel', 'cpu-m7i', 'gpu-l4', 'gpu-a10g', 'gpu-h100']);
});

test('generated files are up to date with the generator', () => {
  const files = generatedFiles();
  for (const [path, text] of files) {
    const file = join(ROOT, path);
    assert.ok(existsSync(file), `${path} exists (run npm run profiles:generate)`);
    assert.equal(readFileSync(file, 'utf8'), text, `${path} is stale: run npm run profiles:generate and commit`);
  }
});

test('models: sizes match the published architectures', () => {
  const params = (name: string) => MODELS[name]().layers.reduce((s, l) => s + l.params, 0);
  const near = (x: number, target: number, tol: number) => Math.abs(x - target) / target < tol;
  // ResNet-50: 25.6M; VGG-16: 138M; BERT-base 110M (+23.5M for the untied MLM decoder copy);
  // GPT-2 medium 355M (+51.5M for the untied head copy).
  assert.ok(near(params('resnet50'), 25.6e6, 0.01), `resnet50 ${params('resnet50')}`);
  assert.ok(near(params('vgg16'), 138.4e6, 0.01), `vgg16 ${params('vgg16')}`);
  assert.ok(near(params('bert-base') - (768 * 30522 + 30522), 110e6, 0.02), `bert ${params('bert-base')}`);
  assert.ok(near(params('gpt2-medium') - 1024 * 50257, 355e6, 0.01), `gpt2 ${params('gpt2-medium')}`);
  const counts = Object.fromEntries(Object.keys(MODELS).map((m) => [m, MODELS[m]().layers.length]));
  assert.ok(counts.resnet50 >= 50 && counts.resnet50 <= 60);
  assert.ok(counts['bert-base'] >= 48 && counts['bert-base'] <= 55);
  assert.ok(counts['gpt2-medium'] > 100);
  assert.ok(counts.vgg16 >= 16 && counts.vgg16 <= 22);
  const ctr = MODELS.ctr();
  const embedding = ctr.layers.filter((l) => l.kind === 'embedding').reduce((s, l) => s + l.params * 4, 0);
  assert.ok(embedding > 4e9, 'the CTR embeddings are several GB');
  // Every derived number is finite and non-negative.
  for (const name of Object.keys(MODELS)) {
    const spec = MODELS[name]();
    for (const layer of spec.layers) {
      const d = deriveLayer(layer, spec.microBatch);
      for (const x of [d.paramBytes, d.activationBytes, d.work.forwardFlops, d.work.forwardBytes, d.work.backwardFlops, d.work.backwardBytes]) {
        assert.ok(Number.isFinite(x) && x >= 0, `${name} ${layer.name}`);
      }
    }
  }
});

/** Memory of all layers on one unit (README "The model the simulator scores", memory). */
function wholeModelBytes(p: Problem, M: number): number {
  return p.layers.reduce((s, l) => s + 4 * l.paramBytes + M * l.activationBytes, 0);
}

test('memory binds somewhere: the CTR embedding and GPT-2 medium do not fit a 16 GiB GPU', () => {
  const byName = new Map(bundledProblems().map((b) => [b.name, b]));
  const ctr = byName.get('ctr')!;
  const large = ctr.problem.layers.find((l) => l.name === 'embedding-large')!;
  const t4 = ctr.problem.types.find((t) => t.name === 'gpu-t4')!;
  assert.ok(4 * large.paramBytes > t4.memoryBytes, 'CTR large embedding does not fit a T4');
  const gpt = byName.get('gpt2-medium')!;
  for (const type of ['gpu-t4', 'gpu-v100']) {
    const t = gpt.problem.types.find((x) => x.name === type)!;
    assert.equal(t.memoryBytes, 16 * GIB);
    assert.ok(wholeModelBytes(gpt.problem, gpt.meta.microBatches) > t.memoryBytes, `GPT-2 medium does not fit one ${type}`);
  }
  // …but some single type does hold it, so pipelines are a choice, not forced everywhere.
  assert.ok(gpt.problem.types.some((t) => wholeModelBytes(gpt.problem, gpt.meta.microBatches) <= t.memoryBytes));
});

test('the accelerator cannot run embedding lookups: those pairs are left out', () => {
  const K = HARDWARE.length;
  const accel = HARDWARE.findIndex((h) => h.type === 'accel');
  for (const { name, problem } of bundledProblems().filter((b) => MODELS[b.name])) {
    const spec = MODELS[name]();
    spec.layers.forEach((layer, l) => {
      assert.equal(Number.isNaN(problem.forwardMs[l * K + accel]), layer.kind === 'embedding', `${name} ${layer.name}`);
    });
  }
});

test('toy: the hand-computed optimum of the README', () => {
  const p = toyProblem();
  const settings: Settings = { microBatches: 4, objective: 'time', budget: 3.5, deadline: Infinity };
  const CPU = 0;
  const GPU = 1;
  // Every placement with at most 2 CPUs and 1 GPU (stages of one type may repeat).
  const all: Placement[] = [];
  const extend = (first: number, stages: Placement) => {
    if (first === 4) return all.push(stages.map((s) => ({ ...s })));
    for (let last = first; last < 4; last++) {
      for (const [type, max] of [[CPU, 2], [GPU, 1]] as const) {
        for (let replicas = 1; replicas <= max; replicas++) extend(last + 1, [...stages, { type, replicas, first, last }]);
      }
    }
  };
  extend(0, []);
  const scored = all.map((placement) => ({ placement, e: evaluate(p, settings, placement) }));
  const feasible = scored.filter((s) => s.e.feasible);
  const best = feasible.reduce((a, b) => (b.e.stepMs! < a.e.stepMs! ? b : a));
  assert.equal(best.e.stepMs, 120);
  assert.equal(best.e.pricePerHour, 2);
  assert.deepEqual(best.placement, [
    { type: CPU, replicas: 1, first: 0, last: 1 },
    { type: CPU, replicas: 1, first: 2, last: 3 },
  ]);
  // Without the budget: embed on a CPU, the rest on the GPU, 36 ms at $4/h.
  const free: Settings = { ...settings, budget: Infinity };
  const fastest = all
    .map((placement) => evaluate(p, free, placement))
    .filter((e) => e.feasible)
    .reduce((a, b) => (b.stepMs! < a.stepMs! ? b : a));
  assert.equal(fastest.stepMs, 36);
  assert.equal(fastest.pricePerHour, 4);
  // All on one CPU: the cheapest, 184 ms at $1/h.
  const one = evaluate(p, settings, [{ type: CPU, replicas: 1, first: 0, last: 3 }]);
  assert.equal(one.stepMs, 184);
  assert.equal(one.pricePerHour, 1);
});
