/**
 * The agent's settings and their defaults (the values `placer train` uses);
 * saved in every checkpoint (agent/checkpoint.ts checks each key against
 * these defaults, so every value must survive JSON: no Infinity).
 */
import type { PolicyConfig } from '../policy.js';

export type DecoderKind = 'none' | 'dp';
export const DECODER_KINDS: readonly DecoderKind[] = ['none', 'dp'];

export interface Schedule {
  learningRate: number;
  entropyStart: number;
  entropyEnd: number;
  /**
   * Stages the fresh policy's stay prior aims at on a long chain (agent/policy.ts
   * `stayOffset`); the uniform exploration draws with the same prior. Restarts
   * cycle through several, so that no one prior decides the run's basin.
   */
  priorStages: number;
}

export interface ReinforceConfig extends Schedule {
  /** `none`: the policy alone (`reinforce`); `dp`: with exact decodes (`reinforce-dp`). */
  decoder: DecoderKind;
  policy: Partial<PolicyConfig>;
  /** Sampled rows per update. */
  batchSize: number;
  /** PPO epochs per batch and ratio clip. */
  epochs: number;
  ppoClip: number;
  /** Global-norm gradient clipping. */
  clipNorm: number;
  /** Updates over which the entropy bonus decays from start to end, counted from the (re)start. */
  entropyDecayUpdates: number;
  /**
   * Exploration: this share of every batch is drawn from uniform proposals
   * (uniform types, the fresh policy's stay prior) instead of the policy, and
   * learnt from as the policy's own samples (ratio 1 at the first epoch), as
   * ε-greedy explores: the policy cannot collapse onto its first basin.
   */
  explore: number;
  /** Ablation: draw from uniform type probabilities and a fixed stay probability instead of the policy (no learning). */
  uniformProposals: boolean;
  /** Score calls one sample's provisioning may make (0: climb to the end); caps the cost of a sample on long chains. */
  sampleScores: number;
  /** Capped samples: before (and after) the climb, jump the cuts to those that balance compute per replica (agent/rebalance.ts). */
  rebalance: boolean;
  /**
   * dp with a finite evaluation budget: each sample's provisioning may use at
   * most the budget (less the decodes' share) / (minUpdates × batchSize)
   * evaluations, so that about this many updates fit (0: no such cap). At
   * 300 layers × 8 types and 20,000 evaluations a full climb costs about 115
   * per sample: 4-8 updates, too few for learning to decide the result.
   */
  minUpdates: number;
  /**
   * dp: minUpdates × layers at most. A policy update costs time in
   * proportion to the chain's length, so on long chains fewer, richer
   * samples. Set when the scaling sweep's workers ran the policy on tfjs's
   * slow `cpu` backend (50 updates at 1,000 layers took 45-75 s there); on
   * wasm an update at 1,000 layers costs about 0.35 s here (50 updates: 21 s
   * a run against 4 s frozen). Re-measured 2026-11-24 at 1,000 layers × 8
   * types, 20,000 evaluations, seeds 1-5: with 50 updates `full`, frozen and
   * uniform proposals end level (geometric means 182,000 ms each, within
   * 0.7 %), so the cap stays: more updates buy time, not placements.
   */
  updateWork: number;
  /** With samples capped by `sampleScores` or `lnsScores` (not by `minUpdates`): the batch's best rows that get a full climb. */
  climbTop: number;
  /** Show the best placement so far to the policy as an input feature (the "present duration" to beat). */
  incumbentFeature: boolean;
  /** Best distinct rows replayed in every update (self-imitation); 0: none. */
  eliteSize: number;
  /** Keep the elite over a restart (else the new policy starts free of the old one's best). */
  keepElite: boolean;
  /** Updates when neither iterations, maxEvaluations nor timeLimitS is given. */
  defaultIterations: number;
  /** Updates in a row that sample nothing new before the policy counts as converged. */
  patience: number;
  /** Schedules of the restarted policies, cycled; empty: stop at convergence. */
  restartSchedules: Schedule[];
  /** Restart after this many updates of one policy even when it has not converged. */
  restartAfter: number;
  /** Without --iterations: stop after this many restarts in a row that did not improve the best. */
  idleRestarts: number;
  /** dp: the window decode allows at each layer the types used within ±refineWindow × L layers. */
  refineWindow: number;
  /** dp: window-decode passes at the end (each from the previous result). */
  refinePasses: number;
  /** dp: every this many updates, decode within the policy's mask (below) and then a window of the best (0: never). */
  refineEvery: number;
  /**
   * dp: the policy's mask: at each layer, the `maskTypes` types the policy
   * finds likeliest there, plus the best placement's type. The policy learns
   * which (layer, type) pairs the exact solver searches over.
   */
  maskTypes: number;
  /**
   * dp: labels × layers one exact decode may spend at most: a label costs work
   * in proportion to the chain's length, so each decode takes about as long at
   * any size (a second or two here), and Ctrl-C is seen between decodes.
   */
  decodeWork: number;
  /**
   * dp: labels kept per (layer, last type) in a decode: Infinity is the exact
   * DP within the mask; a few give a beam search, which reaches the last layer
   * (a placement) within a small label budget where a capped exact pass stops
   * half-way with nothing. Used on chains longer than `exactDecodeLayers`;
   * shorter ones get the exact DP (it completes within the cap there).
   */
  decodeBeam: number;
  exactDecodeLayers: number;
  /** dp: share of a finite evaluation budget kept for the final decodes. */
  decodeShare: number;
  /**
   * dp, chains of at least this many layers (0: never, the default): window
   * mode. After the first batch the policy stops drawing whole chains and
   * re-draws windows of the best placement (a learned large-neighbourhood
   * search: `sampleWindows` in agent/rl/actions.ts); the periodic exact
   * decodes are off there (one costs a whole small budget on a long chain),
   * the final ones stay. Off by default: at 300 and 1,000 layers × 8 types
   * and 20,000 evaluations it did not beat the frozen policy on both seeds
   * (README "The agent", the benchmark's `window` arm).
   */
  lnsLayers: number;
  /** Window mode: window length, as a share of the chain (at least 4 layers). */
  lnsWindow: number;
  /** Window mode: score calls one sample's provisioning may make (window samples and the first batch's). */
  lnsScores: number;
}

export const DEFAULT_REINFORCE_CONFIG: ReinforceConfig = {
  decoder: 'none',
  policy: {},
  batchSize: 32,
  learningRate: 0.01,
  entropyStart: 0.05,
  entropyEnd: 0.005,
  priorStages: 4,
  epochs: 4,
  ppoClip: 0.2,
  clipNorm: 1,
  entropyDecayUpdates: 100,
  explore: 0.5,
  sampleScores: 0,
  climbTop: 2,
  rebalance: true,
  minUpdates: 50,
  updateWork: 15_000,
  uniformProposals: false,
  incumbentFeature: true,
  eliteSize: 4,
  keepElite: true,
  defaultIterations: 300,
  patience: 10,
  restartSchedules: [
    { learningRate: 0.01, entropyStart: 0.1, entropyEnd: 0.01, priorStages: 8 },
    { learningRate: 0.005, entropyStart: 0.3, entropyEnd: 0.03, priorStages: 16 },
    { learningRate: 0.02, entropyStart: 0.03, entropyEnd: 0.003, priorStages: 4 },
  ],
  restartAfter: 150,
  idleRestarts: 30,
  refineWindow: 0.1,
  refinePasses: 4,
  refineEvery: 20,
  maskTypes: 2,
  decodeWork: 6_000_000,
  decodeBeam: 8,
  exactDecodeLayers: 150,
  decodeShare: 0.2,
  lnsLayers: 0,
  lnsWindow: 0.05,
  lnsScores: 8,
};
