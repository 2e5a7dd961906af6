/** The roofline estimator: the rule, the catalogue columns and their defaults, cannot_run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../env/errors.js';
import { resolveCatalogue } from './catalogue-path.js';
import { estimateProfile, readCatalogue, type LayerWork } from './roofline.js';

function catalogueFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'placer-estimate-'));
  const file = join(dir, 'devices.csv');
  writeFileSync(file, text);
  return file;
}

const HEADER = 'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,peak_flops_fp32,peak_flops_bf16,memory_bandwidth_bytes_per_s,compute_efficiency,memory_efficiency,overhead_ms,cannot_run';

test('forward = max(compute, memory) + overhead per kernel; backward = twice the work and the kernels', () => {
  const catalogue = readCatalogue(catalogueFile(`${HEADER}\nchip,1,1,1e9,1e9,1e12,4e12,1e11,0.5,0.5,0.01,\n`));
  const layers: LayerWork[] = [
    { name: 'gemm', flops: 1e9, bytesTouched: 1e6, kinds: ['gemm'], kernels: 1 }, // compute: 1e9 / 5e11 = 2 ms
    { name: 'norm', flops: 1e6, bytesTouched: 1e8, kinds: ['memory'], kernels: 3 }, // memory: 1e8 / 5e10 = 2 ms
  ];
  const fp32 = estimateProfile(layers, catalogue, 'fp32');
  assert.ok(Math.abs(fp32.forwardMs[0] - 2.01) < 1e-9);
  assert.ok(Math.abs(fp32.backwardMs[0] - 4.02) < 1e-9);
  assert.ok(Math.abs(fp32.forwardMs[1] - 2.03) < 1e-9);
  assert.ok(Math.abs(fp32.backwardMs[1] - 4.06) < 1e-9);
  const bf16 = estimateProfile(layers, catalogue, 'bf16');
  assert.ok(Math.abs(bf16.forwardMs[0] - 0.51) < 1e-9, 'bf16 peak is 4x');
});

test('per-op-kind efficiency: conv_efficiency and gemm_efficiency override compute_efficiency for their rows', () => {
  const catalogue = readCatalogue(catalogueFile(`${HEADER},conv_efficiency,gemm_efficiency\nchip,1,1,1e9,1e9,1e12,1e12,1e11,0.5,0.5,0,,0.25,1\n`));
  const work = (kinds: string[]): LayerWork => ({ name: kinds.join('+'), flops: 1e9, bytesTouched: 0, kinds, kernels: 1 });
  const est = estimateProfile([work(['conv', 'memory']), work(['gemm']), work(['memory'])], catalogue, 'fp32');
  assert.deepEqual(Array.from(est.forwardMs).map((x) => Math.round(x * 1000) / 1000), [4, 1, 2]);
});

test('cannot_run leaves the pair out; a layer no type can run is a UserError', () => {
  const catalogue = readCatalogue(catalogueFile(`${HEADER}\ncpu,1,1,1e9,1e9,1e12,1e12,1e11,0.5,0.5,0.01,\naccel,1,1,1e9,1e9,1e14,1e14,1e12,0.5,0.5,0.01,embedding\n`));
  const layers: LayerWork[] = [{ name: 'lookup', flops: 0, bytesTouched: 1e6, kinds: ['embedding', 'shape'], kernels: 1 }];
  const est = estimateProfile(layers, catalogue, 'fp32');
  assert.ok(Number.isFinite(est.forwardMs[0]));
  assert.ok(Number.isNaN(est.forwardMs[1]));
  assert.deepEqual(est.excluded, [{ layer: 'lookup', type: 'accel', reason: 'cannot_run lists "embedding"' }]);
  const onlyAccel = readCatalogue(catalogueFile(`${HEADER}\naccel,1,1,1e9,1e9,1e14,1e14,1e12,0.5,0.5,0.01,embedding\n`));
  assert.throws(() => estimateProfile(layers, onlyAccel, 'fp32'), UserError);
});

test('bundled types take their figures from the catalogue; an unknown type without them is named', () => {
  const cloud = readCatalogue(resolveCatalogue('cloud'));
  assert.ok(cloud.types.some((t) => t.name === 'gpu-h100'));
  assert.ok(cloud.rooflines.every((r) => r.from === 'catalogue'));
  const partial = readCatalogue(catalogueFile('type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\ngpu-t4,1,1,1e9,1e9\n'));
  assert.match(partial.rooflines[0].from, /bundled defaults/);
  assert.throws(
    () => readCatalogue(catalogueFile('type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s\nmystery,1,1,1e9,1e9\n')),
    /row 2, column peak_flops_fp32: type "mystery" needs a peak_flops_fp32 value/,
  );
  assert.throws(() => readCatalogue(catalogueFile(`${HEADER}\nx,1,1,1e9,1e9,1e12,1e12,1e11,1.5,0.5,0.01,\n`)), /compute_efficiency: expected a fraction/);
});
