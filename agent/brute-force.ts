/** Every placement of a small problem, for differential tests of the optimisers. Exponential: tiny inputs only. */
import { Simulator } from '../env/simulate.js';
import type { Placement, Problem, Settings } from '../env/problem.js';

export interface BruteForceResult {
  best: Placement | null;
  bestObjective: number;
  placements: number;
}

export function* allPlacements(problem: Problem): Generator<Placement> {
  const L = problem.layers.length;
  const K = problem.types.length;
  const stages: Placement = [];
  function* extend(first: number): Generator<Placement> {
    if (first === L) {
      yield stages.map((stage) => ({ ...stage }));
      return;
    }
    for (let last = first; last < L; last++) {
      for (let type = 0; type < K; type++) {
        for (let replicas = 1; replicas <= Math.max(1, problem.types[type].count); replicas++) {
          stages.push({ type, replicas, first, last });
          yield* extend(last + 1);
          stages.pop();
        }
      }
    }
  }
  yield* extend(0);
}

export function bruteForce(problem: Problem, settings: Settings): BruteForceResult {
  const sim = new Simulator(problem, settings);
  let best: Placement | null = null;
  let bestObjective = Infinity;
  let placements = 0;
  for (const placement of allPlacements(problem)) {
    placements++;
    const objective = sim.scorePlacement(placement);
    if (sim.feasible && objective < bestObjective) {
      best = placement;
      bestObjective = objective;
    }
  }
  return { best, bestObjective, placements };
}
