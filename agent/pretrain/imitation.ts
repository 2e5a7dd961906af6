/**
 * Imitation (behaviour cloning) of the teacher's placements: the policy's
 * stage-level decisions (agent/rl/actions.ts: at each layer, continue the
 * stage or begin one, and the new stage's type) that reproduce the teacher's
 * stages, and the loss that pulls the policy towards them:
 *   loss = mean over type decisions of −log π(type | allowed types)
 *        + mean over free stay/begin choices of −log π(choice)
 * per chain, averaged over a minibatch of chains. The allowed types are those
 * masked sampling would allow at that point (counts, budget, runnable), so
 * the policy learns the same conditional distribution it samples from.
 */
import * as tf from '@tensorflow/tfjs';
import type { Placement, Problem, Settings } from '../../env/problem.js';
import { chainFeatures } from '../features.js';
import { disposeInputs, type PolicyInputs, type PolicyNetwork } from '../policy.js';
import { BEGAN, STAYED, StageDistribution, actionLimits } from '../rl/actions.js';

const MASKED = -1e9;

/** One chain's teacher decisions as tensors (built once, reused at every step). */
export interface Example {
  inputs: PolicyInputs;
  oneHot: tf.Tensor2D; // [L, K] the type drawn where a stage begins
  allowed: tf.Tensor2D; // [L, K]
  began: tf.Tensor1D; // [L]
  stayed: tf.Tensor1D; // [L] a free choice that continued
  beganByChoice: tf.Tensor1D; // [L] a free choice that began a stage
  typeDecisions: number;
  stayDecisions: number;
}

/**
 * The decisions that give the teacher's stages (types and boundaries; the
 * replicas are provisioning's). Built by decoding a distribution that puts
 * almost all mass on the teacher's choice, so the allowed sets are exactly
 * those of masked sampling. Returns null when masked sampling cannot give the
 * teacher's stages (it never should: each stage takes at least one unit).
 */
export function teacherExample(policy: PolicyNetwork, problem: Problem, settings: Settings, placement: Placement): Example | null {
  const L = problem.layers.length;
  const K = problem.types.length;
  const limits = actionLimits(problem, settings);
  const probs = new Float32Array(L * K);
  const stay = new Float32Array(L);
  const target = new Int32Array(L);
  for (const stage of placement) {
    for (let l = stage.first; l <= stage.last; l++) {
      target[l] = stage.type;
      stay[l] = l === stage.first ? 0.01 : 0.99;
      for (let k = 0; k < K; k++) probs[l * K + k] = limits.runnable[l * K + k] ? (k === stage.type ? 1 : 1e-3) : 0;
    }
  }
  const rows = new StageDistribution({ probs, stay }, limits).mode();
  for (let l = 0; l < L; l++) {
    if (rows.types[l] !== target[l]) return null;
    if (l > 0 && rows.began[l] !== (stay[l] < 0.5 ? 1 : 0)) return null;
  }
  const oneHot = new Float32Array(L * K);
  const stayed = new Float32Array(L);
  const beganByChoice = new Float32Array(L);
  let typeDecisions = 0;
  let stayDecisions = 0;
  for (let l = 0; l < L; l++) {
    if (rows.began[l]) {
      oneHot[l * K + rows.types[l]] = 1;
      typeDecisions++;
    }
    stayed[l] = rows.choice[l] === STAYED ? 1 : 0;
    beganByChoice[l] = rows.choice[l] === BEGAN ? 1 : 0;
    stayDecisions += stayed[l] + beganByChoice[l];
  }
  return {
    inputs: policy.inputs(chainFeatures(problem, settings)),
    oneHot: tf.tensor2d(oneHot, [L, K]),
    allowed: tf.tensor2d(Float32Array.from(rows.allowed), [L, K]),
    began: tf.tensor1d(Float32Array.from(rows.began)),
    stayed: tf.tensor1d(stayed),
    beganByChoice: tf.tensor1d(beganByChoice),
    typeDecisions,
    stayDecisions,
  };
}

export function disposeExample(example: Example): void {
  disposeInputs(example.inputs);
  tf.dispose([example.oneHot, example.allowed, example.began, example.stayed, example.beganByChoice]);
}

/** log σ(x) as −softplus(−x) (see agent/rl/loss.ts). */
const logSigmoid = (x: tf.Tensor) => tf.neg(tf.softplus(tf.neg(x)));

/** The imitation loss of one chain (see the file comment). Inside variableGrads / tidy. */
export function imitationLoss(policy: PolicyNetwork, example: Example): tf.Scalar {
  const { logits, stay } = policy.heads(example.inputs);
  const logp = tf.logSoftmax(logits);
  const logZ = tf.logSumExp(tf.add(logp, tf.mul(tf.sub(1, example.allowed), MASKED)), 1);
  const chosen = tf.sum(tf.mul(example.oneHot, logp), 1);
  const typeNll = tf.div(tf.neg(tf.sum(tf.mul(example.began, tf.sub(chosen, logZ)))), Math.max(1, example.typeDecisions));
  const stayLl = tf.add(tf.mul(example.stayed, logSigmoid(stay)), tf.mul(example.beganByChoice, logSigmoid(tf.neg(stay))));
  const stayNll = tf.div(tf.neg(tf.sum(stayLl)), Math.max(1, example.stayDecisions));
  return tf.add(typeNll, stayNll) as tf.Scalar;
}

/** One Adam step on the mean imitation loss of `batch`, gradients clipped to `clipNorm`; returns the loss. */
export function imitationStep(policy: PolicyNetwork, optimizer: tf.Optimizer, batch: Example[], clipNorm: number): number {
  const variables = [...policy.variables.values()];
  const { value, grads } = tf.variableGrads(() => {
    let total: tf.Scalar = tf.scalar(0);
    for (const example of batch) total = tf.add(total, imitationLoss(policy, example)) as tf.Scalar;
    return tf.div(total, batch.length) as tf.Scalar;
  }, variables);
  const loss = value.dataSync()[0];
  const clipped = tf.tidy(() => {
    const names = Object.keys(grads);
    const norm = Math.sqrt(names.reduce((sum, name) => sum + tf.sum(tf.square(grads[name])).dataSync()[0], 0));
    const factor = Number.isFinite(norm) && norm > clipNorm ? clipNorm / norm : 1;
    return names.map((name) => ({ name, tensor: tf.mul(grads[name], factor) }));
  });
  optimizer.applyGradients(clipped);
  tf.dispose([value, ...clipped.map((c) => c.tensor), ...Object.values(grads)]);
  return loss;
}
