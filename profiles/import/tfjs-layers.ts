/**
 * Reads a TensorFlow.js layers-model `model.json` (what the Keras-to-tfjs
 * converter writes) into the model-neutral graph of graph.ts. Topology only:
 * the weight shards (.bin) are never opened.
 *
 * Parameters come from the weightsManifest (every weight's name, shape and
 * dtype), matched to the layer named in the weight's path; they include
 * non-trainable weights such as BatchNormalization's moving statistics, as
 * Keras' `model.count_params()` does. Without a manifest they are computed
 * from each layer's config for the common layers.
 *
 * Both the Keras 2 `inbound_nodes` form (nested lists) and the Keras 3 form
 * (`args` holding `__keras_tensor__` entries) are read.
 */
import { UserError } from '../../env/errors.js';
import type { ImportedGraph, OpKind, OpNode, UnsupportedOp } from './graph.js';
import type { ImportOptions } from './onnx.js';

type Json = Record<string, unknown>;
type Shape = (number | null)[];

interface LayerSpec {
  name: string;
  className: string;
  config: Json;
  /** Each call: the tensors it reads. */
  calls: string[][];
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, float16: 2, bfloat16: 2, int32: 4, int64: 8, bool: 1, uint8: 1, int8: 1, float64: 8, string: 8 };

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);
const prod = (xs: number[]) => xs.reduce((p, d) => p * d, 1);
const pair = (x: unknown, n: number): number[] => (Array.isArray(x) ? x.map(Number) : new Array(n).fill(Number(x ?? 1)));

/** Finds the Keras model config inside the tfjs envelope (or a bare `model.to_json()`). */
function modelConfig(file: string, json: unknown): Json {
  if (!isObject(json)) throw new UserError(`${file}: not a tfjs layers-model: expected a JSON object`);
  const topology = isObject(json.modelTopology) ? json.modelTopology : json;
  const config = isObject(topology.model_config) ? topology.model_config : topology;
  if (typeof config.class_name !== 'string' || config.config === undefined) {
    if (json.format === 'graph-model' || isObject(json.modelTopology) && 'node' in (json.modelTopology as Json)) {
      throw new UserError(`${file}: a tfjs graph-model, not a layers-model: convert the Keras model with --output_format tfjs_layers_model, or export ONNX`);
    }
    throw new UserError(`${file}: not a tfjs layers-model: no modelTopology.model_config with class_name and config`);
  }
  return config;
}

/** The tensors named in one Keras 3 call's args (nested lists and dicts of __keras_tensor__). */
function kerasTensors(x: unknown, out: string[]): string[] {
  if (Array.isArray(x)) x.forEach((y) => kerasTensors(y, out));
  else if (isObject(x)) {
    if (x.class_name === '__keras_tensor__' && isObject(x.config) && Array.isArray(x.config.keras_history)) {
      const [layer, node, index] = x.config.keras_history as [string, number, number];
      out.push(`${layer}:${node}:${index}`);
    } else Object.values(x).forEach((y) => kerasTensors(y, out));
  }
  return out;
}

function parseCalls(inbound: unknown): string[][] {
  if (!Array.isArray(inbound)) return [];
  return inbound.map((call) => {
    if (isObject(call)) return kerasTensors([call.args, call.kwargs], []);
    // Keras 2: [[layer, node, tensor, kwargs], ...]; kwargs may name more tensors (MultiHeadAttention's value).
    if (Array.isArray(call)) {
      const out: string[] = [];
      for (const t of call) {
        if (!Array.isArray(t) || typeof t[0] !== 'string') continue;
        out.push(`${t[0]}:${t[1] ?? 0}:${t[2] ?? 0}`);
        if (isObject(t[3])) {
          for (const v of Object.values(t[3])) {
            if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'number') out.push(`${v[0]}:${v[1]}:${v[2] ?? 0}`);
          }
        }
      }
      return out;
    }
    return [];
  });
}

function layerList(file: string, config: Json): { layers: LayerSpec[]; inputs: string[]; outputs: string[] } {
  const inner = config.config;
  const rawLayers = Array.isArray(inner) ? inner : isObject(inner) && Array.isArray(inner.layers) ? inner.layers : undefined;
  if (!rawLayers || rawLayers.length === 0) throw new UserError(`${file}: the model config lists no layers`);
  const specs: LayerSpec[] = rawLayers.map((raw: unknown, i: number) => {
    if (!isObject(raw) || typeof raw.class_name !== 'string') throw new UserError(`${file}: layer ${i} has no class_name`);
    const cfg = isObject(raw.config) ? raw.config : {};
    const name = String(raw.name ?? cfg.name ?? `${raw.class_name}_${i}`);
    return { name, className: raw.class_name, config: cfg, calls: parseCalls(raw.inbound_nodes) };
  });
  if (config.class_name === 'Sequential') {
    // A chain: each layer reads the previous one's output; an InputLayer (or the first layer's batch shape) starts it.
    const layers: LayerSpec[] = [];
    let previous = '';
    const first = specs[0];
    if (first.className !== 'InputLayer') {
      const shape = first.config.batch_input_shape ?? first.config.batch_shape ?? (first.config.input_shape ? [null, ...(first.config.input_shape as Shape)] : undefined);
      if (!shape) throw new UserError(`${file}: the Sequential model has no input shape (no InputLayer and no batch_input_shape on its first layer)`);
      layers.push({ name: '__input__', className: 'InputLayer', config: { batch_input_shape: shape, dtype: first.config.dtype }, calls: [] });
      previous = '__input__:0:0';
    }
    for (const spec of specs) {
      layers.push({ ...spec, calls: spec.className === 'InputLayer' ? [] : [[previous]] });
      previous = `${spec.name}:0:0`;
    }
    return { layers, inputs: [layers[0].name + ':0:0'], outputs: [previous] };
  }
  const refs = (x: unknown): string[] => {
    if (!Array.isArray(x)) return [];
    if (typeof x[0] === 'string') return [`${x[0]}:${x[1] ?? 0}:${x[2] ?? 0}`];
    return x.flatMap(refs);
  };
  const cfg = inner as Json;
  return { layers: specs, inputs: refs(cfg.input_layers), outputs: refs(cfg.output_layers) };
}

interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
}

function manifestWeights(json: Json): WeightEntry[] | undefined {
  if (!Array.isArray(json.weightsManifest)) return undefined;
  const out: WeightEntry[] = [];
  for (const group of json.weightsManifest) {
    if (!isObject(group) || !Array.isArray(group.weights)) continue;
    for (const w of group.weights) {
      if (!isObject(w) || !Array.isArray(w.shape)) continue;
      out.push({ name: String(w.name ?? ''), shape: w.shape.map(Number), dtype: String(w.dtype ?? 'float32') });
    }
  }
  return out;
}

function dtypeName(config: Json): string {
  const d = config.dtype;
  if (typeof d === 'string') return d;
  if (isObject(d) && isObject(d.config) && typeof d.config.name === 'string') return d.config.name.replace(/^mixed_/, '');
  return 'float32';
}

/** Output shape (with batch) and forward FLOPs of a layer call, or undefined for an unmodelled layer. */
function layerMath(spec: LayerSpec, ins: Shape[]): { out: Shape; flops: number; params: number; kind: OpKind } | undefined {
  const c = spec.config;
  const x = ins[0] ?? [];
  const last = Number(x[x.length - 1] ?? 0);
  const elems = (s: Shape) => prod(s.map((d) => Number(d ?? 1)));
  const activationFlops = (out: Shape) => (c.activation && c.activation !== 'linear' ? elems(out) : 0);
  const bias = c.use_bias !== false;
  switch (spec.className) {
    case 'Dense': {
      const units = Number(c.units);
      const out = [...x.slice(0, -1), units];
      return { out, flops: 2 * elems(x) * units + (bias ? elems(out) : 0) + activationFlops(out), params: last * units + (bias ? units : 0), kind: 'gemm' };
    }
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'DepthwiseConv2D':
    case 'SeparableConv2D':
    case 'SeparableConv1D':
    case 'DepthwiseConv1D': {
      const n = spec.className.endsWith('1D') ? 1 : spec.className.endsWith('3D') ? 3 : 2;
      const channelsFirst = c.data_format === 'channels_first';
      const k = pair(c.kernel_size, n);
      const s = pair(c.strides, n);
      const dil = pair(c.dilation_rate, n);
      const cin = Number(channelsFirst ? x[1] : x[x.length - 1]);
      const sp = channelsFirst ? x.slice(2) : x.slice(1, -1);
      const outSp = sp.map((d, i) => {
        const size = Number(d);
        const span = dil[i] * (k[i] - 1) + 1;
        return c.padding === 'same' ? Math.ceil(size / s[i]) : c.padding === 'causal' ? Math.ceil(size / s[i]) : Math.floor((size - span) / s[i]) + 1;
      });
      const depthwise = spec.className.startsWith('Depthwise');
      const separable = spec.className.startsWith('Separable');
      const mult = Number(c.depth_multiplier ?? 1);
      const filters = depthwise ? cin * mult : Number(c.filters);
      const out = channelsFirst ? [x[0], filters, ...outSp] : [x[0], ...outSp, filters];
      const groups = Number(c.groups ?? 1);
      const kk = prod(k);
      let params: number;
      let flops: number;
      if (depthwise) {
        params = kk * cin * mult + (bias ? filters : 0);
        flops = 2 * elems(out) * kk;
      } else if (separable) {
        params = kk * cin * mult + cin * mult * filters + (bias ? filters : 0);
        flops = 2 * (elems(out) / filters) * cin * mult * (kk + filters);
      } else {
        params = (kk * cin * filters) / groups + (bias ? filters : 0);
        flops = (2 * elems(out) * kk * cin) / groups;
      }
      return { out, flops: flops + activationFlops(out), params, kind: 'conv' };
    }
    case 'Conv2DTranspose':
    case 'Conv1DTranspose': {
      const n = spec.className.startsWith('Conv1D') ? 1 : 2;
      const k = pair(c.kernel_size, n);
      const s = pair(c.strides, n);
      const cin = last;
      const filters = Number(c.filters);
      const sp = x.slice(1, -1).map((d, i) => (c.padding === 'same' ? Number(d) * s[i] : (Number(d) - 1) * s[i] + k[i]));
      const out = [x[0], ...sp, filters];
      return { out, flops: 2 * elems(x) * prod(k) * filters, params: prod(k) * cin * filters + (bias ? filters : 0), kind: 'conv' };
    }
    case 'MaxPooling1D':
    case 'MaxPooling2D':
    case 'MaxPooling3D':
    case 'AveragePooling1D':
    case 'AveragePooling2D':
    case 'AveragePooling3D': {
      const n = spec.className.endsWith('1D') ? 1 : spec.className.endsWith('3D') ? 3 : 2;
      const p = pair(c.pool_size, n);
      const s = c.strides === null || c.strides === undefined ? p : pair(c.strides, n);
      const channelsFirst = c.data_format === 'channels_first';
      const sp = channelsFirst ? x.slice(2) : x.slice(1, -1);
      const outSp = sp.map((d, i) => (c.padding === 'same' ? Math.ceil(Number(d) / s[i]) : Math.floor((Number(d) - p[i]) / s[i]) + 1));
      const out = channelsFirst ? [x[0], x[1], ...outSp] : [x[0], ...outSp, x[x.length - 1]];
      return { out, flops: elems(out) * prod(p), params: 0, kind: 'memory' };
    }
    case 'GlobalAveragePooling1D':
    case 'GlobalAveragePooling2D':
    case 'GlobalAveragePooling3D':
    case 'GlobalMaxPooling1D':
    case 'GlobalMaxPooling2D':
    case 'GlobalMaxPooling3D': {
      const channelsFirst = c.data_format === 'channels_first';
      const ch = channelsFirst ? x[1] : x[x.length - 1];
      const out = c.keepdims ? x.map((d, i) => (i === 0 || d === ch ? d : 1)) : [x[0], ch];
      return { out, flops: elems(x), params: 0, kind: 'memory' };
    }
    case 'Flatten':
      return { out: [x[0], elems(x.slice(1))], flops: 0, params: 0, kind: 'shape' };
    case 'Reshape': {
      const target = (c.target_shape as number[]).map(Number);
      const known = prod(target.filter((d) => d !== -1));
      return { out: [x[0], ...target.map((d) => (d === -1 ? elems(x.slice(1)) / known : d))], flops: 0, params: 0, kind: 'shape' };
    }
    case 'Permute': {
      const dims = (c.dims as number[]).map(Number);
      return { out: [x[0], ...dims.map((d) => x[d])], flops: 0, params: 0, kind: 'memory' };
    }
    case 'RepeatVector':
      return { out: [x[0], Number(c.n), ...x.slice(1)], flops: 0, params: 0, kind: 'memory' };
    case 'Dropout':
    case 'SpatialDropout1D':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
    case 'GaussianDropout':
    case 'AlphaDropout':
    case 'ActivityRegularization':
    case 'Masking':
      return { out: x, flops: 0, params: 0, kind: 'shape' };
    case 'Activation':
    case 'ReLU':
    case 'LeakyReLU':
    case 'ELU':
    case 'Softmax':
    case 'ThresholdedReLU':
    case 'Rescaling':
    case 'Normalization':
      return { out: x, flops: elems(x) * (spec.className === 'Softmax' ? 5 : 1), params: spec.className === 'Normalization' ? 2 * last + 1 : 0, kind: 'memory' };
    case 'PReLU':
      return { out: x, flops: elems(x), params: elems(x.slice(1)), kind: 'memory' };
    case 'BatchNormalization': {
      const axis = Number(Array.isArray(c.axis) ? c.axis[0] : c.axis ?? -1);
      const ch = Number(x[axis < 0 ? x.length + axis : axis]);
      const gammaBeta = (c.scale !== false ? 1 : 0) + (c.center !== false ? 1 : 0);
      return { out: x, flops: 4 * elems(x), params: (2 + gammaBeta) * ch, kind: 'memory' };
    }
    case 'LayerNormalization':
    case 'GroupNormalization':
    case 'UnitNormalization': {
      const gammaBeta = spec.className === 'UnitNormalization' ? 0 : (c.scale !== false ? 1 : 0) + (c.center !== false ? 1 : 0);
      return { out: x, flops: 8 * elems(x), params: gammaBeta * last, kind: 'memory' };
    }
    case 'Embedding': {
      const dim = Number(c.output_dim);
      const out = [...x, dim];
      return { out, flops: 0, params: Number(c.input_dim) * dim, kind: 'embedding' };
    }
    case 'Add':
    case 'Subtract':
    case 'Multiply':
    case 'Average':
    case 'Maximum':
    case 'Minimum':
      return { out: x, flops: elems(x) * Math.max(1, ins.length - 1), params: 0, kind: 'memory' };
    case 'Concatenate': {
      const rank = x.length;
      const axis = Number(c.axis ?? -1) < 0 ? rank + Number(c.axis ?? -1) : Number(c.axis);
      const out = [...x];
      out[axis] = ins.reduce((s, sh) => s + Number(sh[axis] ?? 0), 0);
      return { out, flops: 0, params: 0, kind: 'memory' };
    }
    case 'Dot': {
      const out = [x[0], x[1], ins[1]?.[1] ?? x[1]];
      return { out, flops: 2 * elems(out) * last, params: 0, kind: 'gemm' };
    }
    case 'ZeroPadding1D':
    case 'ZeroPadding2D': {
      const n = spec.className === 'ZeroPadding1D' ? 1 : 2;
      const pad = Array.isArray(c.padding) ? (c.padding as unknown[]).map((p) => (Array.isArray(p) ? p.map(Number) : [Number(p), Number(p)])) : new Array(n).fill([Number(c.padding ?? 1), Number(c.padding ?? 1)]);
      const out = [x[0], ...x.slice(1, 1 + n).map((d, i) => Number(d) + pad[i][0] + pad[i][1]), ...x.slice(1 + n)];
      return { out, flops: 0, params: 0, kind: 'memory' };
    }
    case 'Cropping1D':
    case 'Cropping2D': {
      const n = spec.className === 'Cropping1D' ? 1 : 2;
      const crop = Array.isArray(c.cropping) ? (c.cropping as unknown[]).map((p) => (Array.isArray(p) ? p.map(Number) : [Number(p), Number(p)])) : new Array(n).fill([Number(c.cropping ?? 0), Number(c.cropping ?? 0)]);
      const out = [x[0], ...x.slice(1, 1 + n).map((d, i) => Number(d) - crop[i][0] - crop[i][1]), ...x.slice(1 + n)];
      return { out, flops: 0, params: 0, kind: 'memory' };
    }
    case 'UpSampling1D':
    case 'UpSampling2D': {
      const n = spec.className === 'UpSampling1D' ? 1 : 2;
      const f = pair(c.size, n);
      const out = [x[0], ...x.slice(1, 1 + n).map((d, i) => Number(d) * f[i]), ...x.slice(1 + n)];
      return { out, flops: 0, params: 0, kind: 'memory' };
    }
    case 'LSTM':
    case 'GRU':
    case 'SimpleRNN': {
      const units = Number(c.units);
      const gates = spec.className === 'LSTM' ? 4 : spec.className === 'GRU' ? 3 : 1;
      const steps = Number(x[1] ?? 1);
      const biasCount = spec.className === 'GRU' && c.reset_after !== false ? 2 * gates * units : gates * units;
      const params = gates * units * (last + units) + (bias ? biasCount : 0);
      const out = c.return_sequences ? [x[0], x[1], units] : [x[0], units];
      return { out, flops: 2 * Number(x[0]) * steps * gates * units * (last + units), params, kind: 'gemm' };
    }
    case 'Bidirectional':
    case 'TimeDistributed': {
      const inner = isObject(c.layer) ? (c.layer as Json) : undefined;
      if (!inner || typeof inner.class_name !== 'string') return undefined;
      const innerSpec: LayerSpec = { name: spec.name, className: inner.class_name, config: isObject(inner.config) ? inner.config : {}, calls: [] };
      if (spec.className === 'TimeDistributed') {
        // The wrapped layer on each step: run it on [batch × steps, ...] and put the steps back.
        const steps = Number(x[1]);
        const math = layerMath(innerSpec, [[Number(x[0]) * steps, ...x.slice(2)]]);
        return math && { ...math, out: [x[0], steps, ...math.out.slice(1)] };
      }
      const math = layerMath(innerSpec, ins);
      if (!math) return undefined;
      const concat = (c.merge_mode ?? 'concat') === 'concat';
      const out = concat ? [...math.out.slice(0, -1), 2 * Number(math.out[math.out.length - 1])] : math.out;
      return { out, flops: 2 * math.flops, params: 2 * math.params, kind: math.kind };
    }
    case 'MultiHeadAttention': {
      const heads = Number(c.num_heads);
      const key = Number(c.key_dim);
      const value = Number(c.value_dim ?? c.key_dim);
      const q = ins[0];
      const v = ins[1] ?? q;
      const dq = Number(q[q.length - 1]);
      const dv = Number(v[v.length - 1]);
      const tq = elems(q.slice(1, -1));
      const tv = elems(v.slice(1, -1));
      const b = Number(q[0]);
      const outDim = c.output_shape ? Number(Array.isArray(c.output_shape) ? c.output_shape[c.output_shape.length - 1] : c.output_shape) : dq;
      const params = (dq * heads * key + (bias ? heads * key : 0)) + (dv * heads * key + (bias ? heads * key : 0)) +
        (dv * heads * value + (bias ? heads * value : 0)) + (heads * value * outDim + (bias ? outDim : 0));
      const flops = 2 * b * (tq * dq * heads * key + tv * dv * heads * (key + value) + tq * tv * heads * (key + value) + tq * heads * value * outDim);
      return { out: [...q.slice(0, -1), outDim], flops, params, kind: 'gemm' };
    }
  }
  return undefined;
}

/** layerMath, or undefined (the unmodelled-layer rule) when the config does not give whole, finite numbers. */
function saneMath(spec: LayerSpec, ins: Shape[]): ReturnType<typeof layerMath> {
  try {
    const math = layerMath(spec, ins);
    if (!math) return undefined;
    const whole = (x: unknown) => Number.isFinite(Number(x)) && Number(x) >= 0;
    if (!Array.isArray(math.out) || !math.out.every((d) => d === null || (whole(d) && Number.isInteger(Number(d))))) return undefined;
    if (!whole(math.flops) || !whole(math.params)) return undefined;
    return math;
  } catch {
    return undefined;
  }
}

/** Reads `model.json` text and sizes every tensor for one micro-batch. */
export function importTfjsLayers(file: string, text: string, options: ImportOptions): ImportedGraph {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message}); the file may be truncated or corrupt`);
  }
  const config = modelConfig(file, json);
  const { layers, inputs, outputs } = layerList(file, config);
  const weights = manifestWeights(json as Json);
  const names = new Set(layers.map((l) => l.name));
  const manifestParams = new Map<string, { count: number; bytes: number }>();
  const unmatched: WeightEntry[] = [];
  const paramsByDtype: Record<string, number> = {};
  for (const w of weights ?? []) {
    const parts = w.name.split('/');
    const owner = parts.slice(0, -1).reverse().find((p) => names.has(p)) ?? (names.has(parts[0]) ? parts[0] : undefined);
    const count = prod(w.shape);
    paramsByDtype[w.dtype] = (paramsByDtype[w.dtype] ?? 0) + count;
    if (!owner) {
      unmatched.push(w);
      continue;
    }
    const entry = manifestParams.get(owner) ?? { count: 0, bytes: 0 };
    entry.count += count;
    entry.bytes += count * (DTYPE_BYTES[w.dtype] ?? 4);
    manifestParams.set(owner, entry);
  }

  const shapes = new Map<string, Shape>();
  const dtypes = new Map<string, string>();
  const nodes: OpNode[] = [];
  const unsupported: UnsupportedOp[] = [];
  const notes: string[] = [];
  const paramsGiven = new Set<string>();
  const configParams: Record<string, number> = {};
  const bytesOf = (t: string) => prod((shapes.get(t) ?? []).map((d) => Number(d ?? 1))) * (DTYPE_BYTES[dtypes.get(t) ?? 'float32'] ?? 4);

  // Layers in dependency order: a call runs once all the tensors it reads exist.
  const pending = layers.map((l) => ({ spec: l, call: 0 }));
  const batch = options.microBatchSize;
  let progress = true;
  while (progress) {
    progress = false;
    for (const item of pending) {
      const { spec } = item;
      if (spec.className === 'InputLayer') {
        if (item.call > 0) continue;
        const c = spec.config;
        const shape = (c.batch_input_shape ?? c.batch_shape ?? (c.input_shape ? [null, ...(c.input_shape as Shape)] : undefined)) as Shape | undefined;
        if (!Array.isArray(shape)) throw new UserError(`${file}: input layer "${spec.name}" has no batch_input_shape (a list)`);
        const resolved = shape.map((d, i) => {
          if (d !== null && d !== undefined) {
            if (!Number.isInteger(Number(d)) || Number(d) < 1) throw new UserError(`${file}: input layer "${spec.name}" dimension ${i} is ${JSON.stringify(d)}, expected a whole number >= 1 or null`);
            return Number(d);
          }
          if (i === 0) return batch;
          const named = options.dims.get(`${spec.name}.${i}`) ?? options.dims.get(`dim${i}`);
          if (named !== undefined) return named;
          throw new UserError(`${file}: input "${spec.name}" dimension ${i} is unknown (None): give --dim ${spec.name}.${i}=N (or --dim dim${i}=N for every input)`);
        });
        shapes.set(`${spec.name}:0:0`, resolved);
        dtypes.set(`${spec.name}:0:0`, dtypeName(c));
        item.call = 1;
        progress = true;
        continue;
      }
      while (item.call < spec.calls.length) {
        const reads = spec.calls[item.call];
        if (!reads.every((t) => shapes.has(t))) break;
        const out = `${spec.name}:${item.call}:0`;
        const math = saneMath(spec, reads.map((t) => shapes.get(t)!));
        const firstCall = !paramsGiven.has(spec.name);
        paramsGiven.add(spec.name);
        const fromManifest = manifestParams.get(spec.name);
        const params = firstCall ? fromManifest?.count ?? math?.params ?? 0 : 0;
        const paramBytes = firstCall ? fromManifest?.bytes ?? params * (DTYPE_BYTES[dtypeName(spec.config)] ?? 4) : 0;
        if (firstCall && math) configParams[spec.name] = math.params;
        shapes.set(out, math?.out ?? shapes.get(reads[0]) ?? []);
        dtypes.set(out, spec.className === 'Embedding' ? dtypeName(spec.config) : dtypes.get(reads[0]) ?? 'float32');
        const moved = reads.reduce((s, t) => s + bytesOf(t), 0) + bytesOf(out);
        const kind = math?.kind ?? 'memory';
        nodes.push({
          name: spec.calls.length > 1 ? `${spec.name}#call${item.call}` : spec.name,
          opType: spec.className,
          inputs: reads,
          outputs: [out],
          params,
          paramBytes,
          flops: math?.flops ?? 0,
          bytesTouched: kind === 'shape' ? 0 : moved + (kind === 'embedding' ? 0 : paramBytes),
          kind,
        });
        if (!math) {
          unsupported.push({
            name: spec.name,
            opType: spec.className,
            rule: `no cost model: counted as memory-bound (0 FLOPs, reads its inputs and writes its output once); output shape taken as its first input's; parameters ${fromManifest ? 'from the weightsManifest' : 'unknown (0)'}`,
          });
        }
        item.call++;
        progress = true;
      }
    }
  }
  const stuck = pending.find((item) => item.spec.className !== 'InputLayer' && item.call < item.spec.calls.length);
  if (stuck) {
    const missing = stuck.spec.calls[stuck.call].filter((t) => !shapes.has(t)).map((t) => t.split(':')[0]);
    throw new UserError(`${file}: layer "${stuck.spec.name}" reads "${missing.join('", "')}", which no layer produces`);
  }
  if (unmatched.length) {
    // Weights whose path names no layer: kept (so the total stays the framework's) on the first layer with parameters.
    const host = nodes.find((n) => n.params > 0) ?? nodes[0];
    for (const w of unmatched) {
      host.params += prod(w.shape);
      host.paramBytes += prod(w.shape) * (DTYPE_BYTES[w.dtype] ?? 4);
    }
    notes.push(`${unmatched.length} weight(s) in the manifest name no layer (${unmatched.slice(0, 3).map((w) => w.name).join(', ')}); counted on layer "${host.name}"`);
  }
  if (!weights) notes.push('no weightsManifest: parameters computed from each layer config');
  else {
    const mismatched = Object.entries(configParams).filter(([name, count]) => manifestParams.has(name) && manifestParams.get(name)!.count !== count);
    if (mismatched.length) notes.push(`the weightsManifest and the layer config disagree on ${mismatched.length} layer(s) (${mismatched.slice(0, 3).map(([n]) => n).join(', ')}); the manifest was used`);
  }
  const tensorBytes = new Map<string, number>();
  for (const t of shapes.keys()) tensorBytes.set(t, bytesOf(t));
  if (!Object.keys(paramsByDtype).length) {
    const total = nodes.reduce((s, n) => s + n.params, 0);
    if (total) paramsByDtype.float32 = total;
  }
  return { format: 'tfjs-layers', nodes, tensorBytes, inputs, outputs, unsupported, notes, paramsByDtype };
}
