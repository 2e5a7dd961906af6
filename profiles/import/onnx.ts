/**
 * Reads an ONNX model (what PyTorch, Hugging Face and most frameworks export)
 * into the model-neutral graph of graph.ts.
 *
 * The file is decoded by protobufjs against ONNX's own schema (onnx.proto,
 * copied unchanged from the onnx Python package 1.23.1, Apache-2.0), not by a
 * hand-written parser. Weights are never read: only initializer shapes and
 * dtypes, so models with external data work from the .onnx file alone.
 *
 * Parameters: a floating-point initializer with more than one element is a
 * parameter, counted once at its first user (tied weights count once, as the
 * framework counts them). Not parameters: integer initializers (shapes,
 * indices), scalars, and BatchNormalization's running mean and variance
 * (buffers, which PyTorch does not count either). Weights reached through
 * operators on weights only (a Transpose of a weight, a Cast) stay weights.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { PACKAGE_ROOT } from '../../env/bundled.js';
import { UserError } from '../../env/errors.js';
import { dimNames, evaluateDim, type Bindings } from './dims.js';
import type { ImportedGraph, OpNode, UnsupportedOp } from './graph.js';
import { isModelled, opFlops, opKind, VIEW_OPS } from './onnx-costs.js';
import { inferNode, type AttrValue, type TensorFacts } from './onnx-shapes.js';

export interface ImportOptions {
  /** Samples per micro-batch: the value of every graph input's first (batch) dimension. */
  microBatchSize: number;
  /** Values of named symbolic dimensions (`--dim seq=128`). */
  dims: Bindings;
}

/** Bytes per element of each TensorProto.DataType (4-bit types count half a byte). */
const DTYPE_BYTES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 8: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 14: 8, 15: 16, 16: 2,
  17: 1, 18: 1, 19: 1, 20: 1, 21: 0.5, 22: 0.5, 23: 0.5, 24: 1,
};
const DTYPE_NAMES: Record<number, string> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool', 10: 'float16',
  11: 'float64', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn',
  18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1', 24: 'float8e8m0',
};
const FLOAT_TYPES = new Set([1, 10, 11, 16, 17, 18, 19, 20, 23, 24]);

let modelType: protobuf.Type | undefined;
function onnxModelType(): protobuf.Type {
  if (!modelType) {
    const schema = readFileSync(join(PACKAGE_ROOT, 'profiles', 'import', 'onnx.proto'), 'utf8');
    modelType = protobuf.parse(schema, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelType;
}

type Long = { toNumber(): number } | number | string;
const num = (x: Long | undefined | null): number => (x === undefined || x === null ? 0 : typeof x === 'object' ? x.toNumber() : Number(x));

// Shapes of the decoded protobuf objects (only the fields read here).
interface TensorProto {
  name?: string;
  data_location?: number;
  external_data?: { key?: string; value?: string }[];
  dims?: Long[];
  data_type?: number;
  raw_data?: Uint8Array;
  int64_data?: Long[];
  int32_data?: number[];
  float_data?: number[];
  double_data?: number[];
}
interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: Long;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: Long[];
  strings?: Uint8Array[];
  g?: GraphProto;
  graphs?: GraphProto[];
}
interface NodeProto {
  name?: string;
  op_type: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProto[];
}
interface DimProto {
  dim_value?: Long;
  dim_param?: string;
}
interface ValueInfoProto {
  name: string;
  type?: { tensor_type?: { elem_type?: number; shape?: { dim?: DimProto[] } } };
}
interface GraphProto {
  node?: NodeProto[];
  initializer?: TensorProto[];
  sparse_initializer?: { values?: TensorProto; dims?: Long[] }[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
}

/** Decodes the protobuf; a truncated or foreign file becomes one UserError. */
export function decodeOnnx(file: string, bytes: Uint8Array): GraphProto {
  let model: { graph?: GraphProto; ir_version?: Long };
  try {
    model = onnxModelType().decode(bytes) as unknown as { graph?: GraphProto };
  } catch (error) {
    const reason = (error as Error).message.replace(/\s+/g, ' ');
    throw new UserError(`${file}: not a readable ONNX model (${reason}); the file may be truncated or corrupt`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) {
    throw new UserError(`${file}: not an ONNX model: it decodes but holds no graph with operators`);
  }
  return graph;
}

function tensorValue(t: TensorProto): number[] | undefined {
  const n = (t.dims ?? []).reduce((p: number, d) => p * num(d), 1);
  if (n > 64) return undefined;
  if (t.int64_data && t.int64_data.length) return t.int64_data.map(num);
  if (t.int32_data && t.int32_data.length) return t.int32_data.map(Number);
  if (t.float_data && t.float_data.length) return t.float_data.map(Number);
  if (t.double_data && t.double_data.length) return t.double_data.map(Number);
  const raw = t.raw_data;
  if (!raw || raw.length === 0) return n === 0 ? [] : undefined;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const type = t.data_type ?? 1;
  const width = DTYPE_BYTES[type];
  if (raw.byteLength < n * width) return undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (type === 7) out.push(Number(view.getBigInt64(i * 8, true)));
    else if (type === 6) out.push(view.getInt32(i * 4, true));
    else if (type === 1) out.push(view.getFloat32(i * 4, true));
    else if (type === 11) out.push(view.getFloat64(i * 8, true));
    else if (type === 9 || type === 2) out.push(view.getUint8(i));
    else if (type === 3) out.push(view.getInt8(i));
    else return undefined;
  }
  return out;
}

/**
 * True when every element of an initializer holds the same bytes (all ones,
 * all zeros): exporters merge such identical tensors into one initializer
 * (torch's dynamo exporter does), so when several operators read one of
 * them, each reader stands for its own parameter. Unknown (external data) → false.
 */
function isUniform(t: TensorProto, modelFile: string): boolean {
  const n = (t.dims ?? []).reduce((p: number, d) => p * num(d), 1);
  if (n <= 1) return false;
  for (const list of [t.float_data, t.double_data, t.int32_data]) {
    if (list && list.length) return list.every((x) => x === list[0]);
  }
  const raw = t.data_location === 1 ? externalBytes(t, modelFile) : t.raw_data;
  const width = DTYPE_BYTES[t.data_type ?? 1];
  if (!raw || raw.length < n * width || width < 1) return false;
  for (let i = width; i < n * width; i++) if (raw[i] !== raw[i % width]) return false;
  return true;
}

/** Operators whose constant inputs are weights by their role (no need to look at the values). */
const WEIGHT_READERS = new Set([
  'MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Gather', 'LayerNormalization', 'BatchNormalization', 'InstanceNormalization',
  'GroupNormalization', 'LSTM', 'GRU', 'RNN', 'Einsum', 'PRelu', 'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'RMSNormalization',
]);

/**
 * An additive attention mask baked into the file (a causal mask traced as a
 * constant): it holds ±inf or a dtype's lowest value (≤ -1e30 in fp32, ≤ -6e4
 * in fp16/bf16). No trained parameter does.
 */
function looksLikeMask(t: TensorProto, modelFile: string): boolean {
  const type = t.data_type ?? 1;
  const n = (t.dims ?? []).reduce((p: number, d) => p * num(d), 1);
  if (n * (DTYPE_BYTES[type] ?? 4) > 1 << 26) return false;
  let values: ArrayLike<number> | undefined = t.float_data && t.float_data.length ? t.float_data : t.double_data && t.double_data.length ? t.double_data : undefined;
  if (!values) {
    const raw = t.data_location === 1 ? externalBytes(t, modelFile) : t.raw_data;
    if (!raw || raw.length < n * (DTYPE_BYTES[type] ?? 4)) return false;
    const copy = new Uint8Array(raw.subarray(0, n * DTYPE_BYTES[type])); // a copy: aligned for the float views
    if (type === 1) values = new Float32Array(copy.buffer, copy.byteOffset, n);
    else if (type === 11) values = new Float64Array(copy.buffer, copy.byteOffset, n);
    else if (type === 10 || type === 16) {
      // Exponent bits all ones = inf/NaN; otherwise the value's magnitude from the top bits.
      const view = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
      for (let i = 0; i < n; i++) {
        const h = view.getUint16(2 * i, true);
        if (type === 10 ? (h & 0x7c00) === 0x7c00 || (h & 0x7fff) >= 0x7b53 : (h & 0x7f80) === 0x7f80 || (h & 0x7fff) >= 0x7149) return true;
      }
      return false;
    } else return false;
  }
  const limit = type === 1 || type === 11 ? 1e30 : 6e4;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]) || Math.abs(values[i]) >= limit) return true;
  return false;
}

/** The bytes of an initializer stored in an external data file beside the model (read only for shared ones). */
function externalBytes(t: TensorProto, modelFile: string): Uint8Array | undefined {
  const entry = (key: string) => t.external_data?.find((e) => e.key === key)?.value;
  const location = entry('location');
  if (!location || location.includes('..')) return undefined;
  const offset = Number(entry('offset') ?? 0);
  const length = Number(entry('length') ?? (t.dims ?? []).reduce((p: number, d) => p * num(d), 1) * (DTYPE_BYTES[t.data_type ?? 1] ?? 4));
  if (!Number.isFinite(offset) || !Number.isFinite(length) || length > 1 << 28) return undefined;
  try {
    const fd = openSync(join(dirname(modelFile), location), 'r');
    try {
      const out = new Uint8Array(length);
      const read = readSync(fd, out, 0, length, offset);
      return read === length ? out : undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function attrValue(a: AttributeProto): AttrValue {
  switch (a.type) {
    case 1: return a.f ?? 0;
    case 2: return num(a.i);
    case 3: return new TextDecoder().decode(a.s ?? new Uint8Array());
    case 4: return a.t ? { shape: (a.t.dims ?? []).map(num), value: tensorValue(a.t) } : undefined;
    case 6: return (a.floats ?? []).map(Number);
    case 7: return (a.ints ?? []).map(num);
    case 8: return (a.strings ?? []).map((s) => new TextDecoder().decode(s));
    default:
      // Files written without the type field: infer from what is set.
      if (a.ints && a.ints.length) return a.ints.map(num);
      if (a.floats && a.floats.length) return a.floats.map(Number);
      if (a.t) return { shape: (a.t.dims ?? []).map(num), value: tensorValue(a.t) };
      if (a.s && a.s.length) return new TextDecoder().decode(a.s);
      if (a.i !== undefined && a.i !== null) return num(a.i);
      return a.f;
  }
}

function safeFlops(opType: string, shapes: Parameters<typeof opFlops>[1]): number {
  try {
    const flops = opFlops(opType, shapes);
    return Number.isFinite(flops) && flops >= 0 ? flops : 0;
  } catch {
    return 0;
  }
}

const NORMALIZATIONS = new Set(['BatchNormalization', 'InstanceNormalization', 'GroupNormalization', 'LayerNormalization', 'LpNormalization', 'Reshape', 'ReduceMean']);

/**
 * A bias-free Conv in a graph with no BatchNormalization left, whose output no
 * normalisation reads: a conv with BN folded in by an eval-mode export whose
 * folded bias was exactly zero (BN at its initial β = 0, mean = 0) and was
 * dropped by the exporter. Convs are built without a bias precisely because a
 * normalisation follows them; this is the one trace such a fold leaves.
 */
function foldedWithoutBias(proto: NodeProto, inputs: string[], readers: Map<string, string[]>, constant: Set<string>): boolean {
  if (proto.op_type !== 'Conv' || inputs.length !== 2 || !constant.has(inputs[1]) || constant.has(inputs[0])) return false;
  const out = proto.output?.[0];
  const next = out ? readers.get(out) ?? [] : [];
  return next.length > 0 && !next.some((op) => NORMALIZATIONS.has(op));
}

/** Names exporters give a conv bias they made by folding BatchNormalization in (TorchScript: onnx::Conv_N; dynamo: <weight>_bias). */
function looksFolded(name: string): boolean {
  return /^onnx::Conv(Transpose)?_\d+$/.test(name) || /weight_bias$/.test(name);
}

/**
 * What the subgraphs of a control-flow node (If, Loop, Scan) read from the
 * outer graph, and the initializers they hold themselves: the node stands for
 * its bodies, so it reads those tensors and owns those weights.
 */
function subgraphUse(proto: NodeProto): { outerReads: string[]; innerInitializers: TensorProto[] } {
  const reads = new Set<string>();
  const inner: TensorProto[] = [];
  const visit = (g: GraphProto, outerDefined: Set<string>) => {
    const defined = new Set(outerDefined);
    for (const t of g.initializer ?? []) {
      if (t.name) defined.add(t.name);
      inner.push(t);
    }
    for (const vi of g.input ?? []) defined.add(vi.name);
    for (const n of g.node ?? []) {
      for (const t of n.input ?? []) if (t && !defined.has(t)) reads.add(t);
      for (const a of n.attribute ?? []) for (const sub of [a.g, ...(a.graphs ?? [])]) if (sub) visit(sub, defined);
      for (const t of n.output ?? []) if (t) defined.add(t);
    }
  };
  for (const a of proto.attribute ?? []) for (const g of [a.g, ...(a.graphs ?? [])]) if (g) visit(g, new Set());
  return { outerReads: [...reads], innerInitializers: inner };
}

/** Reads `file` and sizes every tensor for one micro-batch. */
export function importOnnx(file: string, bytes: Uint8Array, options: ImportOptions): ImportedGraph {
  const graph = decodeOnnx(file, bytes);
  const notes: string[] = [];
  const unsupported: UnsupportedOp[] = [];
  const facts = new Map<string, TensorFacts>();
  const dtype = new Map<string, number>();
  const initializers = new Map<string, TensorProto>();
  for (const t of graph.initializer ?? []) if (t.name) initializers.set(t.name, t);
  for (const sp of graph.sparse_initializer ?? []) {
    if (sp.values?.name) initializers.set(sp.values.name, { ...sp.values, dims: sp.dims ?? sp.values.dims });
  }
  for (const [name, t] of initializers) {
    facts.set(name, { shape: (t.dims ?? []).map(num), value: tensorValue(t) });
    dtype.set(name, t.data_type ?? 1);
  }

  // Bind symbolic dimensions: the user's --dim values, then the batch dimension of each graph input.
  const bindings: Bindings = new Map(options.dims);
  const graphInputs = (graph.input ?? []).filter((vi) => !initializers.has(vi.name));
  let fixedBatch: number | undefined;
  for (const vi of graphInputs) {
    const first = vi.type?.tensor_type?.shape?.dim?.[0];
    if (!first) continue;
    if (first.dim_param && !bindings.has(first.dim_param) && /^[A-Za-z_][A-Za-z0-9_.]*$/.test(first.dim_param)) {
      bindings.set(first.dim_param, options.microBatchSize);
    } else if (!first.dim_param && first.dim_value !== undefined && num(first.dim_value) > 0) {
      fixedBatch ??= num(first.dim_value);
    }
  }
  const scaleBatch = fixedBatch !== undefined && fixedBatch !== options.microBatchSize;
  if (scaleBatch) {
    notes.push(
      `the model was exported with a fixed batch of ${fixedBatch} (its Reshape targets may hold it too): shapes were inferred at ${fixedBatch}, then every activation tensor (not the integer shape arithmetic), every operator's FLOPs and activation traffic scaled by ${options.microBatchSize}/${fixedBatch}`,
    );
  }
  const resolve = (vi: ValueInfoProto, isGraphInput: boolean): number[] | undefined => {
    const dims = vi.type?.tensor_type?.shape?.dim;
    if (!dims) return undefined;
    const out: number[] = [];
    for (const [axis, d] of dims.entries()) {
      if (d.dim_param) {
        const value = evaluateDim(d.dim_param, bindings);
        if (value === undefined) {
          if (!isGraphInput) return undefined;
          const missing = dimNames(d.dim_param).filter((name) => !bindings.has(name));
          const flags = (missing.length ? missing : [d.dim_param]).map((name) => `--dim ${name}=N`).join(' ');
          throw new UserError(`${file}: input "${vi.name}" dimension ${axis} is "${d.dim_param}", which has no value: give ${flags}`);
        }
        out.push(value);
      } else if (d.dim_value !== undefined && d.dim_value !== null && num(d.dim_value) > 0) {
        out.push(num(d.dim_value));
      } else {
        if (isGraphInput) throw new UserError(`${file}: input "${vi.name}" dimension ${axis} has no size in the file: re-export with a named or fixed size`);
        return undefined;
      }
    }
    return out;
  };
  for (const vi of graphInputs) {
    const shape = resolve(vi, true);
    if (!shape) throw new UserError(`${file}: input "${vi.name}" has no shape in the file`);
    facts.set(vi.name, { shape });
    dtype.set(vi.name, vi.type?.tensor_type?.elem_type ?? 1);
  }
  // value_info: shapes the exporter wrote down, used when inference has none (not when the batch was rescaled).
  const declared = new Map<string, number[]>();
  for (const vi of [...(graph.value_info ?? []), ...(graph.output ?? [])]) {
    const elem = vi.type?.tensor_type?.elem_type;
    if (elem) dtype.set(vi.name, elem);
    const shape = resolve(vi, false);
    if (shape) declared.set(vi.name, shape);
  }

  // Walk the nodes in file order (ONNX requires topological order) and size every tensor.
  const constant = new Set<string>(initializers.keys()); // weight- or constant-derived tensors
  const origins = new Map<string, Set<string>>(); // constant tensor -> initializers it came from
  for (const name of initializers.keys()) origins.set(name, new Set([name]));
  const claimed = new Set<string>();
  const uniformCache = new Map<string, boolean>();
  const uniform = { has: (name: string) => {
    if (!uniformCache.has(name)) uniformCache.set(name, isUniform(initializers.get(name)!, file));
    return uniformCache.get(name)!;
  } };
  let mergedCopies = 0;
  let foldedConvs = 0;
  const firstReader = new Map<string, string>();
  const masks = new Set<string>();
  const buffers = new Set<string>();
  const paramsByDtype: Record<string, number> = {};
  const nodes: OpNode[] = [];
  const tensorBytes = new Map<string, number>();
  const bytesOf = (name: string): number => {
    const shape = facts.get(name)?.shape;
    if (!shape) return 0;
    return shape.reduce((p, d) => p * d, 1) * (DTYPE_BYTES[dtype.get(name) ?? 1] ?? 4);
  };
  const guessed: string[] = [];
  const weightBytesOf = new Map<number, number>(); // node index -> weight traffic (does not scale with the batch)

  // For the eval-mode BatchNormalization fold whose bias the exporter dropped (see foldedWithoutBias).
  const hasBatchNorm = (graph.node ?? []).some((n) => n.op_type === 'BatchNormalization');
  const readers = new Map<string, string[]>();
  for (const n of graph.node ?? []) for (const t of n.input ?? []) readers.set(t, [...(readers.get(t) ?? []), n.op_type]);
  let droppedBiasConvs = 0;
  const hasInProjBias = [...initializers.keys()].some((name) => /in_proj_bias$/.test(name));
  let droppedOutProj = 0;

  (graph.node ?? []).forEach((proto, index) => {
    const sub = subgraphUse(proto);
    // Slots past the node's own inputs: tensors its subgraphs read from this graph.
    const slots = [...(proto.input ?? []), ...sub.outerReads.filter((t) => !(proto.input ?? []).includes(t) && (facts.has(t) || initializers.has(t)))];
    const inputs = slots.filter((t) => t !== '');
    const outputs = (proto.output ?? []).filter((t) => t !== '');
    const name = proto.name || `${proto.op_type}_${index}`;
    const attrs = new Map<string, AttrValue>((proto.attribute ?? []).map((a) => [a.name, attrValue(a)]));
    const known = (proto.domain ?? '') === '' || proto.domain === 'ai.onnx' || proto.domain === 'com.microsoft';
    const modelled = known && isModelled(proto.op_type);
    const inFacts = (proto.input ?? []).map((t) => (t === '' ? {} : facts.get(t) ?? {}));
    let outFacts: TensorFacts[] | undefined;
    try {
      outFacts = known ? inferNode({ opType: proto.op_type, attrs }, inFacts, outputs.length) : undefined;
    } catch {
      outFacts = undefined; // inconsistent shapes in the file: fall back like an unmodelled operator
    }
    const sane = (shape: number[] | undefined) => (shape && shape.every((d) => Number.isInteger(d) && d >= 0) ? shape : undefined);
    if (outFacts) outFacts = outFacts.map((f) => ({ shape: sane(f?.shape), value: f?.value }));
    // A control-flow node's outputs are its first body's declared outputs (a Loop's scan outputs aside).
    const body = (proto.attribute ?? []).map((a) => a.g).find((g) => g);
    const bodyShapes = (body?.output ?? []).map((vi) => resolve(vi, false));
    outputs.forEach((t, i) => {
      const inferred = outFacts?.[i];
      const shape = inferred?.shape ?? declared.get(t) ?? (proto.op_type === 'If' ? bodyShapes[i] : undefined) ?? (i === 0 ? inFacts[0]?.shape : undefined);
      if (!inferred?.shape && !declared.has(t) && !(proto.op_type === 'If' && bodyShapes[i]) && shape) guessed.push(t);
      facts.set(t, { shape, value: inferred?.value });
      if (!dtype.has(t)) {
        const to = attrs.get('to');
        dtype.set(t, proto.op_type === 'Cast' && typeof to === 'number' ? to : proto.op_type === 'Shape' || proto.op_type === 'Size' ? 7 : dtype.get(inputs[0]) ?? 1);
      }
    });
    outFacts = undefined;

    // Operators on constants only produce constants (a transposed weight stays a weight).
    const allConstant = inputs.every((t) => constant.has(t)) && !['RandomNormalLike', 'RandomUniformLike'].includes(proto.op_type);
    if (allConstant) {
      const from = new Set<string>();
      inputs.forEach((t) => origins.get(t)?.forEach((o) => from.add(o)));
      outputs.forEach((t) => {
        constant.add(t);
        origins.set(t, from);
      });
      return;
    }

    let params = 0;
    let paramBytes = 0;
    const weightInput = (proto.input ?? []).map((t) => constant.has(t));
    const readHere = new Set<string>();
    for (const t of sub.innerInitializers) {
      const count = (t.dims ?? []).reduce((p: number, d) => p * num(d), 1);
      const type = t.data_type ?? 1;
      if (!FLOAT_TYPES.has(type) || count <= 1) continue;
      params += count;
      paramBytes += count * DTYPE_BYTES[type];
      const dname = DTYPE_NAMES[type] ?? String(type);
      paramsByDtype[dname] = (paramsByDtype[dname] ?? 0) + count;
    }
    slots.forEach((t, slot) => {
      if (!constant.has(t)) return;
      const isBuffer = proto.op_type === 'BatchNormalization' && (slot === 3 || slot === 4);
      for (const origin of origins.get(t) ?? []) {
        if (readHere.has(origin)) continue;
        readHere.add(origin);
        if (claimed.has(origin)) {
          // A second reader of one initializer: a tied weight (embedding and output projection: other op types)
          // counts once; the same op type in the same slot, or a constant-valued tensor, is an exporter's merge of
          // identical tensors (cloned layers, LayerNorm ones), one parameter per reader as the framework counts them.
          const sameRole = firstReader.get(origin) === `${proto.op_type}:${slot}`;
          if (isBuffer || !(sameRole || uniform.has(origin))) continue;
          mergedCopies++;
        } else firstReader.set(origin, `${proto.op_type}:${slot}`);
        const init = initializers.get(origin)!;
        const type = init.data_type ?? 1;
        const count = (init.dims ?? []).reduce((p: number, d) => p * num(d), 1);
        if (isBuffer) {
          buffers.add(origin);
          continue;
        }
        if (!FLOAT_TYPES.has(type) || count <= 1) continue;
        if (masks.has(origin)) continue;
        if (!claimed.has(origin) && !WEIGHT_READERS.has(proto.op_type) && looksLikeMask(init, file)) {
          masks.add(origin);
          continue;
        }
        claimed.add(origin);
        // Conv+BatchNormalization folded by an eval-mode export: the bias is BN's β
        // merged with its mean; the framework also counts BN's γ, one more per channel.
        const folded = (proto.op_type === 'Conv' || proto.op_type === 'ConvTranspose') && slot === 2 && looksFolded(origin);
        const counted = folded ? 2 * count : count;
        if (folded) foldedConvs++;
        params += counted;
        paramBytes += counted * DTYPE_BYTES[type];
        const dname = DTYPE_NAMES[type] ?? String(type);
        paramsByDtype[dname] = (paramsByDtype[dname] ?? 0) + counted;
      }
    });

    if (hasInProjBias && (proto.op_type === 'Gemm' || proto.op_type === 'MatMul') && (proto.op_type === 'MatMul' || inputs.length === 2)) {
      // nn.MultiheadAttention with biases: its out_proj.bias starts at zero and the dynamo exporter drops a zero Gemm bias.
      for (const origin of new Set(inputs.flatMap((t) => [...(origins.get(t) ?? [])]))) {
        const match = /^(.*)out_proj\.weight$/.exec(origin);
        const weight = initializers.get(origin);
        if (!match || initializers.has(`${match[1]}out_proj.bias`) || !weight?.dims?.length) continue;
        const type = weight.data_type ?? 1;
        const out = num(weight.dims[0]);
        droppedOutProj++; // per reader: cloned layers share one merged out_proj.weight
        params += out;
        paramBytes += out * DTYPE_BYTES[type];
        const dname = DTYPE_NAMES[type] ?? String(type);
        paramsByDtype[dname] = (paramsByDtype[dname] ?? 0) + out;
      }
    }
    if (!hasBatchNorm && foldedWithoutBias(proto, inputs, readers, constant)) {
      // The conv's BN (γ and β, one each per output channel) was folded in and its zero bias dropped.
      const weight = initializers.get([...(origins.get(inputs[1]) ?? [])][0] ?? '');
      const channels = weight?.dims?.length ? num(weight.dims[0]) * (proto.op_type === 'ConvTranspose' ? num(attrs.get('group') as number ?? 1) : 1) : 0;
      const type = weight?.data_type ?? 1;
      if (channels > 0 && FLOAT_TYPES.has(type)) {
        params += 2 * channels;
        paramBytes += 2 * channels * DTYPE_BYTES[type];
        const dname = DTYPE_NAMES[type] ?? String(type);
        paramsByDtype[dname] = (paramsByDtype[dname] ?? 0) + 2 * channels;
        droppedBiasConvs++;
      }
    }

    const activationInputs = inputs.filter((t) => !constant.has(t));
    const shapes = {
      inputs: (proto.input ?? []).map((t) => facts.get(t)?.shape),
      outputs: outputs.map((t) => facts.get(t)?.shape),
      attrs: attrs as Map<string, unknown>,
      weightInput,
    };
    for (const t of [...activationInputs, ...outputs]) tensorBytes.set(t, bytesOf(t));
    const isView = VIEW_OPS.has(proto.op_type);
    const moved = activationInputs.reduce((s, t) => s + bytesOf(t), 0) + outputs.reduce((s, t) => s + bytesOf(t), 0);
    const kind = opKind(proto.op_type, shapes);
    // An embedding lookup reads the rows it gathers, not the whole table.
    const weightTraffic = kind === 'embedding' ? 0 : paramBytes;
    if (scaleBatch) weightBytesOf.set(nodes.length, isView ? 0 : weightTraffic);
    nodes.push({
      name,
      opType: proto.domain && proto.domain !== 'ai.onnx' ? `${proto.domain}.${proto.op_type}` : proto.op_type,
      inputs: activationInputs,
      outputs,
      params,
      paramBytes,
      flops: modelled ? safeFlops(proto.op_type, shapes) : 0,
      bytesTouched: isView ? 0 : moved + weightTraffic,
      kind: modelled ? kind : 'memory',
    });
    if (!modelled) {
      unsupported.push({
        name,
        opType: nodes[nodes.length - 1].opType,
        rule: `no cost model: counted as memory-bound (0 FLOPs, reads its inputs and writes its outputs once); output shape ${
          outputs.every((t) => declared.has(t)) ? "from the file's value_info" : "taken as its first input's"
        }`,
      });
    }
  });

  const skipped = [...initializers.entries()].filter(
    ([name, t]) => !claimed.has(name) && !buffers.has(name) && !masks.has(name) && FLOAT_TYPES.has(t.data_type ?? 1) && (t.dims ?? []).reduce((p: number, d) => p * num(d), 1) > 1,
  );
  if (skipped.length) notes.push(`${skipped.length} floating-point initializer(s) feed no operator that reads activations and are not counted: ${skipped.slice(0, 5).map(([n]) => n).join(', ')}`);
  if (masks.size) notes.push(`${masks.size} initializer(s) hold -inf or a dtype's lowest value (attention masks traced as constants: ${[...masks].slice(0, 3).join(', ')}): not parameters`);
  if (droppedOutProj) notes.push(`${droppedOutProj} attention out_proj weight(s) have no out_proj.bias although the model's attention has biases (in_proj_bias): nn.MultiheadAttention initialises it to zero and the exporter dropped it; counted (output dim each)`);
  if (droppedBiasConvs) notes.push(`${droppedBiasConvs} Conv(s) have no bias and no normalisation after them, in a graph without BatchNormalization: taken as BatchNormalization folded in by an eval-mode export with its zero bias dropped; each counts 2 × output channels more (BN's γ and β). Export in training mode to keep BatchNormalization`);
  if (foldedConvs) notes.push(`${foldedConvs} Conv bias(es) carry exporter names (onnx::Conv_*, *weight_bias): BatchNormalization folded into the conv by an eval-mode export; each counts 2 × channels (BN's γ and β, as the framework counts them, for a conv without its own bias). Export in training mode to keep BatchNormalization`);
  if (mergedCopies) notes.push(`${mergedCopies} further read(s) of one initializer (by the same op type in the same input, or of a constant-valued tensor such as LayerNorm ones) were counted as separate parameters: exporters merge identical tensors (cloned layers, initial values) that the framework counts per module`);
  if (buffers.size) notes.push(`${buffers.size} BatchNormalization running statistics are buffers, not parameters (not counted, as in PyTorch's model.parameters())`);
  if (guessed.length) notes.push(`${guessed.length} tensor shape(s) could not be inferred and were taken as the operator's first input's (e.g. ${guessed.slice(0, 3).join(', ')})`);

  const activationInputs = graphInputs.map((vi) => vi.name).filter((t) => !constant.has(t));
  for (const t of activationInputs) tensorBytes.set(t, bytesOf(t));
  if (scaleBatch) {
    // Linear in the batch: activations, FLOPs and activation traffic; weights are not.
    const factor = options.microBatchSize / fixedBatch!;
    // Every activation depends on the inputs, so on the batch (flattened ones too, e.g. [batch × seq, d]);
    // the small integer tensors of shape arithmetic (known values) do not.
    for (const [t, bytes] of tensorBytes) if (facts.get(t)?.value === undefined) tensorBytes.set(t, bytes * factor);
    nodes.forEach((node, i) => {
      const weights = weightBytesOf.get(i) ?? 0;
      node.flops *= factor;
      node.bytesTouched = (node.bytesTouched - weights) * factor + weights;
    });
  }
  return {
    format: 'onnx',
    nodes,
    tensorBytes,
    inputs: activationInputs,
    outputs: (graph.output ?? []).map((vi) => vi.name).filter((t) => !constant.has(t)),
    unsupported,
    notes,
    paramsByDtype,
  };
}
