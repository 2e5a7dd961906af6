import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../agent/backend.js';
import { SEARCHER_NAMES } from '../agent/searchers.js';
import { UserError } from '../env/errors.js';
import { paretoFront } from './pareto.js';
import { runOne } from './run-one.js';
import { expandRuns, parseShard, pendingRuns, resultPath, shardRuns, type RunSpec } from './runs.js';
import { configFileOf } from './runner.js';
import { loadSweepConfig, SWEEP_KINDS, validateSweepConfig } from './config.js';

const budgetConfig = {
  sweep: 'budget',
  description: 'test',
  problems: ['toy'],
  methods: ['exact', 'greedy', 'random'],
  seeds: [1, 2],
  maxEvaluations: 50,
  exactTimeLimitS: 5,
  runTimeLimitS: 30,
  microBatches: 8,
  budgetPoints: 3,
};

const errorOf = (raw: unknown, quick = false) => {
  try {
    validateSweepConfig(raw, 'test.json', quick);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.message;
  }
  return assert.fail('expected the config to be rejected');
};

describe('sweep config validation', () => {
  it('the committed configs load, full and quick', () => {
    for (const sweep of SWEEP_KINDS) {
      for (const quick of [false, true]) assert.equal(loadSweepConfig(configFileOf(sweep), quick).sweep, sweep);
    }
  });

  it('names the file and the key in one line', () => {
    assert.equal(errorOf({ ...budgetConfig, seeds: [0] }), 'test.json: seeds: expected a non-empty list of positive integers, got [0]');
    assert.equal(errorOf({ ...budgetConfig, maxEvaluations: '100' }), 'test.json: maxEvaluations: expected a positive integer, got "100"');
    assert.equal(errorOf({ ...budgetConfig, sweep: 'budgets' }), 'test.json: sweep: expected one of budget, scaling, seeds, got "budgets"');
    const { budgetPoints: _, ...noPoints } = budgetConfig;
    assert.equal(errorOf(noPoints), 'test.json: budgetPoints: missing');
    assert.equal(errorOf([]), 'test.json: expected a JSON object');
  });

  it('rejects unknown keys, problems and methods, listing the known ones', () => {
    assert.match(errorOf({ ...budgetConfig, budgetPoint: 3 }), /^test\.json: budgetPoint: unknown key \(known: sweep, description, /);
    assert.match(errorOf({ ...budgetConfig, problems: ['nope'] }), /^test\.json: problems: unknown problem "nope" \(known: .*toy/);
    assert.match(errorOf({ ...budgetConfig, methods: ['exakt'] }), /^test\.json: methods: unknown method "exakt" \(known: /);
  });

  it('checks the quick overrides too, and applies them only with --quick', () => {
    assert.equal(errorOf({ ...budgetConfig, quick: { maxEvaluations: -1 } }), 'test.json: quick.maxEvaluations: expected a positive integer, got -1');
    const raw = { ...budgetConfig, quick: { maxEvaluations: 7 } };
    assert.equal(validateSweepConfig(raw, 'x', false).maxEvaluations, 50);
    assert.equal(validateSweepConfig(raw, 'x', true).maxEvaluations, 7);
  });

  it('"all" means every registered method, less the excluded ones', () => {
    const config = validateSweepConfig({ ...budgetConfig, methods: 'all', excludeMethods: ['greedy'] }, 'x');
    assert.deepEqual(config.methods, SEARCHER_NAMES.filter((m) => m !== 'greedy'));
  });

  it('says when the synthetic generator cannot make that many types', () => {
    const scaling = { sweep: 'scaling', description: '', methods: 'all', seeds: [1], maxEvaluations: 1, exactTimeLimitS: 1, runTimeLimitS: 1, microBatches: 8, layers: [10], problemSeed: 1, budgetPosition: 0.5 };
    assert.match(errorOf({ ...scaling, types: [2, 99] }), /^test\.json: types: synthetic generator: types must be an integer in 1\.\.\d+, got \[2,99\]$/);
  });
});

describe('runs and shards', () => {
  const config = validateSweepConfig(budgetConfig, 'x');
  const runs = expandRuns(config);

  it('expands budgets from the cheapest feasible to unconstrained; deterministic methods once', () => {
    const budgets = [...new Set(runs.map((r) => r.budget))];
    assert.equal(budgets.at(-1), null);
    const finite = budgets.filter((b): b is number => b !== null);
    assert.deepEqual(finite, [...finite].sort((a, b) => a - b));
    assert.equal(runs.filter((r) => r.method === 'exact').length, budgets.length);
    assert.equal(runs.filter((r) => r.method === 'random').length, 2 * budgets.length);
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length);
    assert.deepEqual(expandRuns(config), runs);
  });

  it('shards partition the runs: every run in exactly one shard', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), (count) => {
        const seen = new Map<string, number>();
        for (let index = 1; index <= count; index++) {
          for (const run of shardRuns(runs, { index, count })) seen.set(run.id, (seen.get(run.id) ?? 0) + 1);
        }
        return seen.size === runs.length && [...seen.values()].every((n) => n === 1);
      }),
    );
  });

  it('parses --shard i/N and rejects the rest', () => {
    assert.deepEqual(parseShard('2/4'), { index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '1/2/3']) assert.throws(() => parseShard(bad), /--shard: expected i\/N/);
  });

  it('a run whose result file is present is skipped (and only that one)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'placer-exp-'));
    try {
      const first: RunSpec = runs.find((r) => r.method === 'greedy')!;
      assert.equal(pendingRuns(runs, dir).length, runs.length);
      const result = await runOne(first, dir);
      assert.ok(result.feasible);
      // The worker chose the agent's backend as `placer train` does (wasm here, not tfjs's default cpu) and says so.
      assert.equal(result.machine.backend, await selectBackend('auto'));
      assert.equal(tf.getBackend(), result.machine.backend);
      assert.deepEqual(JSON.parse(readFileSync(resultPath(dir, first), 'utf8')).id, first.id);
      const pending = pendingRuns(runs, dir);
      assert.equal(pending.length, runs.length - 1);
      assert.ok(!pending.some((r) => r.id === first.id));
      // A result made for another spec (here: other problem data) does not count.
      const stale = pendingRuns([{ ...first, problemDigest: 'other' }], dir);
      assert.equal(stale.length, 1);
      // Written atomically: no temporary file left beside it.
      const files = readdirSync(dir, { recursive: true, encoding: 'utf8' });
      assert.ok(!files.some((f) => f.endsWith('.tmp')), files.join(', '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Pareto front', () => {
  const p = (pricePerHour: number, stepMs: number) => ({ pricePerHour, stepMs });

  it('keeps the non-dominated points, by price', () => {
    const points = [p(3, 50), p(1, 100), p(2, 100), p(2, 60), p(5, 50), p(4, 20), p(1, 120)];
    assert.deepEqual(paretoFront(points), [p(1, 100), p(2, 60), p(3, 50), p(4, 20)]);
    assert.deepEqual(paretoFront([]), []);
    assert.deepEqual(paretoFront([p(1, 1), p(1, 1)]), [p(1, 1)]);
  });

  it('no point beats a front point on both; every other point is beaten by one', () => {
    const point = fc.record({ pricePerHour: fc.integer({ min: 0, max: 20 }), stepMs: fc.integer({ min: 1, max: 20 }) });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 40 }), (points) => {
        const front = paretoFront(points);
        const dominates = (a: typeof points[0], b: typeof points[0]) =>
          a.pricePerHour <= b.pricePerHour && a.stepMs <= b.stepMs && (a.pricePerHour < b.pricePerHour || a.stepMs < b.stepMs);
        const noneBeatsFront = front.every((f) => !points.some((q) => dominates(q, f)));
        const restBeaten = points.every((q) => front.some((f) => f === q || dominates(f, q) || (f.pricePerHour === q.pricePerHour && f.stepMs === q.stepMs)));
        const sorted = front.every((f, i) => i === 0 || (f.pricePerHour > front[i - 1].pricePerHour && f.stepMs < front[i - 1].stepMs));
        return noneBeatsFront && restBeaten && sorted;
      }),
    );
  });
});

describe('a run stopped at its time limit', () => {
  it('never overwrites a result its worker wrote; replaces a stale file', async () => {
    const { writeTimedOutRecord } = await import('./runs.js');
    const { writeJsonAtomic } = await import('../env/atomic-write.js');
    const runsDir = mkdtempSync(join(tmpdir(), 'placer-timeout-'));
    const run = { id: 'toy/random-s1', sweep: 'seeds', problem: { kind: 'bundled', name: 'toy' }, problemLabel: 'toy', microBatches: 4, budget: null, budgetLabel: 'bundled', method: 'random', seed: 1, maxEvaluations: 10, exactTimeLimitS: 1, runTimeLimitS: 1, problemDigest: 'abc' } as RunSpec;
    const file = resultPath(runsDir, run);
    // Nothing there: the timed-out record is written.
    assert.equal(writeTimedOutRecord(runsDir, run, { ...run, timedOut: true }), true);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).timedOut, true);
    // The worker's result (same spec) is there: kept.
    writeJsonAtomic(file, { ...run, feasible: true, stepMs: 1 });
    assert.equal(writeTimedOutRecord(runsDir, run, { ...run, timedOut: true }), false);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).stepMs, 1);
    // A file of another spec (stale): replaced.
    writeJsonAtomic(file, { ...run, problemDigest: 'old', stepMs: 9 });
    assert.equal(writeTimedOutRecord(runsDir, run, { ...run, timedOut: true }), true);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).timedOut, true);
    assert.deepEqual(readdirSync(join(runsDir, 'seeds', 'toy')), ['random-s1.json']);
    rmSync(runsDir, { recursive: true, force: true });
  });
});
