import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './backends.js';
import { stepBatch, type ModelSpec } from './model.js';
import { runPipeline, type StagePlan } from './pipeline.js';
import { StageModel } from './stage.js';
import { tinyModelSpec } from './tiny-model.fixture.js';

const tiny: ModelSpec = tinyModelSpec(6);
const M = 3;

/** The unsplit model's gradients of step 0, summed over the M micro-batches, in this thread on cpu. */
async function unsplitGradients(spec: ModelSpec): Promise<Float32Array[]> {
  await useBackend('cpu');
  const model = new StageModel(spec, 0, spec.layers.length - 1);
  const { inputs, targets } = stepBatch(spec, 0, M);
  const B = spec.microBatchSize;
  for (let m = 0; m < M; m++) model.backward(inputs[m], B, { targets: targets[m], scale: 1 / (B * M) });
  const gradients = model.gradients().map((g) => g.slice());
  model.dispose();
  return gradients;
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  assert.equal(a.length, b.length, 'same number of weights');
  let max = 0;
  a.forEach((x, w) => {
    assert.equal(x.length, b[w].length, `weight ${w} has the same size`);
    for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - b[w][i]));
  });
  return max;
}

const placements: [string, StagePlan[]][] = [
  ['two stages', [{ first: 0, last: 0, replicas: 1, backend: 'cpu' }, { first: 1, last: 2, replicas: 1, backend: 'cpu' }]],
  ['three stages', [{ first: 0, last: 0, replicas: 1, backend: 'cpu' }, { first: 1, last: 1, replicas: 1, backend: 'cpu' }, { first: 2, last: 2, replicas: 1, backend: 'cpu' }]],
  ['replicas 2 then 3 (uneven row splits)', [{ first: 0, last: 1, replicas: 2, backend: 'cpu' }, { first: 2, last: 2, replicas: 3, backend: 'cpu' }]],
];

for (const [label, stages] of placements) {
  test(`split model gradients equal the unsplit model's: ${label}`, async (t) => {
    const expected = await unsplitGradients(tiny);
    const result = await runPipeline({ spec: tiny, stages, microBatches: M, steps: 1, collectGradients: true });
    const split = result.gradients!.flat();
    const diff = maxAbsDiff(split, expected);
    t.diagnostic(`max abs difference ${diff}`);
    assert.ok(diff <= 1e-5, `max abs difference ${diff} > 1e-5`);
    assert.ok(expected.some((g) => g.some((x) => x !== 0)), 'the gradients are not all zero');
  });
}

test('pipelined training lowers the loss', async () => {
  const stages: StagePlan[] = [{ first: 0, last: 1, replicas: 2, backend: 'cpu' }, { first: 2, last: 2, replicas: 1, backend: 'cpu' }];
  const result = await runPipeline({ spec: tiny, stages, microBatches: M, steps: 6 });
  const losses = result.steps.map((s) => s.loss);
  assert.ok(losses.at(-1)! < losses[0] * 0.9, `loss ${losses.join(' → ')} did not go down by 10%`);
});

test('the split model leaks no tensors in the reference thread', async () => {
  await useBackend('cpu');
  const before = tf.memory().numTensors;
  await unsplitGradients(tiny);
  assert.equal(tf.memory().numTensors, before);
});
