/**
 * Real models: a Keras-style description (profiles/models/<name>.json) that
 * builds with tfjs layers, its deterministic initial weights and synthetic
 * data, and the layers.csv rows derived from the built model.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { UserError } from '../errors.js';
import { readJsonObject } from '../json-file.js';
import { PACKAGE_ROOT } from '../bundled.js';
import type { Layer } from '../problem.js';

export const MODELS_DIR = join(PACKAGE_ROOT, 'profiles', 'models');

// Production mode in every thread that builds a model (all of env/real does): tfjs skips its debug
// checks and prints no warnings, such as the cpu backend's "Hi, looks like you are running
// TensorFlow.js in Node.js" banner on its first tensor. Profiles and validations run alike.
tf.enableProdMode();

/** Layer kinds a description may use: the name of the tfjs `tf.layers.*` factory. */
const LAYER_FACTORIES = {
  dense: tf.layers.dense,
  conv2d: tf.layers.conv2d,
  maxPooling2d: tf.layers.maxPooling2d,
  averagePooling2d: tf.layers.averagePooling2d,
  flatten: tf.layers.flatten,
  activation: tf.layers.activation,
  reshape: tf.layers.reshape,
} as const;
export type LayerKind = keyof typeof LAYER_FACTORIES;

export interface LayerSpec {
  name: string;
  type: LayerKind;
  /** The tfjs layer config (camelCase, as `tf.layers.<type>(config)` takes it). */
  config: Record<string, unknown>;
}

export interface ModelSpec {
  name: string;
  description?: string;
  /** One example's shape, without the batch dimension. */
  inputShape: number[];
  /** Examples in ONE micro-batch. */
  microBatchSize: number;
  /** Seeds the initial weights (never 0). */
  seed: number;
  loss: 'softmaxCrossEntropy' | 'meanSquaredError';
  optimizer: { name: 'sgd'; learningRate: number };
  /** Synthetic data: inputs uniform in [-1, 1], labels from a fixed random linear teacher; `batches` distinct step batches, cycled. */
  data: { kind: 'teacher'; seed: number; batches: number };
  layers: LayerSpec[];
}

/** Reads a model by bundled name (`mlp`, `cnn`) or by path to a .json file; bad input is a UserError. */
export function loadModelSpec(nameOrFile: string): ModelSpec {
  const file = nameOrFile.endsWith('.json') ? nameOrFile : join(MODELS_DIR, `${nameOrFile}.json`);
  if (!existsSync(file)) {
    throw new UserError(`--model: no model "${nameOrFile}" (bundled: ${bundledModelNames().join(', ')}; or give a path to a .json description)`);
  }
  return checkModelSpec(file, readJsonObject(file, 'a model description (JSON object)'));
}

export function bundledModelNames(): string[] {
  return ['mlp', 'cnn'].filter((name) => existsSync(join(MODELS_DIR, `${name}.json`)));
}

function checkModelSpec(file: string, json: Record<string, unknown>): ModelSpec {
  const fail = (key: string, message: string): never => {
    throw new UserError(`${file}: ${key}: ${message}`);
  };
  const wholePositive = (key: string, value: unknown): number =>
    typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : fail(key, `expected a whole number >= 1, got ${JSON.stringify(value)}`);
  if (!Array.isArray(json.inputShape) || json.inputShape.length === 0) fail('inputShape', 'expected a non-empty list of sizes');
  const inputShape = (json.inputShape as unknown[]).map((n, i) => wholePositive(`inputShape[${i}]`, n));
  if (!Array.isArray(json.layers) || json.layers.length === 0) fail('layers', 'expected a non-empty list of layers');
  const names = new Set<string>();
  const layers = (json.layers as unknown[]).map((raw, i): LayerSpec => {
    const layer = (raw ?? {}) as Record<string, unknown>;
    const name = typeof layer.name === 'string' && layer.name !== '' ? layer.name : fail(`layers[${i}].name`, 'expected a non-empty name');
    if (names.has(name)) fail(`layers[${i}].name`, `duplicate layer "${name}"`);
    names.add(name);
    const type = String(layer.type);
    if (!(type in LAYER_FACTORIES)) fail(`layers[${i}].type`, `unknown layer type "${type}" (known: ${Object.keys(LAYER_FACTORIES).join(', ')})`);
    const config = (layer.config ?? {}) as Record<string, unknown>;
    if ('dropout' in config || type === 'dropout') fail(`layers[${i}]`, 'random layers (dropout) are not supported: the split and unsplit model must agree');
    return { name, type: type as LayerKind, config };
  });
  const loss = (json.loss ?? 'softmaxCrossEntropy') as ModelSpec['loss'];
  if (loss !== 'softmaxCrossEntropy' && loss !== 'meanSquaredError') fail('loss', `expected softmaxCrossEntropy or meanSquaredError, got ${JSON.stringify(loss)}`);
  const optimizer = (json.optimizer ?? { name: 'sgd', learningRate: 0.05 }) as ModelSpec['optimizer'];
  if (optimizer.name !== 'sgd' || !(optimizer.learningRate > 0)) fail('optimizer', 'expected {"name": "sgd", "learningRate": > 0}');
  const data = (json.data ?? { kind: 'teacher', seed: 7, batches: 2 }) as ModelSpec['data'];
  if (data.kind !== 'teacher') fail('data.kind', `expected "teacher", got ${JSON.stringify(data.kind)}`);
  return {
    name: typeof json.name === 'string' ? json.name : file,
    description: typeof json.description === 'string' ? json.description : undefined,
    inputShape,
    microBatchSize: wholePositive('microBatchSize', json.microBatchSize),
    seed: wholePositive('seed', json.seed ?? 1),
    loss,
    optimizer,
    data: { kind: 'teacher', seed: wholePositive('data.seed', data.seed), batches: wholePositive('data.batches', data.batches) },
    layers,
  };
}

/** A fresh tfjs layer for one description entry (tfjs names it uniquely; our name stays in the spec). */
export function makeLayer(spec: LayerSpec): tf.layers.Layer {
  const factory = LAYER_FACTORIES[spec.type] as (config: object) => tf.layers.Layer;
  return factory({ ...spec.config });
}

const product = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Each layer's output shape (without the batch dimension) and parameter count, from building the model. */
const shapeCache = new WeakMap<ModelSpec, { outputShape: number[]; params: number }[]>();

export function layerShapes(spec: ModelSpec): { outputShape: number[]; params: number }[] {
  const cached = shapeCache.get(spec);
  if (cached) return cached;
  const shapes = tf.tidy(() => {
    let shape: (number | null)[] = [null, ...spec.inputShape];
    return spec.layers.map((layerSpec) => {
      const layer = makeLayer(layerSpec);
      layer.build(shape);
      shape = layer.computeOutputShape(shape) as (number | null)[];
      const params = layer.countParams();
      for (const weight of layer.weights) weight.dispose();
      return { outputShape: shape.slice(1) as number[], params };
    });
  });
  shapeCache.set(spec, shapes);
  return shapes;
}

/** The layers.csv rows: param bytes = params × 4, activation bytes = output elements × micro-batch size × 4 (float32). */
export function modelLayers(spec: ModelSpec): Layer[] {
  return layerShapes(spec).map(({ outputShape, params }, l) => ({
    name: spec.layers[l].name,
    paramBytes: params * 4,
    activationBytes: product(outputShape) * spec.microBatchSize * 4,
  }));
}

/** The input shape of layer `l` (without the batch dimension). */
export function inputShapeOf(spec: ModelSpec, l: number): number[] {
  return l === 0 ? spec.inputShape : layerShapes(spec)[l - 1].outputShape;
}

/**
 * Initial weights for layer `l`, fixed by the model seed: kernels Glorot-uniform
 * from alea(seed, layer, weight), biases zero. Every worker computes the same values.
 */
export function initialWeights(spec: ModelSpec, l: number, shapes: readonly (readonly number[])[]): Float32Array[] {
  return shapes.map((shape, w) => {
    const values = new Float32Array(product(shape));
    if (shape.length < 2) return values;
    const fanIn = product(shape.slice(0, -1));
    const fanOut = product(shape.slice(0, -2)) * shape[shape.length - 1];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    const random = seedrandom.alea(`${spec.seed}:${l}:${w}`);
    for (let i = 0; i < values.length; i++) values[i] = (2 * random() - 1) * limit;
    return values;
  });
}

/** Classes (loss softmaxCrossEntropy) or targets (meanSquaredError): the last layer's output size. */
export function outputSize(spec: ModelSpec): number {
  return product(layerShapes(spec).at(-1)!.outputShape);
}

/**
 * The training batch of step `step`: M micro-batches of inputs and one-hot
 * (or regression) targets, deterministic in (data seed, step mod batches).
 */
export function stepBatch(spec: ModelSpec, step: number, microBatches: number): { inputs: Float32Array[]; targets: Float32Array[] } {
  const inputSize = product(spec.inputShape);
  const outSize = outputSize(spec);
  const teacher = new Float32Array(inputSize * outSize);
  const teacherRandom = seedrandom.alea(`teacher:${spec.data.seed}`);
  for (let i = 0; i < teacher.length; i++) teacher[i] = 2 * teacherRandom() - 1;
  const random = seedrandom.alea(`data:${spec.data.seed}:${step % spec.data.batches}`);
  const B = spec.microBatchSize;
  const inputs: Float32Array[] = [];
  const targets: Float32Array[] = [];
  for (let m = 0; m < microBatches; m++) {
    const x = new Float32Array(B * inputSize);
    for (let i = 0; i < x.length; i++) x[i] = 2 * random() - 1;
    const y = new Float32Array(B * outSize);
    for (let b = 0; b < B; b++) {
      const scores = new Float64Array(outSize);
      for (let i = 0; i < inputSize; i++) {
        const xi = x[b * inputSize + i];
        for (let c = 0; c < outSize; c++) scores[c] += xi * teacher[i * outSize + c];
      }
      if (spec.loss === 'softmaxCrossEntropy') {
        let best = 0;
        for (let c = 1; c < outSize; c++) if (scores[c] > scores[best]) best = c;
        y[b * outSize + best] = 1;
      } else {
        for (let c = 0; c < outSize; c++) y[b * outSize + c] = scores[c] / Math.sqrt(inputSize);
      }
    }
    inputs.push(x);
    targets.push(y);
  }
  return { inputs, targets };
}
