/**
 * Random search: the floor every other searcher must beat. Each sample gives
 * every layer a type drawn uniformly among those that can run it, and is then
 * provisioned (agent/provision.ts); the best by `beats` (agent/tracker.ts) is kept.
 */
import seedrandom from 'seedrandom';
import type { Problem, Settings } from '../env/problem.js';
import { Simulator } from '../env/simulate.js';
import { provisionInPlace } from './provision.js';
import type { SearchOptions, SearchResult, Searcher } from './searcher.js';
import { SearchTracker, runnableTypes } from './tracker.js';

export interface RandomConfig {
  /** Evaluation budget when the options give neither `maxEvaluations` nor `timeLimitS`. */
  defaultMaxEvaluations: number;
  /** Provision every sample (true) or score its short form only (false: many more, cruder samples). */
  provision: boolean;
}

export const DEFAULT_RANDOM_CONFIG: RandomConfig = {
  defaultMaxEvaluations: 100_000,
  provision: true,
};

export function randomSearcher(overrides: Partial<RandomConfig> = {}): Searcher {
  const config: RandomConfig = { ...DEFAULT_RANDOM_CONFIG, ...overrides };
  return {
    name: 'random',
    async search(problem: Problem, settings: Settings, options: SearchOptions): Promise<SearchResult> {
      const rng = seedrandom.alea(String(options.seed));
      const sim = new Simulator(problem, settings);
      const tracker = new SearchTracker('random', options, config.defaultMaxEvaluations);
      const runnable = runnableTypes(sim);
      const assignment = new Int32Array(sim.layerCount);
      let samples = 0;
      while (!tracker.exhausted()) {
        for (let l = 0; l < assignment.length; l++) {
          const types = runnable[l];
          // A layer no type can run makes every placement infeasible; type 0 stands in.
          assignment[l] = types.length === 0 ? 0 : types[Math.floor(rng() * types.length)];
        }
        let used = 1;
        if (config.provision) used = provisionInPlace(sim, assignment, tracker.remaining);
        else sim.scoreAssignment(assignment);
        samples++;
        tracker.count(used, { 'random/samples': samples });
        tracker.offer(sim);
      }
      return tracker.result();
    },
  };
}

export const randomSearcherDefault = randomSearcher();
