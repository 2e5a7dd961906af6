import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { bundledProblem } from '../env/bundled.js';
import { UserError } from '../env/errors.js';
import { loadProblem } from '../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../env/problem.js';
import { loadCheckpointWeights, readCheckpoint, restoreOptimizer, saveCheckpoint, type RunRecord } from './checkpoint.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer } from './reinforce.js';

function toy() {
  const { files, defaults } = bundledProblem('toy');
  const settings: Settings = { ...DEFAULT_SETTINGS, ...defaults } as Settings;
  return { problem: loadProblem(files), settings };
}

const config = { ...DEFAULT_REINFORCE_CONFIG, batchSize: 8 };
const history = (n: number) => `iteration\n${Array.from({ length: n }, (_, i) => `${i + 1}\n`).join('')}`;

async function trainedCheckpoint(): Promise<{ dir: string; run: RunRecord; slots: Record<string, number[]> }> {
  const { problem, settings } = toy();
  const dir = mkdtempSync(join(tmpdir(), 'placer-checkpoint-'));
  const trainer = new ReinforceTrainer(problem, settings, config, { seed: 3, iterations: 3 });
  await trainer.run();
  const run: RunRecord = { seed: 3, config, problem: { bundled: 'toy' }, settings, iterations: 3, checkpointEvery: 50 };
  await saveCheckpoint(dir, trainer, run, history(trainer.iteration));
  const { tensors } = await trainer.optimizerWeights();
  const slots = Object.fromEntries(Object.entries(tensors).map(([name, t]) => [name, Array.from(t.dataSync())]));
  tf.dispose(Object.values(tensors));
  trainer.dispose();
  return { dir, run, slots };
}

test('a checkpoint round trip restores Adam and keeps training (the Adam-slot crash of ee95003)', async () => {
  const { problem, settings } = toy();
  const { dir, slots } = await trainedCheckpoint();
  const { dir: folder, record } = readCheckpoint(dir);
  assert.equal(record.state.iteration, 3);
  assert.deepEqual(record.problem, { bundled: 'toy' });
  assert.equal(record.settings.budget, settings.budget);
  const { policy, optimizer } = await loadCheckpointWeights(folder);
  const resumed = new ReinforceTrainer(problem, settings, record.config, { seed: record.seed, iterations: 6, policy, resume: record.state });
  await restoreOptimizer(resumed, record.optimizerIterations, optimizer);
  const { tensors } = await resumed.optimizerWeights();
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(slots).sort());
  for (const [name, t] of Object.entries(tensors)) assert.deepEqual(Array.from(t.dataSync()), slots[name], name);
  tf.dispose(Object.values(tensors));
  // Keep training from the restored slots: updates 4..6 run and checkpoint again.
  const result = await resumed.run();
  assert.equal(resumed.iteration, 6);
  assert.equal(result.feasible, true);
  await saveCheckpoint(dir, resumed, { seed: record.seed, config: record.config, problem: record.problem, settings, iterations: 6, checkpointEvery: 50 }, history(6));
  assert.equal(readCheckpoint(dir).record.state.iteration, 6);
  resumed.dispose();
  policy.dispose();
});

const refusal = (f: () => unknown): string => {
  try {
    f();
  } catch (error) {
    assert.ok(error instanceof UserError, String(error));
    return (error as Error).message;
  }
  assert.fail('expected a refusal');
};

test('a garbage, mixed or torn checkpoint is refused in one line naming the file', async () => {
  const { dir } = await trainedCheckpoint();
  const state = join(dir, 'checkpoint', 'state.json');
  const original = readFileSync(state, 'utf8');
  const edit = (change: (json: Record<string, any>) => void) => {
    const json = JSON.parse(original);
    change(json);
    writeFileSync(state, JSON.stringify(json));
    return refusal(() => readCheckpoint(dir));
  };
  assert.match(edit((json) => delete json.config), /state\.json: "config": missing/);
  assert.match(edit((json) => (json.state.iteration = 'five')), /state\.json: "state\.iteration": expected a whole number >= 0, got "five"/);
  assert.match(edit((json) => (json.config.batchSize = 'many')), /state\.json: "config\.batchSize": expected number/);
  assert.match(edit((json) => (json.format = undefined)), /not a checkpoint of this placer/);
  writeFileSync(state, '{"iteration": ');
  assert.match(refusal(() => readCheckpoint(dir)), /state\.json: not valid JSON/);
  writeFileSync(state, original);
  // Another save's weights beside this state.json (what separate writes left after a kill).
  appendFileSync(join(dir, 'checkpoint', 'policy', 'weights.bin'), Buffer.alloc(4));
  assert.match(refusal(() => readCheckpoint(dir)), /policy\/weights\.bin: does not match .*state\.json \(a mixed or torn checkpoint/);
  assert.match(refusal(() => readCheckpoint(join(dir, 'nope'))), /no such folder/);
});

test('a kill between the two renames leaves checkpoint.old/, which is read instead', async () => {
  const { dir } = await trainedCheckpoint();
  renameSync(join(dir, 'checkpoint'), join(dir, 'checkpoint.old'));
  assert.ok(!existsSync(join(dir, 'checkpoint')));
  const { dir: folder, record } = readCheckpoint(dir);
  assert.equal(folder, join(dir, 'checkpoint.old'));
  assert.equal(record.state.iteration, 3);
});
