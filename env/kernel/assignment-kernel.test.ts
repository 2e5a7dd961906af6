/**
 * The WebAssembly kernel behind Simulator.scoreBatch: its committed binary is
 * its source's, and its scores are scoreAssignment's bit for bit (objective
 * and violation) on random problems: both objectives, infeasible rows (budget,
 * deadline, memory, unit counts), unrunnable pairs (NaN), zero times, times too
 * large for the fast path (Infinity), rows of any length around its 64-layer
 * words, batches longer than its window, and rows it hands back to JavaScript.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluate, Simulator } from '../simulate.js';
import { placementFromAssignment, type Problem, type Settings } from '../problem.js';
import { ASSIGNMENT_KERNEL_BASE64 } from './assignment-kernel.wasm.js';
import { ALL_PARTS, assembleKernel } from './build-kernel.js';

test('the committed kernel binary is what wabt makes of assignment-kernel.wat (npm run build:kernel)', async () => {
  const binary = await assembleKernel();
  assert.equal(Buffer.from(binary).toString('base64'), ASSIGNMENT_KERNEL_BASE64);
});

const timeArb = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 100, noNaN: true }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

/** A problem, settings and a batch of rows (runs of types, so stages span word edges and windows alike). */
const batchArb = fc
  .record({
    L: fc.constantFrom(1, 2, 3, 4, 5, 7, 31, 60, 63, 64, 65, 66, 67, 127, 128, 129, 130),
    K: fc.integer({ min: 1, max: 5 }),
    rowCount: fc.integer({ min: 2, max: 40 }),
  })
  .chain(({ L, K, rowCount }) =>
    fc.record({
      L: fc.constant(L),
      K: fc.constant(K),
      times: fc.array(timeArb, { minLength: 2 * L * K, maxLength: 2 * L * K }),
      params: fc.array(fc.integer({ min: 0, max: 1e9 }), { minLength: L, maxLength: L }),
      activations: fc.array(fc.integer({ min: 0, max: 1e8 }), { minLength: L, maxLength: L }),
      types: fc.array(
        fc.record({
          pricePerHour: fc.double({ min: 0, max: 10, noNaN: true }),
          count: fc.integer({ min: 1, max: 8 }),
          memoryBytes: fc.double({ min: 1e8, max: 8e10, noNaN: true }),
          bandwidthBytesPerS: fc.double({ min: 1e6, max: 1e11, noNaN: true }),
        }),
        { minLength: K, maxLength: K },
      ),
      runs: fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: K - 1 }), fc.integer({ min: 1, max: 20 })), { minLength: 1, maxLength: 30 }), {
        minLength: rowCount,
        maxLength: rowCount,
      }),
      microBatches: fc.integer({ min: 1, max: 16 }),
      objective: fc.constantFrom<Settings['objective']>('time', 'cost'),
      limit: fc.double({ min: 0.5, max: 2000, noNaN: true }),
      // Unrunnable pairs (NaN): none, or every so many cells.
      nanEvery: fc.constantFrom(0, 0, 29, 211),
      huge: fc.integer({ min: 0, max: 4 }).map((x) => x === 0),
    }),
  )
  .map(({ L, K, times, params, activations, types, runs, microBatches, objective, limit, nanEvery, huge }) => {
    const forwardMs = Float64Array.from(times.slice(0, L * K), (t, i) => (nanEvery > 0 && (i * 7919) % nanEvery === 3 ? NaN : t));
    // Sometimes a time too large for prefix sums: every row then goes the layer-order way.
    if (huge) forwardMs[(L * K) >> 1] = Infinity;
    const problem: Problem = {
      layers: params.map((paramBytes, l) => ({ name: `l${l}`, paramBytes, activationBytes: activations[l] })),
      types: types.map((t, k) => ({ name: `t${k}`, ...t })),
      forwardMs,
      // A pair missing from the profile is NaN both ways (as the loader makes it).
      backwardMs: Float64Array.from(times.slice(L * K), (t, i) => (Number.isNaN(forwardMs[i]) ? NaN : t)),
    };
    const settings: Settings =
      objective === 'time'
        ? { microBatches, objective, budget: limit / 100, deadline: Infinity }
        : { microBatches, objective, budget: Infinity, deadline: limit };
    const rows = new Int32Array(runs.length * L);
    runs.forEach((row, i) => {
      let l = 0;
      for (let r = 0; l < L; r = (r + 1) % row.length) for (let n = 0; n < row[r][1] && l < L; n++) rows[i * L + l++] = row[r][0];
    });
    return { problem, settings, rows, count: runs.length };
  });

test('scoreBatch (the kernel) gives scoreAssignment\'s objective and violation bit for bit, and leaves the last row loaded', () => {
  fc.assert(
    fc.property(batchArb, ({ problem, settings, rows, count }) => {
      const L = problem.layers.length;
      const sim = new Simulator(problem, settings);
      const objectives = new Float64Array(count);
      const violations = new Float64Array(count);
      sim.scoreBatch(rows, count, objectives, violations);
      const after = [sim.stageCount, sim.stepMs, sim.pricePerHour, sim.violation, sim.feasible, Array.from(sim.unitsUsed)];
      const one = new Simulator(problem, settings);
      for (let i = 0; i < count; i++) {
        const row = rows.subarray(i * L, (i + 1) * L);
        const objective = one.scoreAssignment(row);
        assert.ok(Object.is(objectives[i], objective), `row ${i}: ${objectives[i]} vs ${objective}`);
        assert.ok(Object.is(violations[i], one.violation), `row ${i}: violation ${violations[i]} vs ${one.violation}`);
        // And the model's own arithmetic (evaluate): the same feasibility, the objective to 1e-9.
        const report = evaluate(problem, settings, placementFromAssignment(row));
        assert.equal(violations[i] === 0, report.feasible);
        const exact = settings.objective === 'time' ? report.stepMs : report.costPerStep;
        if (exact === null) assert.ok(!(violations[i] === 0));
        else if (Number.isFinite(objectives[i])) assert.ok(Math.abs(objectives[i] - exact) <= 1e-9 * Math.abs(exact), `${objectives[i]} vs ${exact}`);
      }
      assert.deepEqual(after, [one.stageCount, one.stepMs, one.pricePerHour, one.violation, one.feasible, Array.from(one.unitsUsed)]);
      for (let s = 0; s < one.stageCount; s++) assert.deepEqual([sim.stageType[s], sim.stageFirst[s], sim.stageLast[s]], [one.stageType[s], one.stageFirst[s], one.stageLast[s]]);
    }),
    { numRuns: 300 },
  );
});

/** A chain where every layer has the same times, memory and type: runs of equal length score alike. */
function evenProblem(L: number, K: number, memoryBytes: number): Problem {
  return {
    layers: Array.from({ length: L }, (_, l) => ({ name: `l${l}`, paramBytes: 1000, activationBytes: 500 })),
    types: Array.from({ length: K }, (_, k) => ({ name: `t${k}`, pricePerHour: 1 + k, count: 50, memoryBytes, bandwidthBytesPerS: 1e9 })),
    forwardMs: new Float64Array(L * K).fill(1.5),
    backwardMs: new Float64Array(L * K).fill(3),
  };
}

test('rows too close to a limit are handed back to JavaScript (layer order) and still match, across windows', () => {
  const L = 64;
  const K = 3;
  // Memory of one layer: 4 × 1000 + 8 × 500 = 8000 bytes; a capacity of exactly 4 layers puts every
  // 4-layer stage on the limit, the case the kernel must not decide.
  const problem = evenProblem(L, K, 4 * 8000);
  const settings: Settings = { microBatches: 8, objective: 'time', budget: Infinity, deadline: Infinity };
  const count = 3000; // more rows than one window of the kernel holds
  const rows = new Int32Array(count * L);
  for (let i = 0; i < count; i++) {
    const run = 1 + (i % 6);
    for (let l = 0; l < L; l++) rows[i * L + l] = (Math.floor(l / run) + i) % K;
  }
  const sim = new Simulator(problem, settings);
  const objectives = new Float64Array(count);
  const violations = new Float64Array(count);
  sim.scoreBatch(rows, count, objectives, violations);
  assert.ok(sim.recomputed > 0, 'some rows were recomputed in layer order');
  const one = new Simulator(problem, settings);
  let feasible = 0;
  for (let i = 0; i < count; i++) {
    assert.ok(Object.is(objectives[i], one.scoreAssignment(rows.subarray(i * L, (i + 1) * L))), `row ${i}`);
    assert.ok(Object.is(violations[i], one.violation), `row ${i}`);
    if (violations[i] === 0) feasible++;
  }
  assert.ok(feasible > 0 && feasible < count, `${feasible} feasible rows of ${count}`);
});

test('a deadline met exactly is decided in layer order, as scoreAssignment decides it', () => {
  const L = 10;
  const problem = evenProblem(L, 2, 1e12);
  const probe = new Simulator(problem, { microBatches: 4, objective: 'time', budget: Infinity, deadline: Infinity });
  const row = Int32Array.from({ length: L }, (_, l) => (l < 5 ? 0 : 1));
  probe.scoreAssignment(row);
  const settings: Settings = { microBatches: 4, objective: 'cost', budget: Infinity, deadline: probe.stepMs };
  const rows = new Int32Array(2 * L);
  rows.set(row);
  rows.set(row, L);
  const sim = new Simulator(problem, settings);
  const objectives = new Float64Array(2);
  const violations = new Float64Array(2);
  sim.scoreBatch(rows, 2, objectives, violations);
  const one = new Simulator(problem, settings);
  const objective = one.scoreAssignment(row);
  assert.deepEqual([...objectives, ...violations], [objective, objective, one.violation, one.violation]);
  assert.equal(one.feasible, evaluate(problem, settings, placementFromAssignment(row)).feasible);
});

test('every build with a part left out (the benchmark\'s ablations) scores what the full kernel scores', async () => {
  const builds = await Promise.all(
    (['simd', 'integerMaxima'] as const).map(async (part) => new WebAssembly.Module(await assembleKernel({ ...ALL_PARTS, [part]: false }))),
  );
  fc.assert(
    fc.property(batchArb, ({ problem, settings, rows, count }) => {
      const full = new Simulator(problem, settings);
      const want = { objectives: new Float64Array(count), violations: new Float64Array(count) };
      full.scoreBatch(rows, count, want.objectives, want.violations);
      for (const build of builds) {
        const sim = new Simulator(problem, settings);
        if (!sim.useKernelModule(build)) continue;
        const got = { objectives: new Float64Array(count), violations: new Float64Array(count) };
        sim.scoreBatch(rows, count, got.objectives, got.violations);
        for (let i = 0; i < count; i++) {
          assert.ok(Object.is(got.objectives[i], want.objectives[i]) && Object.is(got.violations[i], want.violations[i]), `row ${i}`);
        }
      }
    }),
    { numRuns: 60 },
  );
});

test('without WebAssembly (node --jitless) scoreBatch scores in JavaScript, the same numbers', () => {
  const problem = evenProblem(70, 3, 5 * 8000);
  // Finite limits: JSON carries them to the child as they are (Infinity would become null).
  const settings: Settings = { microBatches: 8, objective: 'time', budget: 9, deadline: 1e300 };
  const L = 70;
  const count = 50;
  const rows = Int32Array.from({ length: count * L }, (_, i) => Math.floor((i % L) / (1 + ((i / L) | 0) % 7)) % 3);
  const objectives = new Float64Array(count);
  const violations = new Float64Array(count);
  new Simulator(problem, settings).scoreBatch(rows, count, objectives, violations);
  const simulator = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'simulate.js')).href;
  const script = `
    const { Simulator } = await import(${JSON.stringify(simulator)});
    const [problem, settings, rows] = JSON.parse(process.argv[1]);
    problem.forwardMs = Float64Array.from(problem.forwardMs);
    problem.backwardMs = Float64Array.from(problem.backwardMs);
    const o = new Float64Array(${count}), v = new Float64Array(${count});
    new Simulator(problem, settings).scoreBatch(Int32Array.from(rows), ${count}, o, v);
    console.log(JSON.stringify([typeof WebAssembly, Array.from(o), Array.from(v)]));`;
  const input = JSON.stringify([{ ...problem, forwardMs: Array.from(problem.forwardMs), backwardMs: Array.from(problem.backwardMs) }, settings, Array.from(rows)]);
  const child = spawnSync(process.execPath, ['--jitless', '--no-warnings', '--input-type=module', '-e', script, input], { encoding: 'utf8' });
  assert.equal(child.status, 0, child.stderr);
  assert.deepEqual(JSON.parse(child.stdout), ['undefined', Array.from(objectives), Array.from(violations)]);
});
