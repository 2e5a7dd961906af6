import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../env/errors.js';
import { PolicyNetwork } from './policy.js';
import { loadPolicy, savePolicy } from './policy-io.js';

async function saved(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'placer-policy-io-'));
  const policy = PolicyNetwork.create({}, 5);
  await savePolicy(policy, dir);
  policy.dispose();
  return dir;
}

const refused = (pattern: RegExp) => (error: Error) => error instanceof UserError && pattern.test(error.message);

test('a corrupt weights.bin (truncated, trailing bytes, empty) is refused naming it', async () => {
  let dir = await saved();
  truncateSync(join(dir, 'weights.bin'), 10);
  await assert.rejects(loadPolicy(dir), refused(/weights\.bin: 10 bytes, but .*model\.json describes \d+ \(truncated\)/));
  dir = await saved();
  appendFileSync(join(dir, 'weights.bin'), Buffer.alloc(12));
  await assert.rejects(loadPolicy(dir), refused(/weights\.bin: \d+ bytes, .*\(trailing bytes\)/));
  dir = await saved();
  truncateSync(join(dir, 'weights.bin'), 0);
  await assert.rejects(loadPolicy(dir), refused(/weights\.bin: 0 bytes/));
});

test('a garbage model.json is refused naming it', async () => {
  const dir = await saved();
  const model = join(dir, 'model.json');
  const json = JSON.parse(readFileSync(model, 'utf8'));
  writeFileSync(model, JSON.stringify({ ...json, weightsManifest: [{ paths: ['../../etc/passwd'], weights: [] }] }));
  await assert.rejects(loadPolicy(dir), refused(/model\.json: "weightsManifest" names a file outside its folder/));
  writeFileSync(model, '[]');
  await assert.rejects(loadPolicy(dir), refused(/model\.json: expected a model\.json written by placer, got a list/));
  writeFileSync(model, '');
  await assert.rejects(loadPolicy(dir), refused(/model\.json: file is empty/));
  await assert.rejects(loadPolicy(join(dir, 'nope')), refused(/nope: no such folder/));
});
