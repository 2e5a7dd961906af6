import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPlacement, loadProblem, parseAssignment } from './load.js';
import { UserError } from './errors.js';

const LAYERS = 'name,param_bytes,activation_bytes\nconv1,100,1000\nfc,200,50\n';
const DEVICES = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ncpu,0.5,4,1e9,1e9\ngpu,3,2,16e9,1e10\n';
const PROFILE = 'layer,type,forward_ms,backward_ms\nconv1,cpu,10,20\nconv1,gpu,1,2\nfc,cpu,3,6\n';

function write(files: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'placer-load-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { layers: join(dir, 'layers.csv'), devices: join(dir, 'devices.csv'), profile: join(dir, 'profile.csv'), dir };
}

function errorOf(files: Record<string, string>): string {
  const paths = write({ 'layers.csv': LAYERS, 'devices.csv': DEVICES, 'profile.csv': PROFILE, ...files });
  try {
    loadProblem(paths);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return (error as Error).message.replaceAll(paths.dir + '/', '');
  }
  assert.fail('expected an error');
}

test('reads the three files: missing profile pairs become NaN (cannot run)', () => {
  const problem = loadProblem(write({ 'layers.csv': LAYERS, 'devices.csv': DEVICES, 'profile.csv': PROFILE }));
  assert.deepEqual(problem.layers.map((l) => l.name), ['conv1', 'fc']);
  assert.equal(problem.types[0].memoryBytes, 1e9);
  assert.deepEqual(Array.from(problem.forwardMs), [10, 1, 3, NaN]);
});

test('accepts CRLF, a BOM, spaces around cells, extra columns, upper-case headers and blank lines', () => {
  const layers = '\uFEFFName , param_bytes,activation_bytes, note\r\n conv1 , 100 ,1000, x\r\n\r\nfc,200,50,y\r\n';
  const devices = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend,zone\r\ncpu,0.5,4,1e9,1e9,cpu,a\r\ngpu,3,2,16e9,1e10,,b\r\n';
  const problem = loadProblem(write({ 'layers.csv': layers, 'devices.csv': devices, 'profile.csv': PROFILE }));
  assert.equal(problem.layers[0].name, 'conv1');
  assert.equal(problem.layers[0].paramBytes, 100);
  assert.equal(problem.types[0].backend, 'cpu');
  assert.equal(problem.types[1].backend, undefined);
});

test('bad input gives one line naming file, row and column', () => {
  assert.equal(errorOf({ 'layers.csv': 'name,param_bytes,activation_bytes\nconv1,100,1000\nfc,x0.5,50\n' }),
    'layers.csv row 3, column param_bytes: expected a number >= 0, got "x0.5"');
  assert.equal(errorOf({ 'layers.csv': 'name,param_bytes,activation_bytes\nconv1,100,1000\nconv1,1,1\n' }),
    'layers.csv row 3, column name: duplicate layer "conv1" (first on row 2)');
  assert.equal(errorOf({ 'devices.csv': 'type,price_per_hour,count,memory_bytes\ncpu,1,1,1\n' }),
    'devices.csv row 1, column bandwidth_bytes_per_s: missing column "bandwidth_bytes_per_s" (the header has: type, price_per_hour, count, memory_bytes)');
  assert.equal(errorOf({ 'devices.csv': DEVICES + 'cpu,1,1,1,1\n' }), 'devices.csv row 4, column type: duplicate type "cpu" (first on row 2)');
  assert.equal(errorOf({ 'devices.csv': DEVICES.replace('cpu,0.5,4', 'cpu,0x5,4') }), 'devices.csv row 2, column price_per_hour: expected a number >= 0, got "0x5"');
  assert.equal(errorOf({ 'devices.csv': DEVICES.replace('1e9,1e9', '1e9,Infinity') }), 'devices.csv row 2, column bandwidth_bytes_per_s: expected a number > 0, got "Infinity"');
  assert.equal(errorOf({ 'devices.csv': DEVICES.replace('cpu,0.5,4', 'cpu,0.5,2.5') }), 'devices.csv row 2, column count: expected a whole number >= 0, got "2.5"');
  assert.equal(errorOf({ 'profile.csv': PROFILE + 'fc,gpu,-1,2\n' }), 'profile.csv row 5, column forward_ms: expected a number >= 0, got "-1"');
  assert.equal(errorOf({ 'profile.csv': PROFILE + 'fc2,gpu,1,2\n' }), 'profile.csv row 5, column layer: unknown layer "fc2" (not in layers.csv)');
  assert.equal(errorOf({ 'profile.csv': PROFILE + 'fc,tpu,1,2\n' }), 'profile.csv row 5, column type: unknown type "tpu" (not in devices.csv)');
  assert.equal(errorOf({ 'profile.csv': PROFILE + 'fc,cpu,1,2\n' }), 'profile.csv row 5, column layer: duplicate row for layer "fc" on type "cpu" (first on row 4)');
  assert.equal(errorOf({ 'profile.csv': 'layer,type,forward_ms,backward_ms\nconv1,cpu,1,2\n' }),
    'profile.csv column layer: layer "fc" (row 3 of layers.csv) has no row: no type can run it');
  assert.equal(errorOf({ 'layers.csv': '' }), 'layers.csv: file is empty');
  assert.equal(errorOf({ 'layers.csv': 'name,param_bytes,activation_bytes\n' }), 'layers.csv: no data rows after the header');
  assert.match(errorOf({ 'layers.csv': 'name,param_bytes,activation_bytes\nconv1,100\n' }), /^layers\.csv row 2: malformed CSV: /);
  assert.match(errorOf({ 'layers.csv': 'name,param_bytes,activation_bytes\n"conv1,100,1\n' }), /^layers\.csv row \d+: malformed CSV: /);
});

test('a missing file is named', () => {
  const paths = write({ 'devices.csv': DEVICES, 'profile.csv': PROFILE });
  assert.throws(() => loadProblem(paths), (error: Error) => error instanceof UserError && error.message === `${paths.layers}: file not found`);
});

test('--assignment must have one known type per layer', () => {
  const problem = loadProblem(write({ 'layers.csv': LAYERS, 'devices.csv': DEVICES, 'profile.csv': PROFILE }));
  assert.deepEqual(parseAssignment('gpu, cpu', problem), [1, 0]);
  assert.throws(() => parseAssignment('gpu', problem), /^UserError: --assignment: expected 2 types \(one per layer\), got 1$/);
  assert.throws(() => parseAssignment('gpu,tpu', problem), /item 2 \(layer "fc"\): unknown type "tpu" \(types: cpu, gpu\)/);
});

test('a placement file must cover the layers in order', () => {
  const paths = write({ 'layers.csv': LAYERS, 'devices.csv': DEVICES, 'profile.csv': PROFILE });
  const problem = loadProblem(paths);
  const file = join(paths.dir, 'placement.json');
  const stages = (list: unknown[]) => writeFileSync(file, JSON.stringify({ stages: list }));
  stages([{ type: 'gpu', replicas: 2, firstLayer: 'conv1', lastLayer: 'conv1' }, { type: 'cpu', firstLayer: 'fc', lastLayer: 'fc' }]);
  assert.deepEqual(loadPlacement(file, problem), [
    { type: 1, replicas: 2, first: 0, last: 0 },
    { type: 0, replicas: 1, first: 1, last: 1 },
  ]);
  stages([{ type: 'gpu', replicas: 1, firstLayer: 'conv1', lastLayer: 'conv1' }]);
  assert.throws(() => loadPlacement(file, problem), /stages end at layer "conv1"; layers from "fc" on are not covered/);
  stages([{ type: 'gpu', replicas: 1, firstLayer: 'fc', lastLayer: 'fc' }]);
  assert.throws(() => loadPlacement(file, problem), /stages\[0\]\.firstLayer: stages must cover the layers in order; expected "conv1", got "fc"/);
  stages([{ type: 'gpu', replicas: 0, firstLayer: 'conv1', lastLayer: 'fc' }]);
  assert.throws(() => loadPlacement(file, problem), /stages\[0\]\.replicas: expected a whole number >= 1, got 0/);
  writeFileSync(file, '{oops');
  assert.throws(() => loadPlacement(file, problem), /placement\.json: not valid JSON/);
});

test('values that would overflow or wrap are refused at load, naming file, row and column', () => {
  const dev = (row: string) => `type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\n${row}\ngpu,3,2,16e9,1e10\n`;
  // 3e9 units wrapped to a negative count in 32-bit arrays: bounded at 1e6.
  assert.match(errorOf({ 'devices.csv': dev('cpu,0.5,3e9,1e9,1e9') }), /^devices\.csv row 2, column count: expected at most 1000000 .*got "3e9"$/);
  assert.match(errorOf({ 'devices.csv': dev('cpu,1e308,4,1e9,1e9') }), /^devices\.csv row 2, column price_per_hour: expected at most 1e15/);
  assert.match(errorOf({ 'devices.csv': dev('cpu,1,4,1e9,1e-300') }), /^devices\.csv row 2, column bandwidth_bytes_per_s: expected at least 1/);
  assert.match(errorOf({ 'layers.csv': 'name,param_bytes,activation_bytes\nconv1,1e30,1000\nfc,200,50\n' }), /^layers\.csv row 2, column param_bytes: expected at most 1e18/);
  assert.match(errorOf({ 'profile.csv': 'layer,type,forward_ms,backward_ms\nconv1,cpu,1e308,20\nconv1,gpu,1,2\nfc,cpu,3,6\n' }), /^profile\.csv row 2, column forward_ms: expected at most 1e15/);
  // The largest legal values load.
  const paths = write({ 'layers.csv': LAYERS, 'devices.csv': dev('cpu,1e15,1000000,1e18,1e18'), 'profile.csv': PROFILE });
  assert.equal(loadProblem(paths).types[0].count, 1e6);
});

test('a repeated CSV column is refused (it was read from its last copy)', () => {
  const devices = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,count\ncpu,0.5,4,1e9,1e9,3e9\ngpu,3,2,16e9,1e10,2\n';
  assert.equal(errorOf({ 'devices.csv': devices }), 'devices.csv row 1, column count: duplicate column "count" (columns 3 and 6 of the header)');
});

test('rows after a quoted newline keep their line numbers', () => {
  const devices = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\n"c\npu",0.5,4,1e9,1e9\n\ngpu,x,2,16e9,1e10\n';
  assert.equal(errorOf({ 'devices.csv': devices }), 'devices.csv row 5, column price_per_hour: expected a number >= 0, got "x"');
});

test('an unknown backend is refused at load', () => {
  const devices = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend\ncpu,0.5,4,1e9,1e9,cpu\ngpu,3,2,16e9,1e10,quantum\n';
  assert.match(errorOf({ 'devices.csv': devices }), /^devices\.csv row 3, column backend: unknown backend "quantum"/);
});

test('placement.json: huge replicas, non-objects and unreadable files are one line naming the file', () => {
  const paths = write({ 'layers.csv': LAYERS, 'devices.csv': DEVICES, 'profile.csv': PROFILE });
  const problem = loadProblem(paths);
  const messageOf = (text: string | null, name = 'p.json') => {
    const file = join(paths.dir, name);
    if (text !== null) writeFileSync(file, text);
    try {
      loadPlacement(file, problem);
    } catch (error) {
      assert.ok(error instanceof UserError, String(error));
      return (error as Error).message.replaceAll(paths.dir + '/', '');
    }
    assert.fail('expected an error');
  };
  const stages = (replicas: unknown) => JSON.stringify({ stages: [{ type: 'gpu', replicas, firstLayer: 'conv1', lastLayer: 'fc' }] });
  assert.equal(messageOf(stages(3e9)), 'p.json: stages[0].replicas: expected at most 1000000, got 3000000000');
  assert.equal(messageOf(stages(1e20)), 'p.json: stages[0].replicas: expected at most 1000000, got 100000000000000000000');
  assert.equal(messageOf(JSON.stringify({ stages: [null] })), 'p.json: stages[0]: expected an object with type, replicas, firstLayer, lastLayer');
  assert.equal(messageOf(''), 'p.json: file is empty, expected a placement.json');
  assert.match(messageOf(null, '.'), /: is a directory, expected a placement\.json$/);
  assert.equal(messageOf(null, 'missing.json'), 'missing.json: file not found');
});
