/** The importers on real exported fixtures (profiles/fixtures), and on models built here byte by byte. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../../env/bundled.js';
import { UserError } from '../../env/errors.js';
import { parseCsv } from '../../env/csv.js';
import { evaluateDim } from './dims.js';
import { coarsen, toChain, topologicalOrder, type ImportedGraph, type OpNode } from './graph.js';
import { importModel, layersCsv } from './import-model.js';
import { importOnnx } from './onnx.js';
import { importTfjsLayers } from './tfjs-layers.js';

const FIXTURES = join(PACKAGE_ROOT, 'profiles', 'fixtures');
const CASES = [
  { file: 'resnet-block.onnx', meta: 'resnet-block.meta.json', dims: {} },
  { file: 'tiny-encoder.onnx', meta: 'tiny-encoder.meta.json', dims: { seq: 16 } },
  // torch 2.13's default export (dynamo, eval mode, fixed shapes): BN folded, zero biases dropped, identical tensors merged.
  { file: 'resnet-block-dynamo.onnx', meta: 'resnet-block-dynamo.meta.json', dims: {} },
  { file: 'tiny-encoder-dynamo.onnx', meta: 'tiny-encoder-dynamo.meta.json', dims: {} },
  { file: 'keras-cnn/model.json', meta: 'keras-cnn/model.meta.json', dims: {} },
  { file: 'keras-text/model.json', meta: 'keras-text/model.meta.json', dims: {} },
];

function load(c: (typeof CASES)[number], microBatchSize = 4, maxLayers?: number) {
  return importModel(join(FIXTURES, c.file), { microBatchSize, dims: new Map(Object.entries(c.dims)), maxLayers });
}

/** Every operator's activation inputs are produced by an operator in the same or an earlier row. */
function assertExecutionOrder(graph: ImportedGraph, rowsOps: string[][]): void {
  const rowOfOp = new Map<string, number>();
  rowsOps.forEach((ops, r) => ops.forEach((name) => rowOfOp.set(name, r)));
  assert.equal(rowOfOp.size, graph.nodes.length, 'every operator sits in exactly one row');
  const producer = new Map<string, OpNode>();
  for (const node of graph.nodes) for (const t of node.outputs) producer.set(t, node);
  const position = new Map<string, number>();
  rowsOps.flat().forEach((name, i) => position.set(name, i));
  for (const node of graph.nodes) {
    for (const t of node.inputs) {
      const from = producer.get(t);
      if (!from) continue; // a graph input
      assert.ok(position.get(from.name)! < position.get(node.name)!, `${from.name} runs before ${node.name}`);
    }
  }
}

for (const c of CASES) {
  test(`${c.file}: parameter total equals the framework's own count, exactly`, () => {
    const meta = JSON.parse(readFileSync(join(FIXTURES, c.meta), 'utf8'));
    const { rows, report } = load(c);
    // parameters_not_in_file: what the exporter itself left out (recorded, with why, by make_fixtures.py).
    const inFile = meta.parameters - (meta.parameters_not_in_file ?? 0);
    assert.equal(report.parameters, inFile);
    const paramBytes = rows.reduce((s, r) => s + r.paramBytes, 0);
    assert.equal(paramBytes, inFile * meta.bytes_per_parameter);
    // layers.csv carries the same numbers the loader reads.
    const table = parseCsv('layers.csv', layersCsv(rows), ['name', 'param_bytes', 'activation_bytes']);
    assert.equal(table.rows.reduce((s, r) => s + Number(r.get('param_bytes')), 0), paramBytes);
  });

  test(`${c.file}: rows are in a valid execution order and each cut holds at least its last outputs`, () => {
    const { graph, rows } = load(c);
    assertExecutionOrder(graph, rows.map((r) => r.opNames));
    for (const r of rows) {
      assert.ok(r.activationBytes >= r.lastOutputBytes, `${r.name}: ${r.activationBytes} >= ${r.lastOutputBytes}`);
      assert.ok(r.activationBytes > 0, `${r.name} ships something`);
    }
    assert.equal(new Set(rows.map((r) => r.name)).size, rows.length, 'unique layer names');
  });

  test(`${c.file}: bytes scale with the micro-batch size`, () => {
    const one = load(c, 1).rows;
    const eight = load(c, 8).rows;
    assert.equal(one.length, eight.length);
    // The heaviest row is a conv or a GEMM, linear in the batch; small shape tensors (int64 sizes) do not scale.
    const heaviest = one.reduce((best, r, i) => (r.flops > one[best].flops ? i : best), 0);
    assert.ok(Math.abs(eight[heaviest].flops / one[heaviest].flops - 8) < 1e-9);
    const ratio = eight[heaviest].activationBytes / one[heaviest].activationBytes;
    assert.ok(Math.abs(ratio - 8) < 0.1, `activation ratio ${ratio}`);
  });
}

test('tfjs fixtures: the layer configs give the same parameter counts as the weightsManifest', () => {
  for (const c of CASES.filter((x) => x.file.endsWith('.json'))) {
    const { report } = load(c);
    assert.ok(!report.notes.some((n) => /disagree/.test(n)), `${c.file}: ${report.notes.join('; ')}`);
    assert.equal(report.unsupported.length, 0);
  }
});

test('residual blocks: a cut inside a block carries the block input too (resnet-block.onnx)', () => {
  const { rows } = load(CASES[0]);
  const conv1 = rows.find((r) => r.name === '/layer1/conv1/Conv')!;
  // conv1's own output plus the block input that the residual Add reads later: 2 × 16 ch × 16 × 16 × 4 B × 4.
  assert.equal(conv1.lastOutputBytes, 4 * 16 * 16 * 16 * 4);
  assert.equal(conv1.activationBytes, 2 * conv1.lastOutputBytes);
});

test('attention: the tiny encoder carries the residual stream across the attention rows', () => {
  const { rows } = load(CASES[1]);
  const qkv = rows.find((r) => r.name === '/encoder/layers.0/self_attn/MatMul')!;
  assert.ok(qkv.activationBytes > qkv.lastOutputBytes, `${qkv.activationBytes} > ${qkv.lastOutputBytes}`);
  assert.ok(rows.some((r) => r.kinds.includes('embedding')), 'the token lookup is an embedding');
});

test('a missing dynamic dimension is named with the flag that sets it', () => {
  assert.throws(
    () => importModel(join(FIXTURES, 'tiny-encoder.onnx'), { microBatchSize: 2, dims: new Map() }),
    (error: unknown) => error instanceof UserError && /input "ids" dimension 1 is "seq", which has no value: give --dim seq=N/.test(error.message),
  );
});

test('truncated, corrupt and empty model files give one UserError, never a crash', () => {
  const bytes = readFileSync(join(FIXTURES, 'resnet-block.onnx'));
  for (const cut of [bytes.length - 1, Math.floor(bytes.length / 2), 100, 7]) {
    assert.throws(() => importOnnx('m.onnx', bytes.subarray(0, cut), { microBatchSize: 1, dims: new Map() }), UserError, `cut at ${cut}`);
  }
  const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24);
  assert.throws(() => importOnnx('g.onnx', garbage, { microBatchSize: 1, dims: new Map() }), UserError);
  const json = readFileSync(join(FIXTURES, 'keras-cnn', 'model.json'), 'utf8');
  assert.throws(() => importTfjsLayers('model.json', json.slice(0, json.length / 2), { microBatchSize: 1, dims: new Map() }), /not valid JSON/);
  assert.throws(() => importTfjsLayers('model.json', '{"format": "layers-model"}', { microBatchSize: 1, dims: new Map() }), /not a tfjs layers-model/);
});

/** An ONNX model written here with protobufjs: Gemm → a custom op → Relu → Gemm. */
function customOpModel(batch: number | string = 'N'): Uint8Array {
  const schema = readFileSync(join(PACKAGE_ROOT, 'profiles', 'import', 'onnx.proto'), 'utf8');
  const Model = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  const tensor = (name: string, dims: number[]) => ({ name, dims, data_type: 1, raw_data: new Uint8Array(4 * dims.reduce((p, d) => p * d, 1)) });
  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  const model = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'custom',
      node: [
        { name: 'fc1', op_type: 'Gemm', input: ['x', 'w1', 'b1'], output: ['h1'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
        { name: 'mystery', op_type: 'FancyNorm', domain: 'com.example', input: ['h1'], output: ['h2'] },
        { name: 'act', op_type: 'Relu', input: ['h2'], output: ['h3'] },
        { name: 'fc2', op_type: 'Gemm', input: ['h3', 'w2', 'b2'], output: ['y'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [tensor('w1', [32, 16]), tensor('b1', [32]), tensor('w2', [4, 32]), tensor('b2', [4])],
      input: [info('x', [batch, 16])],
      output: [info('y', [batch, 4])],
    },
  };
  return Model.encode(Model.fromObject(model)).finish();
}

test('an unsupported operator is reported by name and op type, and the import goes on', () => {
  const graph = importOnnx('custom.onnx', customOpModel(), { microBatchSize: 8, dims: new Map() });
  assert.deepEqual(graph.unsupported.map((u) => [u.name, u.opType]), [['mystery', 'com.example.FancyNorm']]);
  assert.match(graph.unsupported[0].rule, /memory-bound/);
  const rows = toChain(graph);
  assert.deepEqual(rows.map((r) => r.name), ['fc1', 'fc2']);
  assert.equal(rows[0].paramBytes, (32 * 16 + 32) * 4);
  assert.deepEqual(rows[0].ops, ['Gemm', 'com.example.FancyNorm', 'Relu']);
  // The custom op's output shape is taken from its input: 8 × 32 floats cross the cut.
  assert.equal(rows[0].activationBytes, 8 * 32 * 4);
  assert.equal(rows[0].flops, 2 * 8 * 16 * 32 + 8 * 32 + 8 * 32);
});

test('an attention mask traced as a constant (-inf entries) is not a parameter; a bias of the same op is', () => {
  const schema = readFileSync(join(PACKAGE_ROOT, 'profiles', 'import', 'onnx.proto'), 'utf8');
  const Model = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  const floats = (name: string, dims: number[], value: (i: number) => number) => {
    const data = new Float32Array(dims.reduce((p, d) => p * d, 1)).map((_, i) => value(i));
    return { name, dims, data_type: 1, raw_data: new Uint8Array(data.buffer) };
  };
  const info = (name: string, dims: number[]) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } });
  const bytes = Model.encode(Model.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      node: [
        { name: 'scores', op_type: 'MatMul', input: ['x', 'w'], output: ['s'] },
        { name: 'masked', op_type: 'Add', input: ['s', 'mask'], output: ['m'] },
        { name: 'biased', op_type: 'Add', input: ['m', 'bias'], output: ['y'] },
      ],
      initializer: [
        floats('w', [4, 4], (i) => i / 10),
        floats('mask', [4, 4], (i) => (i % 4 > Math.floor(i / 4) ? -Infinity : 0)),
        floats('bias', [4, 4], (i) => i / 7),
      ],
      input: [info('x', [4, 4])],
      output: [info('y', [4, 4])],
    },
  })).finish();
  const graph = importOnnx('mask.onnx', bytes, { microBatchSize: 4, dims: new Map() });
  assert.equal(graph.nodes.reduce((s, n) => s + n.params, 0), 32);
  assert.ok(graph.notes.some((n) => /-inf/.test(n) && /mask/.test(n)));
});

test('control flow: an If is reported, reads what its branches read, and owns their weights', () => {
  const schema = readFileSync(join(PACKAGE_ROOT, 'profiles', 'import', 'onnx.proto'), 'utf8');
  const Model = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  const tensor = (name: string, dims: number[], type = 1) => ({ name, dims, data_type: type, raw_data: new Uint8Array((type === 7 ? 8 : 4) * dims.reduce((p, d) => p * d, 1)) });
  const info = (name: string, dims: (number | string)[]) => ({
    name,
    type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  });
  const branch = (name: string, op: string, weight: string, inner: boolean) => ({
    name,
    node: [{ name: `${name}_op`, op_type: op, input: ['h', weight], output: [`${name}_out`] }],
    initializer: inner ? [tensor(weight, [8])] : [],
    output: [info(`${name}_out`, ['N', 8])],
  });
  const bytes = Model.encode(Model.fromObject({
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      node: [
        { name: 'fc1', op_type: 'Gemm', input: ['x', 'w1'], output: ['h'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
        { name: 'total', op_type: 'ReduceSum', input: ['h'], output: ['s'], attribute: [{ name: 'keepdims', type: 2, i: 0 }] },
        { name: 'positive', op_type: 'Greater', input: ['s', 'zero'], output: ['c'] },
        {
          name: 'branch', op_type: 'If', input: ['c'], output: ['y'],
          attribute: [
            { name: 'then_branch', type: 5, g: branch('then', 'Add', 'w_then', false) },
            { name: 'else_branch', type: 5, g: branch('else', 'Mul', 'w_else', true) },
          ],
        },
        { name: 'fc2', op_type: 'Gemm', input: ['y', 'w2'], output: ['z'], attribute: [{ name: 'transB', type: 2, i: 1 }] },
      ],
      initializer: [tensor('w1', [8, 4]), tensor('w_then', [8]), tensor('w2', [2, 8]), tensor('zero', [])],
      input: [info('x', ['N', 4])],
      output: [info('z', ['N', 2])],
    },
  })).finish();
  const graph = importOnnx('if.onnx', bytes, { microBatchSize: 3, dims: new Map() });
  assert.deepEqual(graph.unsupported.map((u) => [u.name, u.opType]), [['branch', 'If']]);
  const branchNode = graph.nodes.find((n) => n.name === 'branch')!;
  assert.ok(branchNode.inputs.includes('h'), 'the If reads h through its branches');
  assert.equal(branchNode.params, 8 + 8);
  assert.equal(graph.nodes.reduce((s, n) => s + n.params, 0), 32 + 8 + 8 + 16);
  const rows = toChain(graph);
  assertExecutionOrder(graph, rows.map((r) => r.opNames));
  assert.equal(graph.tensorBytes.get('y'), 3 * 8 * 4, "the If's output shape comes from its branch");
});

test('a model exported with a fixed batch is scaled to the micro-batch size (activations and FLOPs, not weights)', () => {
  const fixed = toChain(importOnnx('fixed.onnx', customOpModel(2), { microBatchSize: 8, dims: new Map() }));
  const dynamic = toChain(importOnnx('dynamic.onnx', customOpModel('N'), { microBatchSize: 8, dims: new Map() }));
  assert.deepEqual(fixed.map((r) => [r.activationBytes, r.flops, r.paramBytes, r.bytesTouched]), dynamic.map((r) => [r.activationBytes, r.flops, r.paramBytes, r.bytesTouched]));
});

test('Keras 2 Sequential model.json (tfjs converter layout) without a manifest: params from the configs', () => {
  const model = {
    format: 'layers-model',
    modelTopology: {
      model_config: {
        class_name: 'Sequential',
        config: {
          name: 'seq',
          layers: [
            { class_name: 'Embedding', config: { name: 'emb', input_dim: 1000, output_dim: 16, batch_input_shape: [null, 20], dtype: 'float32' } },
            { class_name: 'LSTM', config: { name: 'lstm', units: 8, return_sequences: false } },
            { class_name: 'Dense', config: { name: 'out', units: 3, activation: 'softmax' } },
          ],
        },
      },
    },
  };
  const graph = importTfjsLayers('model.json', JSON.stringify(model), { microBatchSize: 2, dims: new Map() });
  const params = graph.nodes.map((n) => [n.name, n.params]);
  assert.deepEqual(params, [['emb', 16000], ['lstm', 4 * 8 * (16 + 8) + 4 * 8], ['out', 8 * 3 + 3]]);
  const rows = toChain(graph);
  assert.equal(rows[0].activationBytes, 2 * 20 * 16 * 4);
  assert.equal(rows[2].activationBytes, 2 * 3 * 4);
});

test('topological order: Kahn with file order among ready operators; a cycle is a UserError', () => {
  const op = (name: string, inputs: string[], outputs: string[]): OpNode => ({ name, opType: 'X', inputs, outputs, params: 1, paramBytes: 4, flops: 0, bytesTouched: 0, kind: 'memory' });
  const nodes = [op('c', ['b'], ['c']), op('a', ['x'], ['a']), op('b', ['a'], ['b'])];
  assert.deepEqual(topologicalOrder(nodes).map((n) => n.name), ['a', 'b', 'c']);
  assert.throws(() => topologicalOrder([op('p', ['q'], ['p']), op('q', ['p'], ['q'])]), /cycle/);
});

test('coarsen keeps the totals and the cut after each merged row', () => {
  const { rows } = load(CASES[1]);
  const merged = coarsen(rows, 6);
  assert.equal(merged.length, 6);
  assert.equal(merged.reduce((s, r) => s + r.paramBytes, 0), rows.reduce((s, r) => s + r.paramBytes, 0));
  assert.equal(merged.reduce((s, r) => s + r.flops, 0), rows.reduce((s, r) => s + r.flops, 0));
  assert.equal(merged[merged.length - 1].activationBytes, rows[rows.length - 1].activationBytes);
  for (const r of merged) assert.equal(r.activationBytes, rows.find((x) => x.opNames[x.opNames.length - 1] === r.opNames[r.opNames.length - 1])!.activationBytes);
});

test('dimension expressions evaluate without eval', () => {
  const b = new Map([['s0', 16], ['batch', 4]]);
  assert.equal(evaluateDim('s0', b), 16);
  assert.equal(evaluateDim('2*s0 + 1', b), 33);
  assert.equal(evaluateDim('s0//3', b), 5);
  assert.equal(evaluateDim('(batch + s0) * 2', b), 40);
  assert.equal(evaluateDim('max(s0, 20)', b), 20);
  assert.equal(evaluateDim('unknown', b), undefined);
  assert.equal(evaluateDim('s0; process.exit()', b), undefined);
});

test('mutated model files: a table of finite numbers or a UserError, never another exception (seeded)', () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const check = (run: () => ImportedGraph) => {
    try {
      for (const r of toChain(run())) assert.ok([r.paramBytes, r.activationBytes, r.flops, r.bytesTouched].every(Number.isFinite), r.name);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
    }
  };
  for (const file of ['resnet-block.onnx', 'tiny-encoder.onnx']) {
    const original = readFileSync(join(FIXTURES, file));
    for (let i = 0; i < 60; i++) {
      const bytes = Buffer.from(original);
      for (let k = 0; k < 1 + Math.floor(random() * 5); k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      check(() => importOnnx(file, bytes, { microBatchSize: 2, dims: new Map([['seq', 8]]) }));
    }
  }
  for (const file of ['keras-cnn/model.json', 'keras-text/model.json']) {
    const text = readFileSync(join(FIXTURES, file), 'utf8');
    for (let i = 0; i < 60; i++) {
      const json = JSON.parse(text);
      const layers = json.modelTopology.model_config.config.layers;
      const layer = layers[Math.floor(random() * layers.length)];
      const keys = Object.keys(layer.config);
      const r = random();
      layer.config[keys[Math.floor(random() * keys.length)]] = r < 0.3 ? null : r < 0.6 ? 'x' : r < 0.8 ? -3 : [];
      if (random() < 0.2) layer.inbound_nodes = 5;
      check(() => importTfjsLayers(file, JSON.stringify(json), { microBatchSize: 2, dims: new Map() }));
    }
  }
});
