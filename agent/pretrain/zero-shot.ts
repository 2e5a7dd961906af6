/**
 * Zero-shot placement: the policy's own placement of a problem, with no
 * search. One forward pass gives the stage distribution (agent/rl/actions.ts);
 * its mode (each stay/begin choice and each type the likeliest, within the
 * counts and budget as masked sampling allows) is the placement's stages;
 * provisioning (agent/provision.ts `climb`: replicas, splits, cut and boundary
 * moves) makes it a placement and scores it. No exact solver, no heuristic start.
 * Only when the mode's placement is infeasible: `samples` placements drawn from
 * the same distribution (seeded), provisioned alike, and the best kept; the
 * result says which decoding gave it.
 */
import type { Placement, Problem, Settings } from '../../env/problem.js';
import { Simulator } from '../../env/simulate.js';
import { chainFeatures } from '../features.js';
import { disposeInputs, type PolicyNetwork } from '../policy.js';
import { climb } from '../provision.js';
import seedrandom from 'seedrandom';
import { beats, readPlacement } from '../tracker.js';
import { StageDistribution, actionLimits, rowPlacement } from '../rl/actions.js';

/** How the zero-shot placement is decoded (written into placement.json). */
export const ZERO_SHOT_DECODING = 'policy mode (likeliest stay/begin choice and type at each layer, within counts and budget), then provisioning (replicas, splits, cut moves); no exact solver, no heuristic start';
export const SAMPLED_DECODING = (n: number) => `best of ${n} placements sampled from the policy (seeded), each provisioned (the mode's placement was infeasible); no exact solver, no heuristic start`;

/** Placements sampled when the mode's is infeasible. */
export const FALLBACK_SAMPLES = 16;

export interface ZeroShot {
  placement: Placement;
  feasible: boolean;
  violation: number;
  objective: number;
  /** The policy's stages before provisioning. */
  stages: number;
  /** Simulator evaluations (provisioning's). */
  evaluations: number;
  /** Features, forward pass, decoding and provisioning. */
  seconds: number;
  /** How the placement was decoded (ZERO_SHOT_DECODING or SAMPLED_DECODING). */
  decoding: string;
}

/** `provision: false` (an ablation): the policy's stages as decoded, one unit each, scored without provisioning. */
export function zeroShot(policy: PolicyNetwork, problem: Problem, settings: Settings, seed = 1, samples = FALLBACK_SAMPLES, provision = true): ZeroShot {
  const started = performance.now();
  const inputs = policy.inputs(chainFeatures(problem, settings));
  let params;
  try {
    params = policy.distribution(inputs);
  } finally {
    disposeInputs(inputs);
  }
  const distribution = new StageDistribution(params, actionLimits(problem, settings));
  const rows = distribution.mode();
  const stages = rowPlacement(rows, 0);
  const sim = new Simulator(problem, settings);
  sim.loadPlacement(stages);
  let evaluations = provision ? climb(sim, Infinity, undefined, true) : (sim.score(), 1);
  let best = { placement: readPlacement(sim), feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue, stages: stages.length };
  let decoding = ZERO_SHOT_DECODING;
  if (!best.feasible && samples > 0) {
    decoding = SAMPLED_DECODING(samples);
    const drawn = distribution.sample(samples, seedrandom.alea(`zero-shot:${seed}`));
    for (let b = 0; b < drawn.size; b++) {
      const sampled = rowPlacement(drawn, b);
      sim.loadPlacement(sampled);
      evaluations += provision ? climb(sim, Infinity, undefined, true) : (sim.score(), 1);
      if (beats(sim.feasible, sim.violation, sim.objectiveValue, best.feasible, best.violation, best.objective)) {
        best = { placement: readPlacement(sim), feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue, stages: sampled.length };
      }
    }
  }
  return { ...best, evaluations, seconds: (performance.now() - started) / 1000, decoding };
}
