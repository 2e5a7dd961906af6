/** import / estimate / plan end to end through the CLI: files, feasibility, one-line errors. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PACKAGE_ROOT } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';

const BIN = fileURLToPath(new URL('../placer.js', import.meta.url));
const FIXTURES = join(PACKAGE_ROOT, 'profiles', 'fixtures');

function placer(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('plan: a feasible placement under the budget, and a problem folder the loader reads back', () => {
  const out = mkdtempSync(join(tmpdir(), 'placer-plan-'));
  const { code, stdout, stderr } = placer('plan', join(FIXTURES, 'tiny-encoder.onnx'), '--dim', 'seq=32', '--micro-batch-size', '8', '--budget', '5', '--time-limit', '5', '--out', out);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /feasible/);
  for (const name of ['layers.csv', 'devices.csv', 'profile.csv', 'problem.json', 'placement.json', 'plan-report.md', 'import-report.json']) {
    assert.ok(existsSync(join(out, name)), name);
  }
  const placement = JSON.parse(readFileSync(join(out, 'placement.json'), 'utf8'));
  assert.equal(placement.feasible, true);
  assert.ok(placement.pricePerHour <= 5);
  const problem = loadProblem({ layers: join(out, 'layers.csv'), devices: join(out, 'devices.csv'), profile: join(out, 'profile.csv') });
  assert.equal(problem.layers.length, placement.assignment.length);
  assert.match(readFileSync(join(out, 'plan-report.md'), 'utf8'), /Estimated, not measured/);
});

test('import then estimate: the two-step path writes profile.csv for every runnable pair', () => {
  const out = mkdtempSync(join(tmpdir(), 'placer-import-'));
  assert.equal(placer('import', join(FIXTURES, 'keras-cnn', 'model.json'), '--micro-batch-size', '16', '--out', out).code, 0);
  const { code, stderr } = placer('estimate', '--layers', join(out, 'layers.csv'), '--catalogue', 'cloud', '--out', out);
  assert.equal(code, 0, stderr);
  const rows = readFileSync(join(out, 'profile.csv'), 'utf8').trim().split('\n');
  assert.equal(rows.length - 1, 5 * 9);
});

test('corrupt, truncated and missing model files: one "placer:" line and exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-bad-'));
  const bytes = readFileSync(join(FIXTURES, 'resnet-block.onnx'));
  writeFileSync(join(dir, 'half.onnx'), bytes.subarray(0, bytes.length >> 1));
  writeFileSync(join(dir, 'noise.onnx'), Buffer.from('this is not a model at all, just text\n'.repeat(50)));
  writeFileSync(join(dir, 'half.json'), readFileSync(join(FIXTURES, 'keras-cnn', 'model.json'), 'utf8').slice(0, 500));
  writeFileSync(join(dir, 'empty.onnx'), '');
  for (const [file, pattern] of [
    ['half.onnx', /not a readable ONNX model/],
    ['noise.onnx', /ONNX/],
    ['half.json', /not valid JSON/],
    ['empty.onnx', /file is empty/],
    ['missing.onnx', /file not found/],
  ] as const) {
    for (const command of ['import', 'plan']) {
      const { code, stderr } = placer(command, join(dir, file), '--out', join(dir, 'out'));
      assert.equal(code, 1, `${command} ${file}`);
      assert.match(stderr, pattern, `${command} ${file}`);
      assert.equal(stderr.trim().split('\n').length, 1, `${command} ${file}: one line, got ${stderr}`);
      assert.match(stderr, /^placer: /);
    }
  }
  const { code, stderr } = placer('import', join(FIXTURES, 'tiny-encoder.onnx'), '--out', join(dir, 'out'));
  assert.equal(code, 1);
  assert.equal(stderr.trim(), `placer: ${join(FIXTURES, 'tiny-encoder.onnx')}: input "ids" dimension 1 is "seq", which has no value: give --dim seq=N`);
});

test('plan under a budget nothing fits: exit 2, and the smallest feasible budget in placement.json', () => {
  const out = mkdtempSync(join(tmpdir(), 'placer-plan-'));
  const { code, stdout } = placer('plan', join(FIXTURES, 'resnet-block.onnx'), '--micro-batch-size', '8', '--budget', '0.1', '--time-limit', '5', '--out', out);
  assert.equal(code, 2);
  assert.match(stdout, /smallest budget that makes one feasible is [\d.]+ \$\/h/);
  const placement = JSON.parse(readFileSync(join(out, 'placement.json'), 'utf8'));
  assert.equal(placement.feasible, false);
  assert.ok(placement.minimumFeasibleBudget > 0.1);
});
