import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelSpec } from './model.js';
import { profileModel } from './profile.js';
import { tinyModelSpec } from './tiny-model.fixture.js';

const tiny: ModelSpec = tinyModelSpec(4);

test('profile: one row per (layer, type), from stage chains, non-negative, with the optimizer share', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'placer-profile-test-'));
  const devices = join(dir, 'devices.csv');
  writeFileSync(devices, 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend\nt1,1,1,1000000000,1000000000,cpu\nt2,1,1,1000000000,1000000000,cpu\n');
  const result = await profileModel({ spec: tiny, devicesFile: devices, outDir: join(dir, 'out'), warmup: 1, repeats: 3, concurrent: 2, measureLinks: false });
  assert.deepEqual(result.timings[0].map((t) => t.chainFirst), [0, 0, 0], 'every layer is measured in the chain that starts at the first layer');
  assert.deepEqual(result.timings[1], result.timings[0], 'types on one backend share their measurements');
  const rows = readFileSync(result.files.profile, 'utf8').trim().split('\n');
  assert.equal(rows[0].split(',').slice(0, 4).join(','), 'layer,type,forward_ms,backward_ms');
  assert.equal(rows.length, 1 + 3 * 2);
  for (const row of rows.slice(1)) {
    const [, , forward, backward, , , apply] = row.split(',').map(Number);
    assert.ok(forward >= 0 && backward >= 0 && apply >= 0 && backward >= apply, row);
  }
  const report = JSON.parse(readFileSync(result.files.report, 'utf8')) as { concurrentThreads: number; loadAverage: number[] };
  assert.equal(report.concurrentThreads, 2);
  assert.equal(report.loadAverage.length, 3);
});
