/**
 * Forward FLOPs and the kind of each ONNX operator, from its concrete shapes.
 * Multiply-add = 2 FLOPs. Memory traffic (bytes touched) is computed by the
 * caller from the tensors an operator reads and writes; views move nothing.
 */
import type { OpKind } from './graph.js';
import { BROADCAST, SAME_SHAPE } from './onnx-shapes.js';

const size = (shape: number[] | undefined) => (shape ? shape.reduce((p, d) => p * d, 1) : 0);

/** Operators that only relabel a tensor or compute its shape: no kernel, no traffic. */
export const VIEW_OPS = new Set([
  'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Shape', 'Size', 'Identity', 'Constant', 'ConstantOfShape', 'Range',
  'Dropout', // inference-style export; training dropout is one elementwise pass at most
]);

/** Operators that copy or rearrange data: no FLOPs, memory traffic only. */
export const COPY_OPS = new Set([
  'Transpose', 'Concat', 'Slice', 'Split', 'Gather', 'GatherElements', 'GatherND', 'Expand', 'Pad', 'Tile', 'Cast', 'CastLike',
  'Where', 'ScatterND', 'ScatterElements', 'Resize', 'Upsample', 'DepthToSpace', 'SpaceToDepth', 'OneHot', 'Trilu',
]);

/** FLOPs per output element of the cheap elementwise and normalisation operators. */
const PER_ELEMENT: Record<string, number> = {
  Softmax: 5, LogSoftmax: 5, LayerNormalization: 8, BatchNormalization: 4, InstanceNormalization: 8, GroupNormalization: 8,
  SimplifiedLayerNormalization: 6, RMSNormalization: 6, SkipLayerNormalization: 9, Gelu: 8, Erf: 4, Tanh: 4, Sigmoid: 4,
  Exp: 2, Log: 2, Sqrt: 2, Pow: 2, HardSwish: 3, Mish: 6, Swish: 4,
};

/** Every operator this file has a rule for; anything else is reported as unsupported. */
export function isModelled(opType: string): boolean {
  return (
    VIEW_OPS.has(opType) || COPY_OPS.has(opType) || SAME_SHAPE.has(opType) || BROADCAST.has(opType) ||
    ['MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool',
      'GlobalLpPool', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceL1',
      'ReduceSumSquare', 'ReduceLogSumExp', 'ArgMax', 'ArgMin', 'LSTM', 'GRU', 'RNN', 'Einsum', 'FusedMatMul'].includes(opType)
  );
}

export interface OpShapes {
  inputs: (number[] | undefined)[];
  outputs: (number[] | undefined)[];
  attrs: Map<string, unknown>;
  /** Whether input i is a weight (initializer-derived) rather than an activation. */
  weightInput: boolean[];
}

export function opKind(opType: string, shapes: OpShapes): OpKind {
  if (opType === 'Conv' || opType === 'ConvTranspose') return 'conv';
  if (['MatMul', 'Gemm', 'LSTM', 'GRU', 'RNN', 'Einsum', 'FusedMatMul'].includes(opType)) return 'gemm';
  if (opType === 'Gather' && shapes.weightInput[0]) return 'embedding';
  if (VIEW_OPS.has(opType)) return 'shape';
  return 'memory';
}

export function opFlops(opType: string, shapes: OpShapes): number {
  const [x, w] = shapes.inputs;
  const out = size(shapes.outputs[0]);
  switch (opType) {
    case 'MatMul':
    case 'FusedMatMul': {
      const k = x ? x[x.length - 1] : 0;
      return 2 * out * k;
    }
    case 'Gemm': {
      const transA = shapes.attrs.get('transA') === 1;
      const k = x ? (transA ? x[0] : x[1]) : 0;
      return 2 * out * k + (shapes.inputs[2] ? out : 0);
    }
    case 'Conv': {
      if (!w) return 0;
      return 2 * out * size(w.slice(1)) + (shapes.inputs[2] ? out : 0);
    }
    case 'ConvTranspose': {
      if (!w || !x) return 0;
      return 2 * size(x) * size(w.slice(1));
    }
    case 'MaxPool':
    case 'AveragePool':
    case 'LpPool': {
      const kernel = shapes.attrs.get('kernel_shape') as number[] | undefined;
      return out * (kernel ? size(kernel) : 1);
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
    case 'GlobalLpPool':
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
    case 'ArgMin':
      return size(x);
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      // Per step: gates x (input + hidden) x hidden multiply-adds, per direction.
      const r = shapes.inputs[2];
      if (!x || !w || !r) return 0;
      const batchFirst = shapes.attrs.get('layout') === 1;
      const steps = batchFirst ? x[1] : x[0];
      const batch = batchFirst ? x[0] : x[1];
      return 2 * steps * batch * (size(w) + size(r));
    }
    case 'Einsum':
      return 2 * out; // unknown contraction size: at least one multiply-add per output
  }
  if (VIEW_OPS.has(opType) || COPY_OPS.has(opType)) return 0;
  if (SAME_SHAPE.has(opType) || BROADCAST.has(opType)) return out * (PER_ELEMENT[opType] ?? 1);
  return 0;
}
