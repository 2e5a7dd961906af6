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
import { StageDistribution, actionLimits, pickRows, rowPlacement, type Rollout, type StageDistributionParams } from '../rl/actions.js';

/** Placements sampled beside the mode by default (128 scored in all)... */
export const DEFAULT_SAMPLES = 127;
/**
 * ...sample i drawn at temperature DEFAULT_TEMPERATURES[(i - 1) mod n]: the
 * policy's type probabilities raised to 1/T and renormalised, its stay logits
 * divided by T. Still the policy's own ranking of types and cuts, only
 * flatter, so that a policy confidently wrong on a problem (a type it
 * over-rates, stages too long) still proposes the alternatives it ranks next.
 */
export const DEFAULT_TEMPERATURES: readonly number[] = [1, 2, 1, 5];
/** ...within this many simulator evaluations (provisioning's), so that a long chain stays well under a second: deterministic, unlike a clock. */
export const DEFAULT_ZERO_SHOT_EVALUATIONS = 100_000;

export interface ZeroShotOptions {
  /** Seeds the samples. */
  seed: number;
  /** Placements sampled beside the mode (0: the mode alone). */
  samples: number;
  /** Sample i's temperature is temperatures[(i - 1) mod n] ([1]: every sample from the policy as it is). */
  temperatures: readonly number[];
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
  /** Improvements of the best feasible placement: (evaluations so far, objective). */
  trace: Array<[number, number]>;
  /** The winning proposal as a one-row rollout (its draws and masks), for the fine-tune's self-imitation. */
  row: Rollout;
}

export function zeroShot(policy: PolicyNetwork, problem: Problem, settings: Settings, options: Partial<ZeroShotOptions> = {}): ZeroShot {
  const { seed = 1, samples = DEFAULT_SAMPLES, temperatures = DEFAULT_TEMPERATURES, provision = true, maxEvaluations = DEFAULT_ZERO_SHOT_EVALUATIONS } = options;
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
  let best: Omit<ZeroShot, 'evaluations' | 'seconds' | 'decoding' | 'trace'> | null = null;
  const trace: Array<[number, number]> = [];
  let scored = 0;
  const consider = (rows: Rollout, b: number, index: number) => {
    scored++;
    const stages = rowPlacement(rows, b);
    sim.loadPlacement(stages);
    evaluations += provision ? climb(sim, Math.max(1, maxEvaluations - evaluations), undefined, true) : (sim.score(), 1);
    if (best === null || beats(sim.feasible, sim.violation, sim.objectiveValue, best.feasible, best.violation, best.objective)) {
      best = { placement: readPlacement(sim), feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue, stages: stages.length, winner: index, row: pickRows(rows, [b]) };
      if (sim.feasible) trace.push([evaluations, sim.objectiveValue]);
    }
  };
  consider(distribution.mode(), 0, 0);
  if (samples > 0) {
    // Interleaved, so that an evaluation cap cuts every temperature alike; each temperature's draws from one generator.
    const n = temperatures.length;
    const drawn = temperatures.map((t, j) => {
      const size = Math.floor((samples - 1 - j) / n) + 1;
      if (size <= 0) return null;
      const d = t === 1 ? distribution : new StageDistribution(tempered(params, t), distribution.limits);
      return d.sample(size, seedrandom.alea(`zero-shot:${seed}${j === 0 ? '' : `:${j}:t${t}`}`));
    });
    for (let i = 1; i <= samples && evaluations < maxEvaluations; i++) consider(drawn[(i - 1) % n]!, Math.floor((i - 1) / n), i);
  }
  const won: Omit<ZeroShot, 'evaluations' | 'seconds' | 'decoding' | 'trace'> = best!;
  const how = provision ? 'each provisioned (replicas, splits, cut and boundary moves)' : 'not provisioned (one unit per stage)';
  const hot = temperatures.some((t) => t !== 1);
  const tempering = hot ? ` (sample i at temperature ${temperatures.join(', ')}, cycling)` : '';
  const which = won.winner === 0 ? 'the mode' : `sample ${won.winner}${hot ? ` (temperature ${temperatures[(won.winner - 1) % temperatures.length]})` : ''}`;
  const decoding = samples > 0
    ? `the policy's mode and ${scored - 1} of ${samples} placements sampled from it${tempering} (seed ${seed}; at most ${maxEvaluations} evaluations), ${how}, best kept: ${which}; no exact solver, no heuristic start`
    : `the policy's mode, ${how}; no exact solver, no heuristic start`;
  return { ...won, evaluations, seconds: (performance.now() - started) / 1000, decoding, trace };
}

/** The policy's distribution at temperature T: type probabilities ∝ p^(1/T) (zeros stay zero), stay logits ÷ T. */
export function tempered(params: StageDistributionParams, temperature: number): StageDistributionParams {
  const { probs, stay } = params;
  const K = probs.length / Math.max(1, stay.length);
  const out = new Float32Array(probs.length);
  for (let a = 0; a < probs.length; a += K) {
    let sum = 0;
    for (let k = 0; k < K; k++) sum += out[a + k] = probs[a + k] > 0 ? Math.pow(probs[a + k], 1 / temperature) : 0;
    if (sum > 0) for (let k = 0; k < K; k++) out[a + k] /= sum;
  }
  const flat = Float32Array.from(stay, (p) => {
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
    return 1 / (1 + Math.exp(-Math.log(q / (1 - q)) / temperature));
  });
  return { probs: out, stay: flat };
}
