import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_SETTINGS } from '../env/problem.js';
import { chainFeatures } from './features.js';
import { ENCODER_KINDS, PolicyNetwork, disposeInputs } from './policy.js';
import { loadPolicy, savePolicy } from './policy-io.js';
import { chainFixture } from './chains.fixture.js';

test('every encoder gives a distribution per layer that sums to 1 and is 0 where a type cannot run', () => {
  for (const L of [1, 9]) {
    const problem = chainFixture(L, 4);
    const K = problem.types.length;
    const features = chainFeatures(problem, DEFAULT_SETTINGS);
    for (const encoder of ENCODER_KINDS) {
      const policy = PolicyNetwork.create({ encoder }, 7);
      const inputs = policy.inputs(features);
      const { probs, stay } = policy.distribution(inputs);
      assert.equal(probs.length, L * K);
      assert.equal(stay.length, L);
      for (let l = 0; l < L; l++) {
        let sum = 0;
        for (let k = 0; k < K; k++) {
          sum += probs[l * K + k];
          if (!features.runnable[l * K + k]) assert.equal(probs[l * K + k], 0, `${encoder}: masked type has probability 0`);
        }
        assert.ok(Math.abs(sum - 1) < 1e-5, `${encoder}: layer ${l} sums to ${sum}`);
      }
      disposeInputs(inputs);
      policy.dispose();
    }
  }
});

test('one policy reads chains of different lengths (transfer)', () => {
  const policy = PolicyNetwork.create({}, 3);
  for (const L of [4, 30]) {
    const inputs = policy.inputs(chainFeatures(chainFixture(L, 1), DEFAULT_SETTINGS));
    assert.equal(policy.distribution(inputs).stay.length, L);
    disposeInputs(inputs);
  }
  policy.dispose();
});

test('the same seed gives the same initial weights; another seed does not', () => {
  const weightsOf = (seed: number) => {
    const policy = PolicyNetwork.create({}, seed);
    const w = policy.weights();
    const data = Array.from(w['pair/kernel'].dataSync());
    tf.dispose(w);
    policy.dispose();
    return data;
  };
  assert.deepEqual(weightsOf(5), weightsOf(5));
  assert.notDeepEqual(weightsOf(5), weightsOf(6));
});

test('a saved policy loads back with the same distribution (model.json + weights.bin)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-policy-'));
  try {
    const policy = PolicyNetwork.create({ encoder: 'attention', depth: 1 }, 11);
    await savePolicy(policy, dir);
    const modelJson = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    assert.equal(modelJson.modelTopology.format, 'placer-policy');
    assert.deepEqual(modelJson.weightsManifest[0].paths, ['weights.bin']);
    const { policy: loaded } = await loadPolicy(dir);
    const features = chainFeatures(chainFixture(7, 2), DEFAULT_SETTINGS);
    const a = policy.inputs(features);
    const b = loaded.inputs(features);
    assert.deepEqual(Array.from(loaded.distribution(b).probs), Array.from(policy.distribution(a).probs));
    disposeInputs(a);
    disposeInputs(b);
    policy.dispose();
    loaded.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loading a folder without a policy names the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-nopolicy-'));
  try {
    await assert.rejects(loadPolicy(dir), (error: Error) => error.message.includes('model.json: no such file'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
