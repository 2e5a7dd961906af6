import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, Simulator } from './simulate.js';
import { DEFAULT_SETTINGS, type Problem, type Settings } from './problem.js';

/** 3 layers, 2 types; numbers chosen so every term of the model (README, "The model the simulator scores") can be checked by hand. */
export function handProblem(): Problem {
  return {
    layers: [
      { name: 'a', paramBytes: 100, activationBytes: 1000 },
      { name: 'b', paramBytes: 200, activationBytes: 2000 },
      { name: 'c', paramBytes: 300, activationBytes: 500 },
    ],
    types: [
      { name: 'cpu', pricePerHour: 1, count: 4, memoryBytes: 1e9, bandwidthBytesPerS: 1e6 },
      { name: 'gpu', pricePerHour: 3, count: 2, memoryBytes: 1e9, bandwidthBytesPerS: 2e6 },
    ],
    // [layer][type]: cpu, gpu
    forwardMs: Float64Array.from([10, 2, 20, 4, 30, 6]),
    backwardMs: Float64Array.from([20, 4, 40, 8, 60, 12]),
  };
}

const settings: Settings = { ...DEFAULT_SETTINGS, microBatches: 4 };

test('a two-stage placement with replicas scores as worked out by hand', () => {
  const result = evaluate(handProblem(), settings, [
    { type: 1, replicas: 2, first: 0, last: 1 },
    { type: 0, replicas: 1, first: 2, last: 2 },
  ]);
  // stage 1: f = (2+4)/2 = 3, b = (4+8)/2 = 6, all-reduce = 2·1/2 · 300 B / 2e6 B/s · 1000 = 0.15 ms
  // link: 2000 B / min(2e6, 1e6) · 1000 = 2 ms each way; stage 2: f = 30, b = 60
  // step = (3+6) + (2+2) + (30+60) + 3·(30+60) + 0.15 = 373.15
  assert.ok(Math.abs(result.stepMs! - 373.15) < 1e-9);
  assert.equal(result.pricePerHour, 7);
  assert.ok(Math.abs(result.costPerStep! - (7 * 373.15) / 3_600_000) < 1e-15);
  assert.equal(result.stages[0].memoryBytes, 400 + 2000 + 800 + 4000);
  assert.equal(result.stages[1].memoryBytes, 1200 + 2000);
  assert.deepEqual(result.linkMs, [2]);
  assert.deepEqual(result.bottleneck, { kind: 'stage', index: 1 });
  assert.equal(result.feasible, true);
  assert.deepEqual(result.violations, []);
});

test('a budget below the price makes the placement infeasible with a readable reason', () => {
  const result = evaluate(handProblem(), { ...settings, budget: 5 }, [{ type: 1, replicas: 2, first: 0, last: 2 }]);
  assert.equal(result.feasible, false);
  assert.deepEqual(result.violations, ['price 6 $/h is over the budget of 5 $/h']);
});

test('a deadline binds the cost objective', () => {
  // one stage on cpu: f = 60, b = 120; step = 180 + 3·180 = 720 ms
  const slow = evaluate(handProblem(), { ...settings, objective: 'cost', deadline: 100 }, [
    { type: 0, replicas: 1, first: 0, last: 2 },
  ]);
  assert.equal(slow.feasible, false);
  assert.match(slow.violations[0], /^step time 720 ms is over the deadline of 100 ms$/);
});

test('too many units and too little memory are both reported', () => {
  const problem = handProblem();
  problem.types[1].memoryBytes = 1000;
  const result = evaluate(problem, settings, [
    { type: 1, replicas: 2, first: 0, last: 0 },
    { type: 1, replicas: 1, first: 1, last: 2 },
  ]);
  assert.equal(result.feasible, false);
  assert.equal(result.violations.length, 3);
  assert.match(result.violations[2], /uses 3 units of "gpu", only 2 available/);
});

test('a layer on a type missing from the profile is infeasible and has no step time', () => {
  const problem = handProblem();
  problem.forwardMs[1 * 2 + 1] = NaN;
  problem.backwardMs[1 * 2 + 1] = NaN;
  const result = evaluate(problem, settings, [{ type: 1, replicas: 1, first: 0, last: 2 }]);
  assert.equal(result.feasible, false);
  assert.equal(result.stepMs, null);
  assert.match(result.violations[0], /layer "b" cannot run on type "gpu"/);
});

test('the fast assignment path and the report agree exactly', () => {
  const problem = handProblem();
  const sim = new Simulator(problem, settings);
  const step = sim.scoreAssignment([1, 1, 0]);
  const report = evaluate(problem, settings, [
    { type: 1, replicas: 1, first: 0, last: 1 },
    { type: 0, replicas: 1, first: 2, last: 2 },
  ]);
  assert.equal(step, report.stepMs);
});

test('times, prices and counts too large for float64 read as infeasible with a violation, never feasible', () => {
  const huge = handProblem();
  huge.forwardMs = Float64Array.from([1e308, 2, 1e308, 4, 30, 6]);
  for (const sim of [new Simulator(huge, settings)]) {
    sim.scoreAssignment([0, 0, 0]);
    assert.equal(sim.feasible, false);
    assert.ok(sim.violation > 0);
  }
  const slow = evaluate(huge, settings, [{ type: 0, replicas: 1, first: 0, last: 2 }]);
  assert.equal(slow.feasible, false);
  assert.equal(slow.stepMs, null);
  assert.match(slow.violations.join(' '), /too large to compute/);

  const dear = handProblem();
  dear.types[1] = { ...dear.types[1], pricePerHour: 1e308 };
  const pricey = evaluate(dear, settings, [{ type: 1, replicas: 2, first: 0, last: 2 }]);
  assert.equal(pricey.feasible, false);
  assert.match(pricey.violations.join(' '), /too large to compute/);
  const sim = new Simulator(dear, settings);
  sim.scoreAssignment([1, 1, 1]);
  assert.equal(sim.feasible, false, 'the price is finite but the cost per step is not');
  sim.loadPlacement([{ type: 1, replicas: 2, first: 0, last: 2 }]);
  sim.score();
  assert.equal(sim.feasible, false);
});

test('replicas and counts beyond 2^31 do not wrap', () => {
  const problem = handProblem();
  problem.types[0] = { ...problem.types[0], count: 2 };
  const report = evaluate(problem, settings, [{ type: 0, replicas: 3_000_000_000, first: 0, last: 2 }]);
  assert.equal(report.feasible, false);
  assert.ok(report.pricePerHour === 3_000_000_000);
  assert.match(report.violations.join(' '), /uses 3000000000 units of "cpu", only 2 available/);
});
