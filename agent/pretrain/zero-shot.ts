/**
 * Zero-shot placement: the policy's own placements of a problem, with no
 * search. One forward pass gives the stage distribution (agent/rl/actions.ts);
 * its mode (each stay/begin choice and each type the likeliest, within the
 * counts and budget as masked sampling allows) and `samples` placements drawn
 * from the same distribution (seeded) are each provisioned (agent/provision.ts
 * `climb`: replicas, splits, cut and boundary moves) and scored; the best is
 * kept. `samples: 0` is the mode alone. No exact solver, no heuristic start:
 * every placement scored is one the policy proposed. The result says which
 * one won (`decoding`).
 */
import seedrandom from 'seedrandom';
import type { Placement, Problem, Settings } from '../../env/problem.js';
import { Simulator } from '../../env/simulate.js';
import { chainFeatures } from '../features.js';
import { disposeInputs, type PolicyNetwork } from '../policy.js';
import { climb } from '../provision.js';
import { beats, readPlacement } from '../tracker.js';
import { StageDistribution, actionLimits, rowPlacement } from '../rl/actions.js';
import type { ReinforceTrainer } from '../reinforce.js';

/** Placements sampled beside the mode by default (64 scored in all)... */
export const DEFAULT_SAMPLES = 63;
/** ...within this many simulator evaluations (provisioning's), so that a long chain stays well under a second: deterministic, unlike a clock. */
export const DEFAULT_ZERO_SHOT_EVALUATIONS = 100_000;

export interface ZeroShotOptions {
  /** Seeds the samples. */
  seed: number;
  /** Placements sampled beside the mode (0: the mode alone). */
  samples: number;
  /** false (an ablation): the decoded stages as they are, one unit each, scored without provisioning. */
  provision: boolean;
  /** Simulator evaluations at most (provisioning's climbs are cut to fit; samples beyond it are not drawn). */
  maxEvaluations: number;
}

export interface ZeroShot {
  placement: Placement;
  feasible: boolean;
  violation: number;
  objective: number;
  /** The winning proposal's stages before provisioning. */
  stages: number;
  /** Simulator evaluations (provisioning's). */
  evaluations: number;
  /** Features, forward pass, decoding and provisioning. */
  seconds: number;
  /** How the placement was decoded, and which proposal won. */
  decoding: string;
  /** 0: the mode won; i ≥ 1: sample i. */
  winner: number;
}

export function zeroShot(policy: PolicyNetwork, problem: Problem, settings: Settings, options: Partial<ZeroShotOptions> = {}): ZeroShot {
  const { seed = 1, samples = DEFAULT_SAMPLES, provision = true, maxEvaluations = DEFAULT_ZERO_SHOT_EVALUATIONS } = options;
  const started = performance.now();
  const inputs = policy.inputs(chainFeatures(problem, settings));
  let params;
  try {
    params = policy.distribution(inputs);
  } finally {
    disposeInputs(inputs);
  }
  const distribution = new StageDistribution(params, actionLimits(problem, settings));
  const sim = new Simulator(problem, settings);
  let evaluations = 0;
  let best: Omit<ZeroShot, 'evaluations' | 'seconds' | 'decoding'> | null = null;
  let scored = 0;
  const consider = (stages: Placement, index: number) => {
    scored++;
    sim.loadPlacement(stages);
    evaluations += provision ? climb(sim, Math.max(1, maxEvaluations - evaluations), undefined, true) : (sim.score(), 1);
    if (best === null || beats(sim.feasible, sim.violation, sim.objectiveValue, best.feasible, best.violation, best.objective)) {
      best = { placement: readPlacement(sim), feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue, stages: stages.length, winner: index };
    }
  };
  consider(rowPlacement(distribution.mode(), 0), 0);
  if (samples > 0) {
    const drawn = distribution.sample(samples, seedrandom.alea(`zero-shot:${seed}`));
    for (let b = 0; b < drawn.size && evaluations < maxEvaluations; b++) consider(rowPlacement(drawn, b), b + 1);
  }
  const won: Omit<ZeroShot, 'evaluations' | 'seconds' | 'decoding'> = best!;
  const how = provision ? 'each provisioned (replicas, splits, cut and boundary moves)' : 'not provisioned (one unit per stage)';
  const decoding = samples > 0
    ? `the policy's mode and ${scored - 1} of ${samples} placements sampled from it (seed ${seed}; at most ${maxEvaluations} evaluations), ${how}, best kept: ${won.winner === 0 ? 'the mode' : `sample ${won.winner}`}; no exact solver, no heuristic start`
    : `the policy's mode, ${how}; no exact solver, no heuristic start`;
  return { ...won, evaluations, seconds: (performance.now() - started) / 1000, decoding };
}

/**
 * `place --fine-tune`: the zero-shot placement offered to the trainer's
 * tracker and counted, so that fine-tuning starts from it. Under an
 * evaluation cap it may take half of the cap (its samples stop there), so
 * that the RL gets the other half: the fine-tuned result is never worse than
 * that zero-shot placement, though it can be worse than an uncapped zero-shot.
 */
export function offerZeroShot(trainer: ReinforceTrainer, options: Partial<ZeroShotOptions> = {}): ZeroShot {
  const { tracker, sim } = trainer;
  const left = tracker.maxEvaluations - tracker.evaluations - 1;
  const cap = Math.max(1, Math.min(options.maxEvaluations ?? DEFAULT_ZERO_SHOT_EVALUATIONS, Number.isFinite(left) ? Math.floor(left / 2) : left));
  const z = zeroShot(trainer.policy, trainer.problem, trainer.settings, { ...options, maxEvaluations: cap });
  tracker.count(z.evaluations);
  sim.loadPlacement(z.placement);
  sim.score();
  tracker.count(1);
  tracker.offer(sim);
  return z;
}
