/** The command line end to end: exit codes, one-line errors, JSON output, files written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('./placer.js', import.meta.url));

function placer(...args: string[]) {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function problemDir(overrides: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'placer-cli-'));
  const files: Record<string, string> = {
    'layers.csv': 'name,param_bytes,activation_bytes\na,1000000,2000000\nb,2000000,1000000\nc,500000,10\n',
    'devices.csv': 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncpu,1,4,1e9,1e9\ngpu,3,2,1e9,1e10\n',
    'profile.csv': 'layer,type,forward_ms,backward_ms\na,cpu,10,20\na,gpu,1,2\nb,cpu,20,40\nb,gpu,2,4\nc,cpu,5,10\nc,gpu,1,1\n',
    ...overrides,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, args: ['--layers', join(dir, 'layers.csv'), '--devices', join(dir, 'devices.csv'), '--profile', join(dir, 'profile.csv')] };
}

test('--help lists the commands', () => {
  const { code, stdout } = placer('--help');
  assert.equal(code, 0);
  for (const command of ['evaluate', 'solve', 'problems', 'profile', 'validate']) assert.match(stdout, new RegExp(`\\b${command}\\b`));
});

test('evaluate --json prints the keys of README "Reading the output"', () => {
  const { args } = problemDir();
  const { code, stdout } = placer('evaluate', ...args, '--assignment', 'gpu,gpu,cpu', '--budget', '10', '--json');
  assert.equal(code, 0);
  const json = JSON.parse(stdout);
  assert.equal(json.feasible, true);
  assert.equal(json.pricePerHour, 4);
  // gpu stage f=3 b=6; link 1e6 B / 1e9 B/s = 1 ms; cpu stage f=5 b=10; M=8: 9 + 2 + 15 + 7·(5+10) = 131
  assert.equal(json.stepMs, 131);
  assert.equal(json.costPerStep, (4 * 131) / 3_600_000);
});

test('evaluate reports violations of an infeasible placement', () => {
  const { args } = problemDir();
  const { code, stdout } = placer('evaluate', ...args, '--assignment', 'gpu,gpu,gpu', '--budget', '2', '--json');
  assert.equal(code, 0);
  const json = JSON.parse(stdout);
  assert.equal(json.feasible, false);
  assert.deepEqual(json.violations, ['price 3 $/h is over the budget of 2 $/h']);
});

test('solve writes placement.json; an impossible budget still exits 0 and names the least budget that works', () => {
  const { dir, args } = problemDir();
  const out = join(dir, 'out');
  const ok = placer('solve', '--method', 'exact', ...args, '--budget', '7', '--out', out);
  assert.equal(ok.code, 0, ok.stderr);
  const written = JSON.parse(readFileSync(join(out, 'placement.json'), 'utf8'));
  assert.equal(written.feasible, true);
  assert.equal(written.assignment.length, 3);
  for (const key of ['stepMs', 'pricePerHour', 'costPerStep', 'stages', 'objective', 'budget', 'microBatches', 'seed', 'seconds', 'evaluations']) assert.ok(key in written, key);
  // Certified: the exact search proves its answer, so the bound is the objective.
  assert.equal(written.lowerBound, written.stepMs);
  assert.equal(written.gap, 0);
  assert.equal(written.provenOptimal, true);
  assert.match(ok.stdout, /proven optimal \(gap 0/);

  const none = placer('solve', '--method', 'exact', ...args, '--budget', '0.5', '--out', out);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /INFEASIBLE/);
  assert.match(none.stdout, /the smallest budget that makes one feasible is 1 \$\/h/);
  const infeasible = JSON.parse(readFileSync(join(out, 'placement.json'), 'utf8'));
  assert.equal(infeasible.feasible, false);
  assert.equal(infeasible.minimumFeasibleBudget, 1);
  assert.equal(infeasible.lowerBound, null);
  assert.equal(infeasible.provenInfeasible, true);
  assert.match(none.stdout, /Proven: no placement is feasible/);
  assert.ok(infeasible.violations.length > 0);
});

test('same seed, same bytes: solve --method genetic twice', () => {
  const { dir, args } = problemDir();
  placer('solve', '--method', 'genetic', ...args, '--seed', '7', '--evaluations', '500', '--out', join(dir, 'a'));
  placer('solve', '--method', 'genetic', ...args, '--seed', '7', '--evaluations', '500', '--out', join(dir, 'b'));
  // Every key but the two timings is the same, byte for byte.
  const untimed = (file: string) => readFileSync(file, 'utf8').split('\n').filter((line) => !/^  "(seconds|boundSeconds)":/.test(line)).join('\n');
  assert.equal(untimed(join(dir, 'a', 'placement.json')), untimed(join(dir, 'b', 'placement.json')));
});

test('bad input: one line on stderr, no stack, exit 1', () => {
  const cases: Array<[Record<string, string>, string[], RegExp]> = [
    [{ 'layers.csv': 'name,param_bytes,activation_bytes\na,1,1\na,1,1\n' }, ['--assignment', 'cpu,cpu'], /layers\.csv row 3, column name: duplicate layer "a"/],
    [{ 'profile.csv': 'layer,type,forward_ms,backward_ms\na,cpu,-1,1\n' }, ['--assignment', 'cpu,cpu,cpu'], /profile\.csv row 2, column forward_ms: expected a number >= 0, got "-1"/],
    [{ 'devices.csv': 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncpu,1,4,1e9\n' }, ['--assignment', 'cpu,cpu,cpu'], /devices\.csv row 2: malformed CSV/],
    [{}, ['--assignment', 'cpu,tpu,cpu'], /--assignment: item 2 \(layer "b"\): unknown type "tpu"/],
    [{}, ['--assignment', 'cpu,cpu'], /--assignment: expected 3 types \(one per layer\), got 2/],
  ];
  for (const [override, extra, expected] of cases) {
    const { args } = problemDir(override);
    const { code, stderr } = placer('evaluate', ...args, ...extra);
    assert.equal(code, 1, stderr);
    assert.match(stderr, expected);
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.doesNotMatch(stderr, /\n\s+at /);
  }
  const missing = placer('evaluate', '--layers', '/nonexistent/layers.csv', '--devices', 'x', '--profile', 'y', '--assignment', 'a');
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, 'placer: /nonexistent/layers.csv: file not found\n');
  const budget = placer('evaluate', '--problem', 'toy', '--assignment', 'cpu,cpu,cpu,cpu', '--budget', 'lots');
  assert.equal(budget.code, 1);
  assert.match(budget.stderr, /--budget must be a number >= 0, got "lots"/);
});

test('solve does not leave temporary files behind', () => {
  const { dir, args } = problemDir();
  const out = join(dir, 'out');
  placer('solve', ...args, '--out', out);
  assert.ok(existsSync(join(out, 'placement.json')));
  assert.deepEqual(readdirSync(out), ['placement.json']);
});

/** One clean line: `placer: …`, exit 1, no stack. */
function refused(result: { code: number | null; stderr: string }, expected: RegExp) {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.trim().split('\n');
  assert.ok(lines.every((line) => line.startsWith('placer: ')), result.stderr);
  assert.match(lines[lines.length - 1], expected);
  assert.doesNotMatch(result.stderr, /\n\s+at /);
}

test('flags are read like CSV cells, and parser errors are one placer: line', () => {
  refused(placer('solve', '--problem', 'toy', '--budget', '0x10'), /^placer: --budget must be a number >= 0, got "0x10"/);
  refused(placer('solve', '--problem', 'toy', '--micro-batches', '0x8'), /^placer: --micro-batches must be a whole number >= 1, got "0x8"/);
  refused(placer('solve', '--problem', 'toy', '--micro-batches', '1e12'), /--micro-batches must be at most 1000000/);
  refused(placer('solve', '--problem', 'toy', '--frobnicate'), /^placer: unknown option '--frobnicate'/);
  refused(placer('frobnicate'), /^placer: unknown command 'frobnicate'/);
  refused(placer('solve', '--problem', '../toy'), /"\.\.\/toy" is not a bundled problem name .*--layers, --devices and --profile/);
});

test('a heuristic that found nothing says so; it does not claim nothing exists', () => {
  // 30 layers, one cheap unit: only "everything on it" fits a budget of 1 $/h.
  const names = Array.from({ length: 30 }, (_, i) => `l${i}`);
  const { dir, args } = problemDir({
    'layers.csv': `name,param_bytes,activation_bytes\n${names.map((n) => `${n},1000,1000`).join('\n')}\n`,
    'devices.csv': 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncheap,1,1,1e9,1e9\ndear,3,4,1e9,1e9\n',
    'profile.csv': `layer,type,forward_ms,backward_ms\n${names.flatMap((n) => [`${n},cheap,1,2`, `${n},dear,1,2`]).join('\n')}\n`,
  });
  const random = placer('solve', ...args, '--budget', '1', '--method', 'random', '--evaluations', '200', '--out', join(dir, 'random'));
  assert.equal(random.code, 0, random.stderr);
  assert.match(random.stdout, /random found no feasible placement in \d+ evaluations/);
  assert.doesNotMatch(random.stdout, /No placement fits|smallest budget/);
  const json = JSON.parse(readFileSync(join(dir, 'random', 'placement.json'), 'utf8'));
  assert.equal(json.minimumFeasibleBudget, undefined);
  const exact = placer('solve', ...args, '--budget', '1', '--method', 'exact', '--out', join(dir, 'exact'));
  assert.match(exact.stdout, /\nfeasible\n/);
});

test('an output folder that cannot be written is refused before the work', () => {
  const { dir, args } = problemDir();
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  refused(placer('solve', ...args, '--out', file), /^placer: --out .*a-file: cannot write there \(.*exists and is a file/);
  refused(placer('solve', ...args, '--out', join(file, 'sub')), /a part of the path is a file/);
  refused(placer('train', '--problem', 'toy', '--quick', '--out', file), /^placer: --out .*a-file: cannot write there/);
});

test('train --resume DIR alone continues the run and appends to history.csv; a second run on DIR is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-resume-'));
  const first = placer('train', '--problem', 'toy', '--quick', '--no-progress', '--checkpoint-every', '2', '--out', dir);
  assert.equal(first.code, 0, first.stderr);
  const before = readFileSync(join(dir, 'history.csv'), 'utf8');
  assert.equal(before.trim().split('\n').length, 6);
  const resumed = placer('train', '--resume', dir, '--iterations', '7', '--no-progress');
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming .* at update 5 \(to update 7\)/);
  const after = readFileSync(join(dir, 'history.csv'), 'utf8');
  assert.ok(after.startsWith(before), 'history.csv was rewritten, not appended to');
  assert.equal(after.trim().split('\n').length, 8);
  const json = JSON.parse(readFileSync(join(dir, 'placement.json'), 'utf8'));
  assert.equal(json.iterations, 7);
  assert.equal(json.problem, 'toy');
  // The parent of this test is alive: its pid in the lock makes the folder busy.
  writeFileSync(join(dir, '.placer.lock'), `${process.pid}\n`);
  refused(placer('train', '--resume', dir, '--iterations', '9', '--no-progress'), /is in use by another placer run \(pid \d+/);
});

test('place writes runs/place by default and says where its placement came from', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-place-'));
  assert.equal(placer('train', '--problem', 'toy', '--quick', '--no-progress', '--out', join(dir, 't')).code, 0);
  const result = spawnSync(process.execPath, [BIN, 'place', '--policy', join(dir, 't', 'policy'), '--problem', 'toy'], { cwd: dir, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const json = JSON.parse(readFileSync(join(dir, 'runs', 'place', 'placement.json'), 'utf8'));
  assert.ok(['policy (zero-shot)', "heuristic warm start (better than the policy's zero-shot placement)"].includes(json.method), json.method);
  assert.ok(!existsSync(join(dir, 'runs', 'train')));
});

test('validate refuses, before any thread starts: bad microBatches, too many replicas, another profile, an earlier validation.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-validate-'));
  assert.equal(placer('solve', '--problem', 'local-mlp', '--out', dir).code, 0);
  const file = join(dir, 'placement.json');
  const original = JSON.parse(readFileSync(file, 'utf8'));
  assert.equal(typeof original.profileSha256, 'string');
  const devices = fileURLToPath(new URL('../../profiles/local/devices.csv', import.meta.url));
  const validate = (...extra: string[]) => placer('validate', file, '--model', 'mlp', '--devices', devices, '--steps', '1', '--warmup', '1', ...extra);
  for (const m of [0, 'abc', 1e9]) {
    writeFileSync(file, JSON.stringify({ ...original, microBatches: m }));
    refused(validate(), /placement\.json: "microBatches": expected a whole number from 1 to 1000000/);
  }
  writeFileSync(file, JSON.stringify({ ...original, stages: original.stages.map((s: object, i: number) => (i === 0 ? { ...s, replicas: 1000 } : s)) }));
  refused(validate(), /stages\[0\]\.replicas: 1000 replicas, but a micro-batch of mlp has \d+ rows/);
  writeFileSync(file, JSON.stringify(original));
  const other = join(dir, 'other-profile.csv');
  writeFileSync(other, readFileSync(original.profileFile, 'utf8').replace(/\n([^,\n]+,[^,\n]+,)([0-9.]+)/, (_, head, ms) => `\n${head}${Number(ms) * 2}`));
  refused(validate('--profile', other), /--profile .*other-profile\.csv is not the profile .* was made with/);
  writeFileSync(join(dir, 'validation.json'), '{}');
  refused(validate(), /validation\.json exists \(an earlier validation\): give --force/);
});
