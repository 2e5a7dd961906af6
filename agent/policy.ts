/**
 * The policy network (tfjs): from the features of a chain (agent/features.ts)
 * to a distribution over types for every layer, and a stay probability per
 * layer (continue the current stage). No training loop here (agent/rl/), no
 * loss (agent/rl/loss.ts) and no file access (agent/policy-io.ts).
 *
 * Shape-free by construction, so one trained policy reads problems of any
 * length and any number of types:
 *   pair embedding   e[l,k] = relu(pair[l,k] W1 + b1)                      [L, K, H]
 *   layer input      x[l]   = relu([layer[l], mean_k e[l,k], max_k e[l,k]] W2 + b2)  [L, H]
 *   chain encoder    h      = encoder(x)  (1-D conv, self-attention or BiLSTM; residual)
 *   logits           z[l,k] = relu(e[l,k] Wp + h[l] Wh + b3) · w4           [L, K]
 * Types the profile says cannot run a layer get a logit of -1e9 (probability 0).
 * The layers are independent given the chain (no autoregression): one forward
 * pass gives the whole distribution, so a batch of samples costs one pass and
 * one backward pass per update, whatever the batch size.
 *
 * Weights are plain tf.Variables created from a seeded generator (never
 * `Math.random`), so a seed fixes the initial network exactly.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { LAYER_FEATURES, PAIR_FEATURES, type ChainFeatures } from './features.js';

export type EncoderKind = 'conv' | 'attention' | 'lstm' | 'none';
export const ENCODER_KINDS: readonly EncoderKind[] = ['conv', 'attention', 'lstm', 'none'];

export interface PolicyConfig {
  encoder: EncoderKind;
  /** Width of every hidden representation. */
  hidden: number;
  /** Encoder blocks (conv layers, attention blocks; LSTM: always one bidirectional layer). */
  depth: number;
  /** Conv kernel width (odd). */
  kernel: number;
}

export const DEFAULT_POLICY_CONFIG: PolicyConfig = { encoder: 'conv', hidden: 32, depth: 3, kernel: 5 };

/** What a saved policy records about itself (model.json `modelTopology`). */
export interface PolicyTopology {
  format: 'placer-policy';
  version: 1;
  config: PolicyConfig;
  pairFeatures: number;
  layerFeatures: number;
}

const MASKED_LOGIT = -1e9;
let instances = 0;

/** Tensors a forward pass needs, built once per problem (dispose when done). */
export interface PolicyInputs {
  layerCount: number;
  typeCount: number;
  pair: tf.Tensor2D; // [L*K, PAIR_FEATURES]
  layer: tf.Tensor2D; // [L, LAYER_FEATURES]
  /** [L, K] 1 = runnable. */
  mask: tf.Tensor2D;
  /** [L, L] |i - j|, for the attention's distance bias (attention only). */
  distance: tf.Tensor2D | null;
  /** Added to every stay logit: the chain-length prior (see `stayOffset`). */
  stayOffset: number;
}

export class PolicyNetwork {
  /** Trainable variables by short name (the names saved in the weights file). */
  readonly variables = new Map<string, tf.Variable>();
  private readonly prefix: string;

  private constructor(readonly config: PolicyConfig) {
    this.prefix = `policy${++instances}/`;
  }

  /** A fresh network; `seed` (never 0) fixes every initial weight. */
  static create(config: Partial<PolicyConfig> = {}, seed = 1): PolicyNetwork {
    const full: PolicyConfig = { ...DEFAULT_POLICY_CONFIG, ...config };
    if (full.kernel % 2 !== 1) throw new Error(`policy: conv kernel must be odd, got ${full.kernel}`);
    const net = new PolicyNetwork(full);
    const rng = seedrandom.alea(`policy-init:${seed}`);
    for (const [name, shape, kind] of net.shapes()) net.addVariable(name, initial(shape, kind, rng));
    return net;
  }

  /** A network with the given weights (from a saved policy); checks every name and shape. */
  static fromWeights(config: PolicyConfig, weights: tf.NamedTensorMap): PolicyNetwork {
    const net = new PolicyNetwork({ ...DEFAULT_POLICY_CONFIG, ...config });
    for (const [name, shape] of net.shapes()) {
      const tensor = weights[name];
      if (!tensor) throw new Error(`policy weights: missing "${name}"`);
      if (tensor.shape.join('x') !== shape.join('x')) {
        throw new Error(`policy weights: "${name}" has shape [${tensor.shape}], expected [${shape}]`);
      }
      net.addVariable(name, tensor);
    }
    return net;
  }

  topology(): PolicyTopology {
    return { format: 'placer-policy', version: 1, config: this.config, pairFeatures: PAIR_FEATURES, layerFeatures: LAYER_FEATURES };
  }

  /** Count of trainable numbers. */
  get parameterCount(): number {
    let n = 0;
    for (const v of this.variables.values()) n += v.size;
    return n;
  }

  /** The tfjs name of a variable (what optimizers key their state by). */
  variableName(short: string): string {
    return this.prefix + short;
  }

  shortName(variableName: string): string {
    return variableName.startsWith(this.prefix) ? variableName.slice(this.prefix.length) : variableName;
  }

  private addVariable(name: string, value: tf.Tensor): void {
    this.variables.set(name, tf.variable(value, true, this.prefix + name));
    value.dispose();
  }

  private v(name: string): tf.Variable {
    const variable = this.variables.get(name);
    if (!variable) throw new Error(`policy: no variable "${name}"`);
    return variable;
  }

  /** [name, shape, init] of every variable for this config, in a fixed order. */
  private shapes(): Array<[string, number[], InitKind]> {
    const { hidden: H, depth, kernel, encoder } = this.config;
    const list: Array<[string, number[], InitKind]> = [
      ['pair/kernel', [PAIR_FEATURES, H], 'glorot'],
      ['pair/bias', [H], 'zeros'],
      ['layer/kernel', [LAYER_FEATURES + 2 * H, H], 'glorot'],
      ['layer/bias', [H], 'zeros'],
    ];
    if (encoder === 'conv') {
      for (let i = 0; i < depth; i++) {
        list.push([`conv${i}/kernel`, [kernel, H, H], 'glorot'], [`conv${i}/bias`, [H], 'zeros']);
      }
      list.push(['conv/global', [H, H], 'glorot']);
    } else if (encoder === 'attention') {
      for (let i = 0; i < depth; i++) {
        list.push(
          [`attn${i}/query`, [H, H], 'glorot'],
          [`attn${i}/key`, [H, H], 'glorot'],
          [`attn${i}/value`, [H, H], 'glorot'],
          [`attn${i}/out`, [H, H], 'small'],
          [`attn${i}/slope`, [1], 'zeros'],
          [`attn${i}/ffn`, [H, H], 'glorot'],
          [`attn${i}/ffnBias`, [H], 'zeros'],
        );
      }
    } else if (encoder === 'lstm') {
      const half = H / 2;
      if (!Number.isInteger(half)) throw new Error('policy: hidden must be even for the BiLSTM');
      for (const dir of ['fw', 'bw']) {
        list.push([`lstm/${dir}/kernel`, [H + half, 4 * half], 'glorot'], [`lstm/${dir}/bias`, [4 * half], 'zeros']);
      }
    }
    list.push(
      ['head/pair', [H, H], 'glorot'],
      ['head/layer', [H, H], 'glorot'],
      ['head/bias', [H], 'zeros'],
      ['head/out', [H, 1], 'small'],
      ['stay/kernel', [H, 1], 'small'],
      ['stay/bias', [1], 'stay'],
    );
    return list;
  }

  /** The tensors of one problem's features; the caller disposes them (`disposeInputs`). */
  /** The chain as tensors; `priorStages`: the stage count the stay prior aims at (see `stayOffset`). */
  inputs(features: ChainFeatures, priorStages = PRIOR_STAGES): PolicyInputs {
    const { layerCount: L, typeCount: K } = features;
    const mask = new Float32Array(L * K);
    for (let i = 0; i < mask.length; i++) mask[i] = features.runnable[i];
    let distance: tf.Tensor2D | null = null;
    if (this.config.encoder === 'attention') {
      const d = new Float32Array(L * L);
      for (let i = 0; i < L; i++) for (let j = 0; j < L; j++) d[i * L + j] = Math.abs(i - j);
      distance = tf.tensor2d(d, [L, L]);
    }
    return {
      layerCount: L,
      typeCount: K,
      pair: tf.tensor2d(features.pair, [L * K, PAIR_FEATURES]),
      layer: tf.tensor2d(features.layer, [L, LAYER_FEATURES]),
      mask: tf.tensor2d(mask, [L, K]),
      distance,
      stayOffset: stayOffset(L, priorStages),
    };
  }

  /** Masked type logits [L, K] and stay logits [L] (keep the previous layer's type). Inside tf.tidy. */
  heads(inputs: PolicyInputs): { logits: tf.Tensor2D; stay: tf.Tensor1D } {
    const { layerCount: L, typeCount: K, mask } = inputs;
    const H = this.config.hidden;
    const e = tf.relu(tf.add(tf.matMul(inputs.pair, this.v('pair/kernel')), this.v('pair/bias'))) as tf.Tensor2D; // [L*K, H]
    const e3 = tf.mul(tf.reshape(e, [L, K, H]), tf.reshape(mask, [L, K, 1]));
    const runnable = tf.maximum(tf.sum(mask, 1, true), 1); // [L, 1]
    const meanE = tf.div(tf.sum(e3, 1), runnable);
    const maxE = tf.max(e3, 1); // relu ≥ 0, masked entries are 0
    const x = tf.relu(
      tf.add(tf.matMul(tf.concat([inputs.layer, meanE, maxE], 1), this.v('layer/kernel')), this.v('layer/bias')),
    ) as tf.Tensor2D;
    const h = this.encode(x, inputs);
    const fromPair = tf.reshape(tf.matMul(e, this.v('head/pair')), [L, K, H]);
    const fromLayer = tf.reshape(tf.matMul(h, this.v('head/layer')), [L, 1, H]);
    const hidden = tf.relu(tf.add(tf.add(fromPair, fromLayer), this.v('head/bias')));
    const z = tf.reshape(tf.matMul(tf.reshape(hidden, [L * K, H]), this.v('head/out')), [L, K]);
    // Masked types: a very negative logit (not -Infinity: 0 × -Infinity would be NaN in the loss).
    const logits = tf.add(tf.mul(z, mask), tf.mul(tf.sub(1, mask), MASKED_LOGIT)) as tf.Tensor2D;
    const stay = tf.reshape(tf.add(tf.add(tf.matMul(h, this.v('stay/kernel')), this.v('stay/bias')), inputs.stayOffset), [L]) as tf.Tensor1D;
    return { logits, stay };
  }

  private encode(x: tf.Tensor2D, inputs: PolicyInputs): tf.Tensor2D {
    const { encoder, depth } = this.config;
    const L = inputs.layerCount;
    if (encoder === 'conv') {
      let h = x;
      // A 'same' 1-D convolution written as a sum of shifted matMuls (identical values to tf.conv1d):
      // the wasm backend has no Conv2DBackpropFilter kernel, and on cpu this is ~3x faster at these sizes.
      // Plain kernels, plus a chain-wide mean for global context.
      const { kernel, hidden: H } = this.config;
      const pad = (kernel - 1) / 2;
      for (let i = 0; i < depth; i++) {
        const w = this.v(`conv${i}/kernel`);
        const padded = tf.pad(h, [[pad, pad], [0, 0]]);
        let y: tf.Tensor2D | null = null;
        for (let j = 0; j < kernel; j++) {
          const term = tf.matMul(tf.slice(padded, [j, 0], [L, H]), tf.reshape(tf.slice(w, [j, 0, 0], [1, H, H]), [H, H]) as tf.Tensor2D) as tf.Tensor2D;
          y = y === null ? term : (tf.add(y, term) as tf.Tensor2D);
        }
        h = tf.add(h, tf.relu(tf.add(y!, this.v(`conv${i}/bias`)))) as tf.Tensor2D;
      }
      const context = tf.relu(tf.matMul(tf.mean(h, 0, true), this.v('conv/global')));
      return tf.add(h, context) as tf.Tensor2D;
    }
    if (encoder === 'attention') {
      let h = x;
      const scale = 1 / Math.sqrt(this.config.hidden);
      for (let i = 0; i < depth; i++) {
        const q = tf.matMul(h, this.v(`attn${i}/query`));
        const k = tf.matMul(h, this.v(`attn${i}/key`));
        const v = tf.matMul(h, this.v(`attn${i}/value`));
        // A learned penalty on distance (ALiBi): order without position embeddings, any length.
        const slope = tf.softplus(this.v(`attn${i}/slope`));
        const scores = tf.sub(tf.mul(tf.matMul(q, k, false, true), scale), tf.mul(inputs.distance!, slope));
        const attended = tf.matMul(tf.softmax(scores), v);
        h = tf.add(h, tf.matMul(attended, this.v(`attn${i}/out`))) as tf.Tensor2D;
        h = tf.add(h, tf.relu(tf.add(tf.matMul(h, this.v(`attn${i}/ffn`)), this.v(`attn${i}/ffnBias`)))) as tf.Tensor2D;
      }
      return h;
    }
    if (encoder === 'lstm') {
      const half = this.config.hidden / 2;
      const forgetBias = tf.scalar(1);
      const steps = tf.split(x, L, 0) as tf.Tensor2D[];
      const run = (dir: 'fw' | 'bw'): tf.Tensor2D[] => {
        let c: tf.Tensor2D = tf.zeros([1, half]);
        let hState: tf.Tensor2D = tf.zeros([1, half]);
        const out: tf.Tensor2D[] = new Array(L);
        for (let t = 0; t < L; t++) {
          const i = dir === 'fw' ? t : L - 1 - t;
          [c, hState] = tf.basicLSTMCell(forgetBias, this.v(`lstm/${dir}/kernel`) as tf.Tensor2D, this.v(`lstm/${dir}/bias`) as tf.Tensor1D, steps[i], c, hState);
          out[i] = hState;
        }
        return out;
      };
      const fw = tf.concat(run('fw'), 0);
      const bw = tf.concat(run('bw'), 0);
      return tf.add(x, tf.concat([fw, bw], 1)) as tf.Tensor2D;
    }
    return x;
  }

  /**
   * The network's outputs as arrays: per-layer type probabilities (softmax
   * over the runnable types) and stay probabilities σ(stay logit). How they
   * make a placement is agent/rl/actions.ts (a stage continues with
   * probability stay[l]; a new stage draws its type from probs[l]).
   */
  distribution(inputs: PolicyInputs): { probs: Float32Array; stay: Float32Array } {
    const [probs, stay] = tf.tidy(() => {
      const { logits, stay } = this.heads(inputs);
      return [tf.softmax(logits), tf.sigmoid(stay)];
    });
    const out = { probs: Float32Array.from(probs.dataSync() as Float32Array), stay: Float32Array.from(stay.dataSync() as Float32Array) };
    tf.dispose([probs, stay]);
    return out;
  }

  /** The weights by short name (new tensors; the caller disposes them). */
  weights(): tf.NamedTensorMap {
    const map: tf.NamedTensorMap = {};
    for (const [name, variable] of this.variables) map[name] = variable.clone();
    return map;
  }

  /** Copies weights into this network (names and shapes must match). */
  assign(weights: tf.NamedTensorMap): void {
    for (const [name, variable] of this.variables) {
      const tensor = weights[name];
      if (!tensor) throw new Error(`policy weights: missing "${name}"`);
      variable.assign(tensor);
    }
  }

  dispose(): void {
    for (const variable of this.variables.values()) variable.dispose();
    this.variables.clear();
  }
}

export function disposeInputs(inputs: PolicyInputs): void {
  inputs.pair.dispose();
  inputs.layer.dispose();
  inputs.mask.dispose();
  inputs.distance?.dispose();
}

type InitKind = 'glorot' | 'zeros' | 'small' | 'stay';

/** Initial stay logit: σ(2) ≈ 0.88, so a fresh policy samples a few long runs rather than a type per layer. */
export const INITIAL_STAY_LOGIT = 2;

/** Stages a fresh policy samples on a long chain, about (see `stayOffset`): the first policy's prior. */
export const PRIOR_STAGES = 4;

/**
 * A fixed offset on the stay logits of an L-layer chain, so that a fresh
 * policy samples about `stages` stages on a long chain (stay 1 − stages/L)
 * rather than one every 8 layers (36 stages at 300 layers, each taking a
 * unit and the budget with it). With the default 4: 0 up to 40 layers. A
 * restart may ask for more stages than σ(2) gives (agent/rl/config.ts
 * `priorStages`): the offset may then be negative, down to a stay logit of 0.
 */
export function stayOffset(L: number, stages = PRIOR_STAGES): number {
  if (L <= stages) return 0;
  const p = 1 - stages / L;
  return Math.max(stages <= PRIOR_STAGES ? 0 : -INITIAL_STAY_LOGIT, Math.log(p / (1 - p)) - INITIAL_STAY_LOGIT);
}

/** Glorot-uniform (or zeros, or a tenth of Glorot for output layers: a near-uniform first policy) from `rng`. */
function initial(shape: number[], kind: InitKind, rng: () => number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  if (kind === 'stay') values.fill(INITIAL_STAY_LOGIT);
  else if (kind !== 'zeros') {
    const fanOut = shape[shape.length - 1];
    const fanIn = size / fanOut;
    const limit = Math.sqrt(6 / (fanIn + fanOut)) * (kind === 'small' ? 0.1 : 1);
    for (let i = 0; i < size; i++) values[i] = (2 * rng() - 1) * limit;
  }
  return tf.tensor(values, shape);
}
