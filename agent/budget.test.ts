import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS, type Settings } from '../env/problem.js';
import { syntheticProblem } from '../profiles/synthetic.js';
import { reinforceSearcher } from './reinforce.js';
import { SEARCHER_NAMES, searcherByName } from './searchers.js';

test('every searcher, the agent and the exact solver included, stays within maxEvaluations (exact labels count)', async () => {
  const problem = syntheticProblem({ layers: 30, types: 4, seed: 2 });
  const settings: Settings = { ...DEFAULT_SETTINGS, budget: 8 };
  assert.deepEqual([...SEARCHER_NAMES].sort(), ['anneal', 'exact', 'genetic', 'greedy', 'random', 'reinforce', 'reinforce-dp']);
  for (const name of SEARCHER_NAMES) {
    for (const maxEvaluations of [1, 7, 150, 2500, 12_000]) {
      const result = await searcherByName(name).search(problem, settings, { seed: 1, maxEvaluations });
      assert.ok(result.evaluations <= maxEvaluations, `${name}: ${result.evaluations} > ${maxEvaluations}`);
      assert.equal(result.placement[result.placement.length - 1].last, problem.layers.length - 1, name);
    }
  }
});

test('reinforce-dp in window mode (opt-in: window samples, final decodes) stays within maxEvaluations', async () => {
  const problem = syntheticProblem({ layers: 30, types: 4, seed: 2 });
  const settings: Settings = { ...DEFAULT_SETTINGS, budget: 8 };
  // lnsLayers 20: this 30-layer chain runs in window mode.
  for (const maxEvaluations of [1, 7, 150, 2500, 12_000]) {
    const result = await reinforceSearcher({ decoder: 'dp', lnsLayers: 20 }).search(problem, settings, { seed: 1, maxEvaluations });
    assert.ok(result.evaluations <= maxEvaluations, `${result.evaluations} > ${maxEvaluations}`);
    assert.equal(result.placement[result.placement.length - 1].last, problem.layers.length - 1);
  }
});
