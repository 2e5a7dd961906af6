import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadProblem } from '../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../env/problem.js';
import { bundledProblem } from '../env/bundled.js';
import { exactSearcher } from './exact.js';
import { placementJson } from './export.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer, centredRanks, reinforceSearcher } from './reinforce.js';
import { chainFixture } from './chains.fixture.js';

function toy() {
  const { files, defaults } = bundledProblem('toy');
  const settings: Settings = { ...DEFAULT_SETTINGS, ...defaults } as Settings;
  return { problem: loadProblem(files), settings };
}

test('centred ranks: feasible (positive) rewards above infeasible ones, ties share, sum 0', () => {
  const ranks = centredRanks([0.5, -2, -0.1, 0.9, 0.5]);
  assert.ok(ranks[3] > ranks[0] && ranks[0] > ranks[2] && ranks[2] > ranks[1]);
  assert.equal(ranks[0], ranks[4]);
  assert.ok(Math.abs(ranks.reduce((a, b) => a + b, 0)) < 1e-12);
});

test('RL alone solves the toy problem to its hand-known optimum (120 ms, profiles/README.md)', async () => {
  const { problem, settings } = toy();
  const exact = await exactSearcher.search(problem, settings, { seed: 1 });
  assert.equal(exact.objective, 120);
  // No warm start: the policy's samples must find it.
  const result = await reinforceSearcher({ warmStart: false, batchSize: 16 }).search(problem, settings, { seed: 2, maxEvaluations: 5000 });
  assert.equal(result.feasible, true);
  assert.equal(result.objective, 120);
});

test('same seed and iterations give the same placement.json; the seed matters to the samples', async () => {
  const problem = chainFixture(12, 3);
  const settings: Settings = { ...DEFAULT_SETTINGS, budget: 6 };
  const run = async (seed: number) => {
    const trainer = new ReinforceTrainer(problem, settings, { ...DEFAULT_REINFORCE_CONFIG, batchSize: 16 }, { seed, iterations: 6 });
    const result = await trainer.run();
    const rows = trainer.history.map((r) => [r.meanReward, r.entropy]);
    trainer.dispose();
    return { json: JSON.stringify(placementJson(problem, settings, result.placement, { seed })), rows };
  };
  const a = await run(4);
  const b = await run(4);
  const c = await run(9);
  assert.equal(a.json, b.json);
  assert.deepEqual(a.rows, b.rows);
  assert.notDeepEqual(a.rows, c.rows);
});

test('an update leaks no tensor', async () => {
  const problem = chainFixture(10, 1);
  const trainer = new ReinforceTrainer(problem, { ...DEFAULT_SETTINGS, budget: 8 }, { ...DEFAULT_REINFORCE_CONFIG, batchSize: 8 }, { seed: 3, iterations: 3 });
  trainer.update(); // the first update creates Adam's slots
  const before = tf.memory().numTensors;
  trainer.update();
  trainer.update();
  assert.equal(tf.memory().numTensors, before);
  trainer.dispose();
});

test('placement.json has the keys of README "Reading the output", and violations only when infeasible', async () => {
  const { problem, settings } = toy();
  const result = await exactSearcher.search(problem, settings, { seed: 1 });
  const json = placementJson(problem, settings, result.placement, { seed: 1, method: 'exact' });
  for (const key of ['assignment', 'feasible', 'stepMs', 'pricePerHour', 'costPerStep', 'stages', 'objective', 'budget', 'microBatches', 'seed']) {
    assert.ok(key in json, key);
  }
  assert.equal(json.assignment.length, problem.layers.length);
  assert.deepEqual(Object.keys(json.stages[0]).slice(0, 7), ['type', 'replicas', 'firstLayer', 'lastLayer', 'forwardMs', 'backwardMs', 'memoryBytes']);
  assert.equal('violations' in json, false);
  const broke = placementJson(problem, { ...settings, budget: 0.01 }, result.placement, {});
  assert.equal(broke.feasible, false);
  assert.ok((broke.violations ?? []).some((v) => v.includes('over the budget')));
});

