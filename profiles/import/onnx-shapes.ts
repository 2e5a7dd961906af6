/**
 * Concrete shape inference for the common ONNX operators, once every symbolic
 * dimension has a value. Small integer tensors (what Shape, Gather, Concat …
 * compute for a dynamic Reshape) are evaluated too, so exports without
 * value_info still get their shapes. An operator not listed here gets its
 * first input's shape, and the caller reports that.
 */

export interface TensorFacts {
  shape?: number[];
  /** Known values of a small tensor (integers or floats), row-major. */
  value?: number[];
}

export interface NodeView {
  opType: string;
  attrs: Map<string, AttrValue>;
}

export type AttrValue = number | number[] | string | string[] | TensorFacts | undefined;

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

export const SAME_SHAPE = new Set([
  'Identity', 'Dropout', 'Cast', 'CastLike', 'Relu', 'Sigmoid', 'Tanh', 'Erf', 'Sqrt', 'Exp', 'Log', 'Neg', 'Abs', 'Reciprocal',
  'Gelu', 'FastGelu', 'BiasGelu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'HardSigmoid', 'HardSwish', 'Clip',
  'Not', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'IsNaN', 'IsInf', 'Sign', 'Mish', 'PRelu', 'Softmax', 'LogSoftmax', 'Hardmax',
  'LayerNormalization', 'BatchNormalization', 'InstanceNormalization', 'GroupNormalization', 'LpNormalization',
  'SimplifiedLayerNormalization', 'SkipLayerNormalization', 'SkipSimplifiedLayerNormalization', 'RMSNormalization',
  'Trilu', 'CumSum', 'ThresholdedRelu', 'Shrink', 'ScatterND', 'ScatterElements', 'Swish', 'QuickGelu', 'BiasAdd',
]);

export const BROADCAST = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual',
  'And', 'Or', 'Xor', 'Where', 'Sum', 'Mean', 'BitShift', 'BitwiseAnd', 'BitwiseOr',
]);

export function broadcast(shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      if (s[i] !== 1) out[j] = s[i];
    }
  }
  return out;
}

function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

function ints(attr: AttrValue): number[] | undefined {
  if (Array.isArray(attr)) return attr.map(Number);
  if (typeof attr === 'number') return [attr];
  return undefined;
}

function int(attr: AttrValue, fallback: number): number {
  return typeof attr === 'number' ? attr : fallback;
}

/** Elementwise value arithmetic for the integer bookkeeping of dynamic shapes. */
function elementwise(op: string, values: number[][]): number[] | undefined {
  const n = Math.max(...values.map((v) => v.length));
  if (values.some((v) => v.length !== n && v.length !== 1)) return undefined;
  const at = (v: number[], i: number) => (v.length === 1 ? v[0] : v[i]);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const [a, b, c] = values.map((v) => at(v, i));
    switch (op) {
      case 'Add': out.push(a + b); break;
      case 'Sub': out.push(a - b); break;
      case 'Mul': out.push(a * b); break;
      case 'Div': out.push(Number.isInteger(a) && Number.isInteger(b) ? Math.trunc(a / b) : a / b); break;
      case 'Mod': out.push(a % b); break;
      case 'Max': out.push(Math.max(a, b)); break;
      case 'Min': out.push(Math.min(a, b)); break;
      case 'Equal': out.push(a === b ? 1 : 0); break;
      case 'Less': out.push(a < b ? 1 : 0); break;
      case 'Greater': out.push(a > b ? 1 : 0); break;
      case 'Where': out.push(a ? b : c); break;
      default: return undefined;
    }
  }
  return out;
}

function convOut(inSize: number, kernel: number, stride: number, padBegin: number, padEnd: number, dilation: number, ceil: boolean): number {
  const span = dilation * (kernel - 1) + 1;
  const x = (inSize + padBegin + padEnd - span) / stride;
  return (ceil ? Math.ceil(x) : Math.floor(x)) + 1;
}

/** Output spatial dims of a conv or pool with auto_pad / pads / strides / dilations. */
function spatial(node: NodeView, input: number[], kernel: number[], ceil = false): number[] {
  const n = kernel.length;
  const strides = ints(node.attrs.get('strides')) ?? new Array(n).fill(1);
  const dilations = ints(node.attrs.get('dilations')) ?? new Array(n).fill(1);
  const pads = ints(node.attrs.get('pads')) ?? new Array(2 * n).fill(0);
  const autoPad = node.attrs.get('auto_pad');
  return kernel.map((k, i) => {
    const x = input[2 + i];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(x / strides[i]);
    if (autoPad === 'VALID') return Math.floor((x - dilations[i] * (k - 1) - 1) / strides[i]) + 1;
    return convOut(x, k, strides[i], pads[i], pads[i + n], dilations[i], ceil);
  });
}

/** Output facts of one node, or undefined when the operator is not modelled (the caller falls back). */
export function inferNode(node: NodeView, inputs: TensorFacts[], outputCount: number): TensorFacts[] | undefined {
  const op = node.opType;
  const s = inputs.map((f) => f.shape);
  const v = inputs.map((f) => f.value);
  const x = s[0];
  const same = (shape: number[] | undefined, value?: number[]): TensorFacts[] | undefined =>
    shape ? new Array(outputCount).fill(0).map((_, i) => (i === 0 ? { shape, value } : { shape })) : undefined;

  if (op === 'Constant') {
    const t = node.attrs.get('value');
    if (t && typeof t === 'object' && !Array.isArray(t)) return [t as TensorFacts];
    for (const key of ['value_int', 'value_float']) {
      const a = node.attrs.get(key);
      if (typeof a === 'number') return [{ shape: [], value: [a] }];
    }
    for (const key of ['value_ints', 'value_floats']) {
      const a = node.attrs.get(key);
      if (Array.isArray(a)) return [{ shape: [a.length], value: (a as number[]).map(Number) }];
    }
    return undefined;
  }
  if (SAME_SHAPE.has(op)) {
    if (!x) return undefined;
    let value: number[] | undefined;
    if (v[0]) {
      if (op === 'Identity' || op === 'Cast' || op === 'CastLike') value = v[0];
      else if (op === 'Neg') value = v[0].map((a) => -a);
      else if (op === 'Sqrt') value = v[0].map(Math.sqrt);
      else if (op === 'Floor') value = v[0].map(Math.floor);
      else if (op === 'Ceil') value = v[0].map(Math.ceil);
      else if (op === 'Abs') value = v[0].map(Math.abs);
    }
    return same(x, value);
  }
  if (BROADCAST.has(op)) {
    if (s.some((shape) => !shape)) return undefined;
    const shape = broadcast(s as number[][]);
    const value = v.every((a) => a) && size(shape) <= 64 ? elementwise(op, v as number[][]) : undefined;
    return [{ shape, value }];
  }
  switch (op) {
    case 'Shape': {
      if (!x) return undefined;
      const start = normAxis(int(node.attrs.get('start'), 0), x.length);
      const endAttr = node.attrs.get('end');
      const end = typeof endAttr === 'number' ? normAxis(endAttr, x.length) : x.length;
      const value = x.slice(Math.max(0, start), Math.min(x.length, end));
      return [{ shape: [value.length], value }];
    }
    case 'Size':
      return x ? [{ shape: [], value: [size(x)] }] : undefined;
    case 'MatMul':
    case 'MatMulInteger':
    case 'FusedMatMul': {
      const [a, b] = s;
      if (!a || !b) return undefined;
      const a2 = a.length === 1 ? [1, a[0]] : a;
      const b2 = b.length === 1 ? [b[0], 1] : b;
      const batch = broadcast([a2.slice(0, -2), b2.slice(0, -2)]);
      const out = [...batch, a2[a2.length - 2], b2[b2.length - 1]];
      if (a.length === 1) out.splice(out.length - 2, 1);
      if (b.length === 1) out.splice(out.length - 1, 1);
      return [{ shape: out }];
    }
    case 'Gemm': {
      const [a, b] = s;
      if (!a || !b) return undefined;
      const m = int(node.attrs.get('transA'), 0) ? a[1] : a[0];
      const n = int(node.attrs.get('transB'), 0) ? b[0] : b[1];
      return [{ shape: [m, n] }];
    }
    case 'Conv':
    case 'ConvInteger': {
      const w = s[1];
      if (!x || !w) return undefined;
      const kernel = ints(node.attrs.get('kernel_shape')) ?? w.slice(2);
      return [{ shape: [x[0], w[0], ...spatial(node, x, kernel)] }];
    }
    case 'ConvTranspose': {
      const w = s[1];
      if (!x || !w) return undefined;
      const kernel = ints(node.attrs.get('kernel_shape')) ?? w.slice(2);
      const group = int(node.attrs.get('group'), 1);
      const given = ints(node.attrs.get('output_shape'));
      const strides = ints(node.attrs.get('strides')) ?? kernel.map(() => 1);
      const pads = ints(node.attrs.get('pads')) ?? new Array(2 * kernel.length).fill(0);
      const outPad = ints(node.attrs.get('output_padding')) ?? kernel.map(() => 0);
      const dil = ints(node.attrs.get('dilations')) ?? kernel.map(() => 1);
      const sp = given ?? kernel.map((k, i) => strides[i] * (x[2 + i] - 1) + outPad[i] + (k - 1) * dil[i] + 1 - pads[i] - pads[i + kernel.length]);
      return [{ shape: [x[0], w[1] * group, ...sp] }];
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const kernel = ints(node.attrs.get('kernel_shape'));
      if (!x || !kernel) return undefined;
      const shape = [x[0], x[1], ...spatial(node, x, kernel, int(node.attrs.get('ceil_mode'), 0) === 1)];
      return new Array(outputCount).fill(0).map(() => ({ shape }));
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
      return x ? [{ shape: [x[0], x[1], ...x.slice(2).map(() => 1)] }] : undefined;
    case 'Flatten': {
      if (!x) return undefined;
      const axis = normAxis(int(node.attrs.get('axis'), 1), x.length);
      return [{ shape: [size(x.slice(0, axis)), size(x.slice(axis))] }];
    }
    case 'Reshape': {
      const target = v[1];
      if (!x || !target) return undefined;
      const allowZero = int(node.attrs.get('allowzero'), 0) === 1;
      const out = target.map((d, i) => (d === 0 && !allowZero ? x[i] : d));
      const known = out.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
      const shape = out.map((d) => (d === -1 ? size(x) / known : d));
      return [{ shape, value: v[0] }];
    }
    case 'Transpose': {
      if (!x) return undefined;
      const perm = ints(node.attrs.get('perm')) ?? x.map((_, i) => x.length - 1 - i);
      return [{ shape: perm.map((p) => x[p]) }];
    }
    case 'Concat': {
      if (s.some((shape) => !shape)) return undefined;
      const shapes = s as number[][];
      const rank = shapes[0].length;
      const axis = normAxis(int(node.attrs.get('axis'), 0), rank);
      const shape = [...shapes[0]];
      shape[axis] = shapes.reduce((t, sh) => t + (sh[axis] ?? 0), 0);
      const value = rank === 1 && v.every((a) => a) ? (v as number[][]).flat() : undefined;
      return [{ shape, value }];
    }
    case 'Gather': {
      const idx = s[1];
      if (!x || !idx) return undefined;
      const axis = normAxis(int(node.attrs.get('axis'), 0), x.length);
      const shape = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
      let value: number[] | undefined;
      if (v[0] && v[1] && x.length === 1) value = v[1].map((i) => v[0]![i < 0 ? i + x[0] : i]);
      return [{ shape, value }];
    }
    case 'GatherElements':
      return s[1] ? [{ shape: s[1] }] : undefined;
    case 'Unsqueeze': {
      const axes = ints(node.attrs.get('axes')) ?? v[1];
      if (!x || !axes) return undefined;
      const rank = x.length + axes.length;
      const norm = new Set(axes.map((a) => normAxis(a, rank)));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(norm.has(i) ? 1 : x[j++]);
      return [{ shape, value: v[0] }];
    }
    case 'Squeeze': {
      if (!x) return undefined;
      const axes = ints(node.attrs.get('axes')) ?? v[1];
      const norm = axes ? new Set(axes.map((a) => normAxis(a, x.length))) : undefined;
      return [{ shape: x.filter((d, i) => (norm ? !norm.has(i) : d !== 1)), value: v[0] }];
    }
    case 'Slice': {
      if (!x) return undefined;
      const starts = ints(node.attrs.get('starts')) ?? v[1];
      const ends = ints(node.attrs.get('ends')) ?? v[2];
      if (!starts || !ends) return undefined;
      const axes = (ints(node.attrs.get('axes')) ?? v[3] ?? starts.map((_, i) => i)).map((a) => normAxis(a, x.length));
      const steps = v[4] ?? starts.map(() => 1);
      const shape = [...x];
      let value: number[] | undefined;
      axes.forEach((axis, i) => {
        const dim = x[axis];
        const step = steps[i];
        const clamp = (p: number, lo: number, hi: number) => Math.min(Math.max(p < 0 ? p + dim : p, lo), hi);
        const b = step > 0 ? clamp(starts[i], 0, dim) : clamp(starts[i], -1, dim - 1);
        const e = step > 0 ? clamp(ends[i], 0, dim) : clamp(ends[i], -1, dim - 1);
        shape[axis] = Math.max(0, Math.ceil((e - b) / step));
        if (x.length === 1 && v[0]) {
          value = [];
          for (let p = b; step > 0 ? p < e : p > e; p += step) value.push(v[0][p]);
        }
      });
      return [{ shape, value }];
    }
    case 'Split': {
      if (!x) return undefined;
      const axis = normAxis(int(node.attrs.get('axis'), 0), x.length);
      const parts = ints(node.attrs.get('split')) ?? v[1] ?? new Array(outputCount).fill(Math.ceil(x[axis] / outputCount));
      return parts.slice(0, outputCount).map((p, i) => {
        const shape = [...x];
        shape[axis] = i === outputCount - 1 ? x[axis] - parts.slice(0, i).reduce((a, b) => a + b, 0) : p;
        return { shape };
      });
    }
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2':
    case 'ReduceL1':
    case 'ReduceSumSquare':
    case 'ReduceLogSumExp':
    case 'ArgMax':
    case 'ArgMin': {
      if (!x) return undefined;
      const keep = int(node.attrs.get('keepdims'), 1) === 1;
      const axisAttr = op.startsWith('Arg') ? [int(node.attrs.get('axis'), 0)] : ints(node.attrs.get('axes')) ?? v[1];
      const axes = new Set((axisAttr ?? x.map((_, i) => i)).map((a) => normAxis(a, x.length)));
      const shape = keep ? x.map((d, i) => (axes.has(i) ? 1 : d)) : x.filter((_, i) => !axes.has(i));
      return [{ shape }];
    }
    case 'Expand': {
      if (!x || !v[1]) return undefined;
      return [{ shape: broadcast([x, v[1]]) }];
    }
    case 'ConstantOfShape': {
      if (!v[0]) return undefined;
      const t = node.attrs.get('value') as TensorFacts | undefined;
      const fill = t?.value?.[0] ?? 0;
      return [{ shape: v[0], value: size(v[0]) <= 64 ? new Array(size(v[0])).fill(fill) : undefined }];
    }
    case 'Range': {
      if (!v[0] || !v[1] || !v[2]) return undefined;
      const n = Math.max(Math.ceil((v[1][0] - v[0][0]) / v[2][0]), 0);
      const value = n <= 64 ? Array.from({ length: n }, (_, i) => v[0]![0] + i * v[2]![0]) : undefined;
      return [{ shape: [n], value }];
    }
    case 'Tile':
      return x && v[1] ? [{ shape: x.map((d, i) => d * v[1]![i]) }] : undefined;
    case 'Pad': {
      const pads = ints(node.attrs.get('pads')) ?? v[1];
      if (!x || !pads) return undefined;
      return [{ shape: x.map((d, i) => d + pads[i] + pads[i + x.length]) }];
    }
    case 'Resize':
    case 'Upsample': {
      if (!x) return undefined;
      const sizes = v[3];
      if (sizes && sizes.length === x.length) return [{ shape: sizes }];
      const scales = op === 'Upsample' ? v[1] : v[2];
      if (scales && scales.length === x.length) return [{ shape: x.map((d, i) => Math.floor(d * scales[i])) }];
      return undefined;
    }
    case 'OneHot':
      return s[0] && v[1] ? [{ shape: [...s[0], v[1][0]] }] : undefined;
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const w = s[1];
      if (!x || !w) return undefined;
      const hidden = int(node.attrs.get('hidden_size'), w[1] / (op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1));
      const dirs = w[0];
      const batchFirst = int(node.attrs.get('layout'), 0) === 1;
      const [t, b] = batchFirst ? [x[1], x[0]] : [x[0], x[1]];
      const y = batchFirst ? [b, t, dirs, hidden] : [t, dirs, b, hidden];
      const h = batchFirst ? [b, dirs, hidden] : [dirs, b, hidden];
      return [{ shape: y }, { shape: h }, { shape: h }].slice(0, outputCount);
    }
  }
  return undefined;
}
