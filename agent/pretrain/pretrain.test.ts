/** Pretraining: the problem distribution, the teacher's lessons, imitation, zero-shot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../backend.js';
import { PolicyNetwork } from '../policy.js';
import { drawProblem, HELD_OUT_ARCHITECTURES, MAX_TYPES, MIN_LAYERS } from './distribution.js';
import { disposeExample, imitationStep, teacherExample } from './imitation.js';
import { Learner } from '../rl/learner.js';
import { teach } from './teacher.js';
import { heldOutGenerated } from './held-out.js';
import { TRAIN_ARCHITECTURES } from './distribution.js';
import { zeroShot } from './zero-shot.js';
import { assignmentOf } from '../../env/problem.js';
import { Simulator } from '../../env/simulate.js';

await selectBackend('cpu');

test('drawProblem: same stream and index, same problem; training draws never use a held-out architecture', () => {
  const a = drawProblem('train-1', 7);
  const b = drawProblem('train-1', 7);
  assert.equal(a.name, b.name);
  assert.deepEqual(Array.from(a.problem.forwardMs), Array.from(b.problem.forwardMs));
  assert.notEqual(drawProblem('train-1', 8).name, a.name);
  const names = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const d = drawProblem('train-3', i, { maxLayers: 40 });
    names.add(d.name.split(':')[1]);
    for (const held of HELD_OUT_ARCHITECTURES) assert.ok(!d.name.includes(held), d.name);
    const K = d.problem.types.length;
    assert.ok(K >= 2 && K <= MAX_TYPES, d.name);
    if (d.name.includes(':synthetic:')) assert.ok(d.problem.layers.length >= MIN_LAYERS && d.problem.layers.length <= 40, d.name);
    // Every layer can run somewhere.
    for (let l = 0; l < d.problem.layers.length; l++) {
      assert.ok(Array.from({ length: K }, (_, k) => d.problem.forwardMs[l * K + k]).some((x) => !Number.isNaN(x)), `${d.name} layer ${l}`);
    }
    assert.ok(d.microBatches >= 2 && d.microBatches <= 32);
  }
  // Both families and every training architecture come up.
  for (const family of ['synthetic', 'bert-base', 'ctr', 'vgg16']) assert.ok(names.has(family), family);
});

test('teach: the constraint binds between its ends, and the lesson is feasible under it', async () => {
  let taught = 0;
  for (let i = 0; taught < 3; i++) {
    const drawn = drawProblem('test-teacher', i, { maxLayers: 20, architectureShare: 0.3 });
    const lesson = await teach(drawn, { rangeCap: 2000, labelCap: 5000 });
    if (!lesson) continue;
    taught++;
    const sim = new Simulator(drawn.problem, lesson.settings);
    sim.scorePlacement(lesson.placement);
    assert.ok(sim.feasible, drawn.name);
    assert.ok(Math.abs(sim.objectiveValue - lesson.objective) <= 1e-9 * lesson.objective);
    if (drawn.objective === 'time') assert.ok(Number.isFinite(lesson.settings.budget) && sim.pricePerHour <= lesson.settings.budget * (1 + 1e-12));
    else assert.ok(Number.isFinite(lesson.settings.deadline) && sim.stepMs <= lesson.settings.deadline * (1 + 1e-12));
  }
});

test('imitation: the teacher example encodes the stages, and a policy fitted to one lesson decodes its types zero-shot', async () => {
  let drawn;
  let lesson = null;
  for (let i = 0; lesson === null || lesson.placement.length < 2; i++) {
    drawn = drawProblem('test-imitation', i, { maxLayers: 16, architectureShare: 0, costShare: 0 });
    lesson = await teach(drawn, { rangeCap: 2000, labelCap: 5000 });
  }
  const { problem, name } = drawn!;
  const policy = PolicyNetwork.create({}, 3);
  const example = teacherExample(policy, problem, lesson.settings, lesson.placement);
  assert.ok(example, name);
  const began = Array.from(example.began.dataSync());
  assert.deepEqual(began.map((b, l) => (b ? l : -1)).filter((l) => l >= 0), lesson.placement.map((s) => s.first));
  assert.equal(example.typeDecisions, lesson.placement.length);
  const learner = new Learner({ learningRate: 0.02, epochs: 1, clip: 0.2, clipNorm: 1 });
  const first = imitationStep(policy, learner.optimizer, [example], 1);
  let last = first;
  for (let s = 0; s < 80; s++) last = imitationStep(policy, learner.optimizer, [example], 1);
  assert.ok(last < first / 4, `loss ${first} -> ${last}`);
  const z = zeroShot(policy, problem, lesson.settings, { samples: 0 });
  assert.match(z.decoding, /^the policy's mode, each provisioned/);
  assert.equal(z.winner, 0);
  assert.equal(z.stages, lesson.placement.length);
  // The policy's stages are the teacher's; provisioning may split stages and move cuts, so compare the runs of types in order.
  const runs = (p: { type: number }[]) => p.map((s) => s.type).filter((t, i, all) => i === 0 || all[i - 1] !== t);
  assert.deepEqual(runs(z.placement), runs(lesson.placement));
  const again = zeroShot(policy, problem, lesson.settings, { samples: 0 });
  assert.deepEqual(assignmentOf(again.placement, problem.layers.length), assignmentOf(z.placement, problem.layers.length));
  // With samples: never worse than the mode alone, and the same seed gives the same placement.
  const sampled = zeroShot(policy, problem, lesson.settings, { seed: 4, samples: 8 });
  assert.ok(sampled.feasible && sampled.objective <= z.objective);
  assert.deepEqual(zeroShot(policy, problem, lesson.settings, { seed: 4, samples: 8 }).placement, sampled.placement);
  disposeExample(example);
  learner.dispose();
  policy.dispose();
});

test('held-out generated problems: only held-out architectures and unseen chains, never a training architecture', async () => {
  const held = await heldOutGenerated(4, { rangeCap: 1000, labelCap: 2000 }, { maxLayers: 16, architectureShare: 0.8 });
  assert.equal(held.length, 4);
  for (const h of held) {
    for (const trained of TRAIN_ARCHITECTURES) assert.ok(!h.name.includes(`:${trained}:`), h.name);
    assert.ok(h.name.startsWith('held-out/'), h.name);
  }
  assert.ok(held.some((h) => HELD_OUT_ARCHITECTURES.some((a) => h.name.includes(`:${a}:`))), 'no held-out architecture drawn');
});
