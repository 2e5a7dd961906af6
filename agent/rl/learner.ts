/**
 * The update step: Adam on the PPO loss of agent/rl/loss.ts, several epochs
 * per rollout, gradients clipped in global norm. Also Adam's slots for
 * checkpoints. A learning rate of 0 freezes the policy: no step is taken.
 */
import * as tf from '@tensorflow/tfjs';
import type { PolicyInputs, PolicyNetwork } from '../policy.js';
import type { Rollout } from './actions.js';
import { disposeRolloutTensors, entropies, ppoLoss, rolloutTensors } from './loss.js';

export interface LearnerConfig {
  learningRate: number;
  /** Passes over each rollout (PPO epochs). */
  epochs: number;
  /** PPO ratio clip ε. */
  clip: number;
  /** Global-norm gradient clipping. */
  clipNorm: number;
}

export class Learner {
  readonly optimizer: tf.AdamOptimizer;

  constructor(readonly config: LearnerConfig) {
    this.optimizer = tf.train.adam(config.learningRate);
  }

  get frozen(): boolean {
    return this.config.learningRate === 0;
  }

  /** `epochs` Adam steps on `rows` with per-row advantages; returns the mean per-layer type entropy before the steps. */
  update(policy: PolicyNetwork, inputs: PolicyInputs, rows: Rollout, advantages: Float32Array, entropyCoef: number): number {
    if (this.frozen) return this.entropy(policy, inputs);
    const t = rolloutTensors(rows, advantages);
    let first = NaN;
    try {
      const variables = [...policy.variables.values()];
      for (let epoch = 0; epoch < this.config.epochs; epoch++) {
        const out = { entropy: 0 };
        const { value, grads } = tf.variableGrads(() => ppoLoss(policy, inputs, t, this.config.clip, entropyCoef, out), variables);
        if (epoch === 0) first = out.entropy;
        const clipped = clipByGlobalNorm(grads, this.config.clipNorm);
        this.optimizer.applyGradients(Object.keys(clipped).map((name) => ({ name, tensor: clipped[name] })));
        tf.dispose([value, clipped]);
        tf.dispose(Object.values(grads));
      }
    } finally {
      disposeRolloutTensors(t);
    }
    return first;
  }

  /** Mean per-layer type entropy (no step). */
  entropy(policy: PolicyNetwork, inputs: PolicyInputs): number {
    const h = tf.tidy(() => {
      const { logits, stay } = policy.heads(inputs);
      return entropies(logits, stay, inputs.mask).types;
    });
    const value = h.dataSync()[0];
    h.dispose();
    return value;
  }

  /** Adam's slot tensors by "adam/<position>/<variable short name>" (copies; for checkpoints). */
  async weights(policy: PolicyNetwork): Promise<{ iterations: number; tensors: tf.NamedTensorMap }> {
    const saved = await this.optimizer.getWeights();
    const tensors: tf.NamedTensorMap = {};
    let iterations = 0;
    let index = 0;
    // tfjs's Adam restores its slots by position (first moments, then second): keep the order in the names.
    for (const { name, tensor } of saved) {
      if (name === 'iter') {
        iterations = tensor.dataSync()[0];
        tensor.dispose();
        continue;
      }
      // getWeights hands out Adam's own slot variables: copies, so that the caller may dispose them.
      tensors[`adam/${String(index++).padStart(5, '0')}/${policy.shortName(name)}`] = tensor.clone();
    }
    return { iterations, tensors };
  }

  async setWeights(policy: PolicyNetwork, iterations: number, tensors: tf.NamedTensorMap): Promise<void> {
    const list: Array<{ name: string; tensor: tf.Tensor }> = [{ name: 'iter', tensor: tf.scalar(iterations, 'int32') }];
    for (const name of Object.keys(tensors).filter((n) => n.startsWith('adam/')).sort()) {
      list.push({ name: policy.variableName(name.slice('adam/00000/'.length)), tensor: tensors[name] });
    }
    await this.optimizer.setWeights(list);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = Math.sqrt(names.reduce((sum, name) => sum + tf.sum(tf.square(grads[name])).dataSync()[0], 0));
    const factor = norm > maxNorm ? maxNorm / norm : 1;
    const out: tf.NamedTensorMap = {};
    for (const name of names) out[name] = tf.mul(grads[name], factor);
    return out;
  });
}
