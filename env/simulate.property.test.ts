/** Invariants of the simulator over random problems and placements (fast-check). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { evaluate, Simulator } from './simulate.js';
import { placementFromAssignment, type Placement, type Problem, type Settings } from './problem.js';

const problemArb = fc
  .record({ L: fc.integer({ min: 1, max: 12 }), K: fc.integer({ min: 1, max: 4 }), seed: fc.integer() })
  .chain(({ L, K }) =>
    fc.record({
      layers: fc.array(fc.record({ paramBytes: fc.integer({ min: 0, max: 1e9 }), activationBytes: fc.integer({ min: 0, max: 1e8 }) }), { minLength: L, maxLength: L }),
      types: fc.array(
        fc.record({
          pricePerHour: fc.double({ min: 0, max: 10, noNaN: true }),
          count: fc.integer({ min: 1, max: 8 }),
          memoryBytes: fc.double({ min: 1e6, max: 8e10, noNaN: true }),
          bandwidthBytesPerS: fc.double({ min: 1e6, max: 1e11, noNaN: true }),
        }),
        { minLength: K, maxLength: K },
      ),
      times: fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 2 * L * K, maxLength: 2 * L * K }),
      assignment: fc.array(fc.integer({ min: 0, max: K - 1 }), { minLength: L, maxLength: L }),
      microBatches: fc.integer({ min: 1, max: 16 }),
    }),
  )
  .map(({ layers, types, times, assignment, microBatches }) => {
    const L = layers.length;
    const K = types.length;
    const problem: Problem = {
      layers: layers.map((l, i) => ({ name: `l${i}`, ...l })),
      types: types.map((t, k) => ({ name: `t${k}`, ...t })),
      forwardMs: Float64Array.from(times.slice(0, L * K)),
      backwardMs: Float64Array.from(times.slice(L * K)),
    };
    const settings: Settings = { microBatches, objective: 'time', budget: Infinity, deadline: Infinity };
    return { problem, settings, assignment };
  });

test('the same placement in assignment form and stage form scores the same', () => {
  fc.assert(
    fc.property(problemArb, ({ problem, settings, assignment }) => {
      const sim = new Simulator(problem, settings);
      const fromAssignment = sim.scoreAssignment(assignment);
      const fromStages = evaluate(problem, settings, placementFromAssignment(assignment)).stepMs!;
      // Prefix sums (the fast path) against layer order (the report): 1e-9 relative at most.
      assert.ok(Math.abs(fromAssignment - fromStages) <= 1e-9 * fromStages, `${fromAssignment} vs ${fromStages}`);
    }),
  );
});

test('more replicas never raise memory per replica', () => {
  fc.assert(
    fc.property(problemArb, fc.integer({ min: 1, max: 7 }), ({ problem, settings, assignment }, extra) => {
      const placement = placementFromAssignment(assignment);
      const before = evaluate(problem, settings, placement).stages.map((s) => s.memoryBytes);
      const wider: Placement = placement.map((s) => ({ ...s, replicas: s.replicas + extra }));
      const after = evaluate(problem, settings, wider).stages.map((s) => s.memoryBytes);
      after.forEach((memory, s) => assert.ok(memory <= before[s]));
    }),
  );
});

test('adding a stage cut adds exactly one link', () => {
  fc.assert(
    fc.property(problemArb, ({ problem, settings }) => {
      fc.pre(problem.layers.length >= 2);
      const whole: Placement = [{ type: 0, replicas: 1, first: 0, last: problem.layers.length - 1 }];
      const cut: Placement = [
        { type: 0, replicas: 1, first: 0, last: 0 },
        { type: 0, replicas: 1, first: 1, last: problem.layers.length - 1 },
      ];
      const a = evaluate(problem, settings, whole);
      const b = evaluate(problem, settings, cut);
      assert.equal(a.linkMs.length, 0);
      assert.equal(b.linkMs.length, 1);
      assert.equal(b.linkMs[0], (problem.layers[0].activationBytes / problem.types[0].bandwidthBytesPerS) * 1000);
    }),
  );
});

test('price is additive over stages: replicas × unit price', () => {
  fc.assert(
    fc.property(problemArb, ({ problem, settings, assignment }) => {
      const placement = placementFromAssignment(assignment).map((s, i) => ({ ...s, replicas: 1 + (i % 3) }));
      const report = evaluate(problem, settings, placement);
      const expected = placement.reduce((sum, s) => sum + s.replicas * problem.types[s.type].pricePerHour, 0);
      assert.ok(Math.abs(report.pricePerHour - expected) <= 1e-12 * Math.max(1, expected));
      assert.ok(Math.abs(report.pricePerHour - report.stages.reduce((sum, s) => sum + s.pricePerHour, 0)) <= 1e-12 * Math.max(1, expected));
    }),
  );
});

test('the step is at least the fill-and-drain of the slowest stage and at most all stages in series', () => {
  fc.assert(
    fc.property(problemArb, ({ problem, settings, assignment }) => {
      const report = evaluate(problem, settings, placementFromAssignment(assignment));
      const M = settings.microBatches;
      const slowest = Math.max(...report.stages.map((s) => s.forwardMs + s.backwardMs), ...report.linkMs.map((t) => 2 * t));
      const serial = report.stages.reduce((sum, s) => sum + s.forwardMs + s.backwardMs, 0) + report.linkMs.reduce((sum, t) => sum + 2 * t, 0);
      assert.ok(report.stepMs! >= M * slowest * (1 - 1e-12));
      assert.ok(report.stepMs! <= M * serial * (1 + 1e-12) + 1e-9);
    }),
  );
});

test('prefix-sum scores of any placement (replicas included) agree with layer order, in value and feasibility', () => {
  fc.assert(
    fc.property(problemArb, fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 12, maxLength: 12 }), ({ problem, settings, assignment }, replicas) => {
      const placement = placementFromAssignment(assignment).map((stage, s) => ({ ...stage, replicas: replicas[s] }));
      const sim = new Simulator(problem, { ...settings, budget: 3 });
      sim.loadPlacement(placement);
      const fast = sim.score();
      const [fastFeasible, fastViolation] = [sim.feasible, sim.violation];
      const exact = sim.scoreInLayerOrder();
      assert.ok(Math.abs(fast - exact) <= 1e-9 * exact, `${fast} vs ${exact}`);
      assert.equal(fastFeasible, sim.feasible);
      assert.ok(Math.abs(fastViolation - sim.violation) <= 1e-9 * Math.max(1, sim.violation));
    }),
  );
});

test('scoreBatch gives, row by row, what scoreAssignment gives', () => {
  fc.assert(
    fc.property(problemArb, fc.integer({ min: 1, max: 6 }), ({ problem, settings, assignment }, count) => {
      const L = problem.layers.length;
      const K = problem.types.length;
      const rows = new Int32Array(count * L);
      for (let i = 0; i < count; i++) for (let l = 0; l < L; l++) rows[i * L + l] = (assignment[l] + i * (l % 2)) % K;
      const sim = new Simulator(problem, { ...settings, budget: 2 });
      const objectives = new Float64Array(count);
      const violations = new Float64Array(count);
      sim.scoreBatch(rows, count, objectives, violations);
      const one = new Simulator(problem, { ...settings, budget: 2 });
      for (let i = 0; i < count; i++) {
        assert.equal(objectives[i], one.scoreAssignment(rows.subarray(i * L, (i + 1) * L)));
        assert.equal(violations[i], one.violation);
      }
    }),
  );
});

test('scoreMove gives what scoreAssignment gives for the moved assignment (value, feasibility), and applyMove keeps it so', () => {
  fc.assert(
    fc.property(problemArb, fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 8 }), fc.boolean(), ({ problem, settings, assignment }, moves, tight) => {
      const L = problem.layers.length;
      const K = problem.types.length;
      const constrained: Settings = tight ? { ...settings, budget: 4 } : { ...settings, objective: 'cost', deadline: 300 };
      const sim = new Simulator(problem, constrained);
      const check = new Simulator(problem, constrained);
      const current = assignment.slice();
      sim.setCurrent(current);
      for (const [at, to] of moves) {
        const layer = at % L;
        const type = to % K;
        const fast = sim.scoreMove(layer, type);
        const [feasible, violation] = [sim.feasible, sim.violation];
        const moved = current.slice();
        moved[layer] = type;
        const expected = check.scoreAssignment(moved);
        if (Number.isNaN(expected)) assert.ok(Number.isNaN(fast));
        else assert.ok(Math.abs(fast - expected) <= 1e-9 * Math.abs(expected), `${fast} vs ${expected}`);
        assert.equal(feasible, check.feasible);
        assert.ok(Math.abs(violation - check.violation) <= 1e-9 * Math.max(1, check.violation));
        if ((at + to) % 2 === 0) {
          sim.applyMove(layer, type);
          current[layer] = type;
        }
      }
    }),
  );
});

/** Problems of any length around the fast path's 32-layer chunks (stage ends are found 32 layers at a time), with unrunnable pairs. */
const longProblemArb = fc
  .record({ L: fc.constantFrom(1, 2, 5, 31, 32, 33, 36, 63, 64, 65, 96, 97, 130), K: fc.integer({ min: 1, max: 4 }) })
  .chain(({ L, K }) =>
    fc.record({
      L: fc.constant(L),
      K: fc.constant(K),
      times: fc.array(fc.oneof(fc.double({ min: 0, max: 100, noNaN: true }), fc.constant(NaN)), { minLength: L * K, maxLength: L * K }),
      activation: fc.array(fc.integer({ min: 0, max: 1e8 }), { minLength: L, maxLength: L }),
      // Runs of one type, so stages span chunk edges as well as end on them.
      runs: fc.array(fc.tuple(fc.integer({ min: 0, max: K - 1 }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 40 }),
      memoryBytes: fc.double({ min: 1e8, max: 4e10, noNaN: true }),
      microBatches: fc.integer({ min: 1, max: 16 }),
      budget: fc.double({ min: 0.5, max: 40, noNaN: true }),
    }),
  )
  .map(({ L, K, times, activation, runs, memoryBytes, microBatches, budget }) => {
    const problem: Problem = {
      layers: activation.map((activationBytes, l) => ({ name: `l${l}`, paramBytes: 1e6 * (l % 7), activationBytes })),
      types: Array.from({ length: K }, (_, k) => ({ name: `t${k}`, pricePerHour: 1 + k, count: 3 + k, memoryBytes: memoryBytes * (k + 1), bandwidthBytesPerS: 1e9 * (k + 1) })),
      forwardMs: Float64Array.from(times),
      backwardMs: Float64Array.from(times, (t, i) => (Number.isNaN(t) ? NaN : 2 * t + (i % 3))),
    };
    const assignment: number[] = [];
    for (let r = 0; assignment.length < L; r = (r + 1) % runs.length) {
      for (let n = 0; n < runs[r][1] && assignment.length < L; n++) assignment.push(runs[r][0]);
    }
    const settings: Settings = { microBatches, objective: 'time', budget, deadline: Infinity };
    return { problem, settings, assignment };
  });

test('scoreAssignment over 32-layer chunks: the short form loadAssignment gives, the layer-order score and feasibility', () => {
  fc.assert(
    fc.property(longProblemArb, ({ problem, settings, assignment }) => {
      const sim = new Simulator(problem, settings);
      const fast = sim.scoreAssignment(Int32Array.from(assignment));
      const stages = Array.from({ length: sim.stageCount }, (_, s) => [sim.stageType[s], sim.stageReplicas[s], sim.stageFirst[s], sim.stageLast[s]]);
      const [feasible, violation, units] = [sim.feasible, sim.violation, Array.from(sim.unitsUsed)];
      sim.loadAssignment(assignment);
      const expected = Array.from({ length: sim.stageCount }, (_, s) => [sim.stageType[s], sim.stageReplicas[s], sim.stageFirst[s], sim.stageLast[s]]);
      assert.deepEqual(stages, expected);
      const exact = sim.scoreInLayerOrder();
      if (Number.isNaN(exact)) assert.ok(Number.isNaN(fast));
      else assert.ok(Math.abs(fast - exact) <= 1e-9 * exact, `${fast} vs ${exact}`);
      assert.equal(feasible, sim.feasible);
      assert.ok(Math.abs(violation - sim.violation) <= 1e-9 * Math.max(1, sim.violation), `${violation} vs ${sim.violation}`);
      assert.deepEqual(units, Array.from(sim.unitsUsed));
    }),
    { numRuns: 300 },
  );
});

test('scoreBatch over long rows gives, row by row, what scoreAssignment gives', () => {
  fc.assert(
    fc.property(longProblemArb, fc.integer({ min: 1, max: 5 }), ({ problem, settings, assignment }, count) => {
      const L = problem.layers.length;
      const K = problem.types.length;
      const rows = new Int32Array(count * L);
      for (let i = 0; i < count; i++) for (let l = 0; l < L; l++) rows[i * L + l] = (assignment[l] + i * ((l >> 3) % 2)) % K;
      const sim = new Simulator(problem, settings);
      const objectives = new Float64Array(count);
      const violations = new Float64Array(count);
      sim.scoreBatch(rows, count, objectives, violations);
      const one = new Simulator(problem, settings);
      for (let i = 0; i < count; i++) {
        assert.equal(objectives[i], one.scoreAssignment(Array.from(rows.subarray(i * L, (i + 1) * L))));
        assert.equal(violations[i], one.violation);
      }
    }),
    { numRuns: 100 },
  );
});
