/**
 * The searchers that score candidates through scoreBatch (agent/batch-scoring.ts) search exactly as
 * they did with one scoreAssignment per candidate: searchers-before-batch.fixture.json holds what the
 * code before that change (commit b4e1a89) returned for these problems, configurations and seeds
 * (placement, objective, evaluations, trace), and the searchers must still return it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, bundledProblem } from '../env/bundled.js';
import { loadProblem } from '../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../env/problem.js';
import { annealSearcher } from './anneal.js';
import { geneticSearcher } from './genetic.js';
import { greedySearcher } from './greedy.js';
import { randomSearcher } from './random.js';
import type { Searcher } from './searcher.js';

interface Expected {
  name: string;
  objective: Settings['objective'];
  variant: string;
  seed: number;
  maxEvaluations: number;
  objectiveValue: number | null;
  feasible: boolean;
  evaluations: number;
  placement: [number, number, number, number][];
  trace: [number, number][];
}

const VARIANTS: Record<string, () => Searcher> = {
  'genetic short-form': () => geneticSearcher({ provisionFitness: false }),
  'genetic short-form per-layer': () => geneticSearcher({ provisionFitness: false, initialSchemes: 'per-layer', heuristicSeeds: false }),
  'random short-form': () => randomSearcher({ provision: false }),
  'greedy shortlist 3': () => greedySearcher({ shortlist: 3 }),
  'anneal short-form': () => annealSearcher({ provisionEveryState: false }),
  anneal: () => annealSearcher(),
};

const expected = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'agent', 'searchers-before-batch.fixture.json'), 'utf8')) as Expected[];

test('searchers scoring through scoreBatch return what one scoreAssignment per candidate returned (same seed, same budget)', async () => {
  assert.equal(expected.length, 48);
  for (const want of expected) {
    const { files, defaults } = bundledProblem(want.name);
    const problem = loadProblem(files);
    const base = { ...DEFAULT_SETTINGS, microBatches: defaults.microBatches ?? 8 };
    const settings: Settings =
      want.objective === 'time' ? { ...base, budget: defaults.budget ?? Infinity } : { ...base, objective: 'cost', deadline: defaults.deadline ?? 1000 };
    const result = await VARIANTS[want.variant]().search(problem, settings, { seed: want.seed, maxEvaluations: want.maxEvaluations });
    const got = JSON.parse(
      JSON.stringify({
        objectiveValue: result.objective,
        feasible: result.feasible,
        evaluations: result.evaluations,
        placement: result.placement.map((s) => [s.type, s.replicas, s.first, s.last]),
        trace: result.trace.map((t) => [t.evaluations, t.bestObjective]),
      }),
    );
    const { objectiveValue, feasible, evaluations, placement, trace } = want;
    assert.deepEqual(got, { objectiveValue, feasible, evaluations, placement, trace }, `${want.variant} on ${want.name} (${want.objective})`);
  }
});
