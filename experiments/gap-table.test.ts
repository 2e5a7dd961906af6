import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type GapCell, type GapFile, gapsAgainst, gapTableMarkdown } from './gap-table.js';

describe('gap table', () => {
  it('sets each method against the bound; a method with no feasible run has no gap', () => {
    const runs = [
      { method: 'a', feasible: true, stepMs: 200 },
      { method: 'b', feasible: false, stepMs: 50 },
      { method: 'c', feasible: true, stepMs: 100 },
    ];
    const gaps = gapsAgainst(runs, ['a', 'b', 'c', 'd'], 100, 120);
    assert.deepEqual(gaps.methodGaps, { a: 0.5, b: null, c: 0, d: null });
    assert.equal(gaps.bestKnownStepMs, 100);
    assert.equal(gaps.bestKnownGap, 0);
    // Exact's answer beside the sweep counts for the best known step.
    assert.equal(gapsAgainst([{ method: 'a', feasible: true, stepMs: 200 }], ['a'], 100, 125).bestKnownStepMs, 125);
  });

  it('says whether the sweep is newer than the bounds', () => {
    const cell: GapCell = {
      layers: 10, types: 2, budget: 1, inSweep: true, exactStepMs: 100, exactProven: true, exactSeconds: 1, exactCpuSeconds: 1,
      loadAverage: 1, lowerBound: 100, boundBy: 'exact', exactGap: 0, ...gapsAgainst([{ method: 'a', feasible: true, stepMs: 110 }], ['a'], 100, 100),
    };
    const file: GapFile = { limitS: 60, measuredAt: '2026-01-01', methods: ['a'], cells: [cell] };
    const before = gapTableMarkdown(file);
    assert.match(before, /The bounds are newer than the sweep's runs/);
    assert.match(before, /\| 10 \| 2 \| 9\.09% \| 0 \|/);
    const after = gapTableMarkdown({ ...file, sweepAt: '2026-02-01' });
    assert.match(after, /The sweep's runs \(2026-02-01\) are newer than the bounds/);
    assert.match(after, /exact at the bounds \(60 s\)/);
  });
});
