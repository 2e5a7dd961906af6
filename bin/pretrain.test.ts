/** `placer pretrain` (a tiny run, resumed) and `placer place` with a pretrained policy and with the shipped one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('./placer.js', import.meta.url));

function placer(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const TINY = ['--held-out', '1', '--max-layers', '16', '--label-cap', '2000', '--eval-every', '2', '--checkpoint-every', '1', '--steps-per-lesson', '2', '--no-progress', '--backend', 'cpu'];

test('pretrain: a tiny run, resumed, gives the same policy as the same run in one go; place uses it zero-shot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-pretrain-'));
  const resumed = join(dir, 'resumed');
  const once = join(dir, 'once');
  let r = placer('pretrain', '--out', resumed, '--lessons', '2', '--seed', '5', ...TINY);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /policy: 2 lessons/);
  const lessonsBefore = readFileSync(join(resumed, 'checkpoint', 'lessons.jsonl'), 'utf8');
  r = placer('pretrain', '--resume', resumed, '--lessons', '3', '--no-progress', '--backend', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming .* at lesson 2/);
  assert.ok(readFileSync(join(resumed, 'checkpoint', 'lessons.jsonl'), 'utf8').startsWith(lessonsBefore), 'lessons were relabelled on resume');
  r = placer('pretrain', '--out', once, '--lessons', '3', '--seed', '5', ...TINY);
  assert.equal(r.code, 0, r.stderr);
  const summary = JSON.parse(readFileSync(join(resumed, 'pretrain.json'), 'utf8'));
  assert.equal(summary.lessons, 3);
  assert.equal(summary.seed, 5);
  assert.deepEqual(readFileSync(join(resumed, 'policy', 'weights.bin')), readFileSync(join(once, 'policy', 'weights.bin')));
  // history.csv: a header and one row per measurement (lesson 2 and the end).
  assert.equal(readFileSync(join(resumed, 'history.csv'), 'utf8').trim().split('\n').length, 3);

  const out = join(dir, 'place');
  r = placer('place', '--policy', join(resumed, 'policy'), '--problem', 'toy', '--out', out, '--backend', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  const json = JSON.parse(readFileSync(join(out, 'placement.json'), 'utf8'));
  assert.equal(json.method, 'policy (zero-shot)');
  assert.match(json.decoding, /no exact solver/);
  assert.equal(typeof json.seconds, 'number');
  assert.equal(json.policy, join(resumed, 'policy'));
});

test('pretrain --resume refuses a folder without a pretraining checkpoint, in one line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-pretrain-bad-'));
  const r = placer('pretrain', '--resume', dir, '--no-progress');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^placer: --resume .*no checkpoint\/state\.json/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

test('place with no --policy uses the shipped generalist; --fine-tune continues from its zero-shot placement within --max-evaluations', () => {
  const shipped = fileURLToPath(new URL('../../profiles/policies/generalist/model.json', import.meta.url));
  assert.ok(existsSync(shipped), 'profiles/policies/generalist is shipped');
  const dir = mkdtempSync(join(tmpdir(), 'placer-place-shipped-'));
  let r = placer('place', '--problem', 'synthetic-small', '--out', join(dir, 'zero'), '--backend', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  const zero = JSON.parse(readFileSync(join(dir, 'zero', 'placement.json'), 'utf8'));
  assert.equal(zero.method, 'policy (zero-shot)');
  assert.match(zero.policy, /generalist/);
  assert.match(zero.decoding, /temperature 1, 2, 1, 5/);
  r = placer('place', '--problem', 'synthetic-small', '--fine-tune', '50', '--max-evaluations', '300', '--out', join(dir, 'ft'), '--no-progress', '--backend', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  const capped = JSON.parse(readFileSync(join(dir, 'ft', 'placement.json'), 'utf8'));
  assert.ok(capped.evaluations <= 300, `${capped.evaluations} evaluations`);
  // Without a cap, fine-tuning starts from the whole zero-shot placement: never worse than it.
  r = placer('place', '--problem', 'synthetic-small', '--fine-tune', '2', '--out', join(dir, 'ft2'), '--no-progress', '--backend', 'cpu');
  assert.equal(r.code, 0, r.stderr);
  const tuned = JSON.parse(readFileSync(join(dir, 'ft2', 'placement.json'), 'utf8'));
  if (zero.feasible) assert.ok(tuned.feasible && tuned.stepMs <= zero.stepMs * (1 + 1e-12), `${tuned.stepMs} vs ${zero.stepMs}`);
});
