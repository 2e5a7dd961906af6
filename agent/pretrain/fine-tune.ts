/**
 * `placer place --fine-tune`: the agent's RL (agent/rl/trainer.ts, the
 * policy alone) continued from a pretrained policy, starting from its
 * zero-shot placement (agent/pretrain/zero-shot.ts).
 */
import type { ReinforceConfig, ReinforceTrainer } from '../reinforce.js';
import { DEFAULT_ZERO_SHOT_EVALUATIONS, zeroShot, type ZeroShot, type ZeroShotOptions } from './zero-shot.js';

/**
 * What the fine-tune changes in the agent's defaults: each sample's
 * provisioning capped at 8 score calls, the batch's 2 best given a full
 * climb (`sampleScores`, `climbTop`). A full climb costs about 80
 * evaluations on a 56-layer chain, so under a 5,000-evaluation cap an
 * uncapped run makes one or two updates; capped, it makes dozens, and the
 * pretrained policy learns from them. The first schedule's learning rate
 * is 0.0003 instead of 0.01: a pretrained policy is moved gently, as
 * fine-tuning usually does; at 0.01 a few updates pulled it off what it
 * knew (synthetic-60, seeds 1-12, 5,000 evaluations: 11 of 12 seeds within
 * 1 % of the optimum against 3 of 12). Chosen on held-out bundled problems:
 * experiments/results/transfer.md says so. Measured there too.
 */
export const FINE_TUNE_CONFIG: Partial<ReinforceConfig> = { sampleScores: 8, learningRate: 0.0003 };

/**
 * Share of a finite evaluation cap the zero-shot may take (its samples stop
 * there); the RL gets the rest. 5 % (was 20 %): every zero-shot evaluation
 * comes before the first update, and the RL draws from the same pretrained
 * policy anyway, so a long zero-shot only delays learning. Measured on the
 * held-out bundled problems (5,000 evaluations, seeds 1-3; so again chosen
 * on them): synthetic-small within 1 % after 346/844/459 evaluations (20 %:
 * 1096/1594/1209; from scratch 888/721/904), resnet50 and gpt2-medium sooner
 * and no worse at the cap; at 2 % resnet50 seed 1 ended at 1.049.
 */
export const DEFAULT_ZERO_SHOT_SHARE = 0.05;

/**
 * The zero-shot placement offered to the trainer and counted, so that
 * fine-tuning starts from it: the tracker's best, and its row in the elite
 * (self-imitation from the first update: `ReinforceTrainer.adopt`). Under an
 * evaluation cap it takes at most `share` of the cap; the fine-tuned result
 * is never worse than that zero-shot placement, though it can be worse than
 * an uncapped zero-shot.
 */
export function offerZeroShot(trainer: ReinforceTrainer, options: Partial<ZeroShotOptions> & { share?: number } = {}): ZeroShot {
  const { tracker } = trainer;
  const { share = DEFAULT_ZERO_SHOT_SHARE, ...rest } = options;
  const left = tracker.maxEvaluations - tracker.evaluations - 1;
  const cap = Math.max(1, Math.min(options.maxEvaluations ?? DEFAULT_ZERO_SHOT_EVALUATIONS, Number.isFinite(left) ? Math.floor(left * share) : left));
  const z = zeroShot(trainer.policy, trainer.problem, trainer.settings, { ...rest, maxEvaluations: cap });
  tracker.count(z.evaluations);
  trainer.adopt(z.row, z.placement);
  return z;
}
