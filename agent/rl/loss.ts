/**
 * The policy's loss on a rollout (agent/rl/actions.ts), as tfjs tensors:
 * the log-probability of every decision under the current weights, the
 * PPO clipped surrogate over per-decision ratios, and the entropy bonus.
 *
 *   logπ(d_{b,l}) = [stayed] log σ(s_l) + [began by choice] log σ(-s_l)
 *                 + [began] (logp_l(a) - log Σ_{k allowed} p_l(k))
 *   r = exp(logπ - logπ_old),  L_pg = -mean_{b,l} min(r A_b, clip(r, 1 ± ε) A_b)
 *   loss = L_pg - β (mean_l H(p_l) + mean_l H(σ(s_l)))
 * A forced decision has logπ = logπ_old = 0: ratio 1, no gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { PolicyInputs, PolicyNetwork } from '../policy.js';
import { BEGAN, STAYED, type Rollout } from './actions.js';

const MASKED = -1e9;

/** log σ(x), written as -softplus(-x) (tfjs's logSigmoid gradient fails under variableGrads on wasm). */
function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(tf.softplus(tf.neg(x)));
}

/** A rollout as tensors (built once per update, reused over the epochs). */
export interface RolloutTensors {
  oneHot: tf.Tensor3D; // [B, L, K]
  allowed: tf.Tensor3D; // [B, L, K]
  began: tf.Tensor2D; // [B, L]
  stayed: tf.Tensor2D; // [B, L]
  beganByChoice: tf.Tensor2D; // [B, L]
  oldLogProb: tf.Tensor2D; // [B, L]
  advantages: tf.Tensor2D; // [B, 1]
}

export function rolloutTensors(rows: Rollout, advantages: Float32Array): RolloutTensors {
  const { size: B, layerCount: L, typeCount: K } = rows;
  const oneHot = new Float32Array(B * L * K);
  const stayed = new Float32Array(B * L);
  const beganByChoice = new Float32Array(B * L);
  for (let i = 0; i < B * L; i++) {
    if (rows.began[i]) oneHot[i * K + rows.types[i]] = 1;
    stayed[i] = rows.choice[i] === STAYED ? 1 : 0;
    beganByChoice[i] = rows.choice[i] === BEGAN ? 1 : 0;
  }
  return {
    oneHot: tf.tensor3d(oneHot, [B, L, K]),
    allowed: tf.tensor3d(Float32Array.from(rows.allowed), [B, L, K]),
    began: tf.tensor2d(Float32Array.from(rows.began), [B, L]),
    stayed: tf.tensor2d(stayed, [B, L]),
    beganByChoice: tf.tensor2d(beganByChoice, [B, L]),
    oldLogProb: tf.tensor2d(rows.logProb, [B, L]),
    advantages: tf.tensor2d(advantages, [B, 1]),
  };
}

export function disposeRolloutTensors(t: RolloutTensors): void {
  tf.dispose(Object.values(t));
}

/** Per-decision log-probabilities [B, L] under the policy's current weights. Inside tf.tidy. */
export function decisionLogProb(policy: PolicyNetwork, inputs: PolicyInputs, t: RolloutTensors): { logProb: tf.Tensor2D; logits: tf.Tensor2D; stay: tf.Tensor1D } {
  const { logits, stay } = policy.heads(inputs);
  const logp = tf.expandDims(tf.logSoftmax(logits), 0); // [1, L, K]
  const maskedLogp = tf.add(logp, tf.mul(tf.sub(1, t.allowed), MASKED));
  const logZ = tf.logSumExp(maskedLogp, 2); // [B, L]
  const chosen = tf.sum(tf.mul(t.oneHot, logp), 2);
  const typeTerm = tf.mul(t.began, tf.sub(chosen, logZ));
  const s = tf.expandDims(stay, 0);
  const stayTerm = tf.add(tf.mul(t.stayed, logSigmoid(s)), tf.mul(t.beganByChoice, logSigmoid(tf.neg(s))));
  return { logProb: tf.add(typeTerm, stayTerm) as tf.Tensor2D, logits, stay };
}

/** Mean per-layer entropy of the type distribution and of the stay choice. Inside tf.tidy. */
export function entropies(logits: tf.Tensor2D, stay: tf.Tensor1D, mask: tf.Tensor2D): { types: tf.Scalar; stay: tf.Scalar } {
  const logp = tf.logSoftmax(logits);
  const types = tf.mean(tf.neg(tf.sum(tf.mul(tf.mul(tf.exp(logp), logp), mask), 1))) as tf.Scalar;
  const q = tf.sigmoid(stay);
  const stayH = tf.mean(tf.neg(tf.add(tf.mul(q, logSigmoid(stay)), tf.mul(tf.sub(1, q), logSigmoid(tf.neg(stay)))))) as tf.Scalar;
  return { types, stay: stayH };
}

/** The PPO loss (see the file comment) as a scalar; `out` gets the type entropy. Inside variableGrads. */
export function ppoLoss(
  policy: PolicyNetwork,
  inputs: PolicyInputs,
  t: RolloutTensors,
  clip: number,
  entropyCoef: number,
  out: { entropy: number },
): tf.Scalar {
  const { logProb, logits, stay } = decisionLogProb(policy, inputs, t);
  const ratio = tf.exp(tf.sub(logProb, t.oldLogProb));
  const unclipped = tf.mul(ratio, t.advantages);
  const clipped = tf.mul(tf.clipByValue(ratio, 1 - clip, 1 + clip), t.advantages);
  const pg = tf.neg(tf.mean(tf.minimum(unclipped, clipped)));
  const h = entropies(logits, stay, inputs.mask);
  out.entropy = h.types.dataSync()[0];
  return tf.sub(pg, tf.mul(tf.add(h.types, h.stay), entropyCoef)) as tf.Scalar;
}
