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
import { candidatesWithinBudget, offerRow } from './batch-scoring.js';

/** Short-form samples scored per scoreBatch call. */
const SHORT_FORM_BATCH = 256;

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
      const L = sim.layerCount;
      const draw = (assignment: Int32Array) => {
        for (let l = 0; l < L; l++) {
          const types = runnable[l];
          // A layer no type can run makes every placement infeasible; type 0 stands in.
          assignment[l] = types.length === 0 ? 0 : types[Math.floor(rng() * types.length)];
        }
      };
      let samples = 0;
      if (config.provision) {
        const assignment = new Int32Array(L);
        while (!tracker.exhausted()) {
          draw(assignment);
          const used = provisionInPlace(sim, assignment, tracker.remaining);
          samples++;
          tracker.count(used, { 'random/samples': samples });
          tracker.offer(sim);
        }
        return tracker.result();
      }
      // Short forms only: samples drawn and scored a batch at a time (scoreBatch), then counted and
      // offered one by one, so the search is the one-sample-at-a-time search, sample for sample.
      const rows = new Int32Array(SHORT_FORM_BATCH * L);
      const objectives = new Float64Array(SHORT_FORM_BATCH);
      const violations = new Float64Array(SHORT_FORM_BATCH);
      for (let n = candidatesWithinBudget(tracker, 0, SHORT_FORM_BATCH); n > 0; n = candidatesWithinBudget(tracker, 0, SHORT_FORM_BATCH)) {
        for (let i = 0; i < n; i++) draw(rows.subarray(i * L, (i + 1) * L));
        sim.scoreBatch(rows, n, objectives, violations);
        for (let i = 0; i < n; i++) {
          samples++;
          tracker.count(1, { 'random/samples': samples });
          offerRow(tracker, sim, rows, i, objectives[i], violations[i]);
        }
      }
      return tracker.result();
    },
  };
}

export const randomSearcherDefault = randomSearcher();
