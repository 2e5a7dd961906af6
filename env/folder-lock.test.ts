import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_FILE, lockFolder } from './folder-lock.js';
import { UserError } from './errors.js';
import { prepareOutputFolder, temporaryName } from './atomic-write.js';

test('a folder locked by a live process is refused; a dead one is taken over with a message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-lock-'));
  // The parent (the test runner) is alive.
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
  assert.throws(() => lockFolder(dir, '--out', () => {}), (error: Error) => error instanceof UserError && /in use by another placer run \(pid \d+/.test(error.message));
  // A pid that has exited.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(join(dir, LOCK_FILE), `${dead}\n`);
  const said: string[] = [];
  const lock = lockFolder(dir, '--out', (line) => said.push(line));
  assert.match(said.join('\n'), /taking over the lock of a run that is gone/);
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
  lock.release();
  assert.ok(!existsSync(join(dir, LOCK_FILE)));
});

test('temporary names differ per call (pid, thread, counter, random)', () => {
  const names = new Set(Array.from({ length: 100 }, () => temporaryName('/x/placement.json')));
  assert.equal(names.size, 100);
});

test('an output folder that is a file, under a file or under /proc is refused at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-out-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  assert.throws(() => prepareOutputFolder(file), /--out .*a-file: cannot write there \(.*exists and is a file/);
  assert.throws(() => prepareOutputFolder(join(file, 'sub')), /a part of the path is a file/);
  // Node's own recursive mkdir never returns here.
  if (existsSync('/proc/self')) assert.throws(() => prepareOutputFolder('/proc/placer-test/x'), UserError);
});
