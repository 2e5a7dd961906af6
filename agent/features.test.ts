import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SETTINGS } from '../env/problem.js';
import { chainFeatures, INCUMBENT_FEATURE, LAYER_FEATURES, PAIR_FEATURES, setIncumbent } from './features.js';
import { chainFixture } from './chains.fixture.js';

test('features have one row per (layer, type) pair and per layer, all finite', () => {
  const problem = chainFixture(13, 3);
  const f = chainFeatures(problem, { ...DEFAULT_SETTINGS, budget: 10 });
  const L = 13;
  const K = problem.types.length;
  assert.equal(f.pair.length, L * K * PAIR_FEATURES);
  assert.equal(f.layer.length, L * LAYER_FEATURES);
  assert.equal(f.runnable.length, L * K);
  assert.ok(f.pair.every(Number.isFinite), 'pair features finite');
  assert.ok(f.layer.every(Number.isFinite), 'layer features finite');
});

test('the runnable flag follows the profile, and the fastest type has slowdown 0', () => {
  const problem = chainFixture(20, 5);
  const f = chainFeatures(problem, DEFAULT_SETTINGS);
  const K = problem.types.length;
  for (let l = 0; l < 20; l++) {
    let minSlowdown = Infinity;
    for (let k = 0; k < K; k++) {
      const runnable = !Number.isNaN(problem.forwardMs[l * K + k]);
      assert.equal(f.runnable[l * K + k], runnable ? 1 : 0);
      assert.equal(f.pair[(l * K + k) * PAIR_FEATURES], runnable ? 1 : 0);
      if (runnable) minSlowdown = Math.min(minSlowdown, f.pair[(l * K + k) * PAIR_FEATURES + 1]);
    }
    assert.equal(minSlowdown, 0);
  }
});

test('the incumbent flag marks exactly one type per layer, and clears', () => {
  const problem = chainFixture(6, 2);
  const f = chainFeatures(problem, DEFAULT_SETTINGS, [0, 1, 1, 2, 0, 1]);
  const K = problem.types.length;
  const flags = (l: number) => Array.from({ length: K }, (_, k) => f.pair[(l * K + k) * PAIR_FEATURES + INCUMBENT_FEATURE]);
  assert.deepEqual(flags(3), [0, 0, 1, 0]);
  setIncumbent(f, null);
  for (let l = 0; l < 6; l++) assert.deepEqual(flags(l), [0, 0, 0, 0]);
});
