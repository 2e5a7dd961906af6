import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newestRows } from './newest-rows.js';

test('newestRows: a repeated key keeps its last row, at the place of its first; other rows untouched', () => {
  const rows = [
    { arm: 'full', seed: 1, value: 10 },
    { arm: 'frozen', seed: 1, value: 11 },
    { arm: 'full', seed: 2, value: 12 },
    { arm: 'full', seed: 1, value: 7 },
  ];
  const out = newestRows(rows, (r) => `${r.arm}|${r.seed}`);
  assert.deepEqual(out.map((r) => r.value), [7, 11, 12]);
  assert.deepEqual(newestRows([], (r: { a: number }) => String(r.a)), []);
});
