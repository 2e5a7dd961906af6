/** Zero-shot's tempered samples and the fine-tune's start from the zero-shot placement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../backend.js';
import { PolicyNetwork } from '../policy.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer } from '../reinforce.js';
import { rowPlacement } from '../rl/actions.js';
import { assignmentOf } from '../../env/problem.js';
import { bundledAtDefaults } from './held-out.js';
import { FINE_TUNE_CONFIG, offerZeroShot } from './fine-tune.js';
import { tempered, zeroShot } from './zero-shot.js';

await selectBackend('cpu');

test('tempered: T = 1 keeps the distribution; T > 1 flattens it, keeps zeros and the order of the types, and pulls stay towards 1/2', () => {
  const params = { probs: Float32Array.from([0.7, 0.2, 0.1, 0, 0.9, 0.1]), stay: Float32Array.from([0.9, 0.2]) };
  const same = tempered(params, 1);
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(same.probs[i] - params.probs[i]) < 1e-6);
  const flat = tempered(params, 4);
  for (const row of [0, 3]) assert.ok(Math.abs(flat.probs[row] + flat.probs[row + 1] + flat.probs[row + 2] - 1) < 1e-6);
  assert.equal(flat.probs[3], 0);
  assert.ok(flat.probs[0] < 0.7 && flat.probs[0] > flat.probs[1] && flat.probs[1] > flat.probs[2]);
  assert.ok(flat.probs[2] > 0.1);
  assert.ok(flat.stay[0] < 0.9 && flat.stay[0] > 0.5);
  assert.ok(flat.stay[1] > 0.2 && flat.stay[1] < 0.5);
});

test('zeroShot with tempered samples: same seed, same placement; says which temperature won; its row is the winning proposal', () => {
  const { problem, settings } = bundledAtDefaults('synthetic-small');
  const policy = PolicyNetwork.create({}, 2);
  const a = zeroShot(policy, problem, settings, { seed: 3, samples: 12, temperatures: [1, 4] });
  const b = zeroShot(policy, problem, settings, { seed: 3, samples: 12, temperatures: [1, 4] });
  assert.deepEqual(a.placement, b.placement);
  assert.match(a.decoding, /temperature 1, 4, cycling/);
  if (a.winner > 0) assert.match(a.decoding, new RegExp(`sample ${a.winner} \\(temperature ${a.winner % 2 === 1 ? 1 : 4}\\)`));
  assert.equal(a.row.size, 1);
  assert.equal(rowPlacement(a.row, 0).length, a.stages);
  // The trace ends at the winner's objective.
  if (a.feasible) assert.equal(a.trace[a.trace.length - 1][1], a.objective);
  policy.dispose();
});

test('offerZeroShot: within its share of the cap, counted; the zero-shot placement is the best so far and the fine-tune never ends worse', async () => {
  const { problem, settings } = bundledAtDefaults('synthetic-small');
  const policy = PolicyNetwork.create({}, 2);
  const trainer = new ReinforceTrainer(problem, settings, { ...DEFAULT_REINFORCE_CONFIG, ...FINE_TUNE_CONFIG }, { seed: 1, maxEvaluations: 400, policy });
  const z = offerZeroShot(trainer, { seed: 1, share: 0.25 });
  assert.ok(z.evaluations <= 100, `${z.evaluations}`);
  assert.equal(trainer.tracker.evaluations, z.evaluations + 1);
  assert.deepEqual(assignmentOf(trainer.tracker.best!, problem.layers.length), assignmentOf(z.placement, problem.layers.length));
  const result = await trainer.run();
  assert.ok(result.evaluations <= 400);
  if (z.feasible) assert.ok(result.feasible && result.objective <= z.objective * (1 + 1e-12));
  trainer.dispose();
  policy.dispose();
});
