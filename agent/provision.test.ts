import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { Simulator } from '../env/simulate.js';
import { DEFAULT_SETTINGS, assignmentOf, type Problem, type Settings } from '../env/problem.js';
import { provision, provisionInPlace } from './provision.js';
import { readPlacement } from './tracker.js';
import { smallProblem } from './chains.fixture.js';

function smallSettings(seed: number): Settings {
  const rng = seedrandom.alea(`settings-${seed}`);
  const microBatches = 1 + Math.floor(rng() * 8);
  return rng() < 0.5
    ? { ...DEFAULT_SETTINGS, microBatches, objective: 'time', budget: 1 + rng() * 12 }
    : { ...DEFAULT_SETTINGS, microBatches, objective: 'cost', deadline: 20 + rng() * 400 };
}

function randomAssignment(seed: number, problem: Problem): number[] {
  const rng = seedrandom.alea(`assignment-${seed}`);
  return problem.layers.map(() => Math.floor(rng() * problem.types.length));
}

/** The simulator's fast (prefix-sum) scores agree with the layer-order ones to 1e-9 relative, not always bit for bit. */
function assertSameScore(layerOrder: number, fast: number): void {
  if (Number.isNaN(layerOrder)) assert.ok(Number.isNaN(fast));
  else assert.ok(Math.abs(layerOrder - fast) <= 1e-9 * Math.abs(layerOrder), `${fast} vs the layer-order ${layerOrder}`);
}

test('provisioning never makes a feasible short form worse, and never exceeds counts or budget', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const problem = smallProblem(seed);
      const settings = smallSettings(seed);
      const sim = new Simulator(problem, settings);
      const assignment = randomAssignment(seed, problem);
      sim.scoreAssignment(assignment);
      const [shortFeasible, shortObjective, shortPrice] = [sim.feasible, sim.objectiveValue, sim.pricePerHour];
      const shortUnits = Array.from(sim.unitsUsed);

      const placement = provision(sim, assignment);
      // Same types per layer, contiguous stages covering every layer.
      assert.deepEqual(assignmentOf(placement, problem.layers.length), assignment);
      placement.forEach((stage, s) => {
        assert.equal(stage.first, s === 0 ? 0 : placement[s - 1].last + 1);
        assert.ok(stage.replicas >= 1 && stage.last >= stage.first);
      });
      assert.equal(placement[placement.length - 1].last, problem.layers.length - 1);
      // The simulator's results are those of the placement it returns.
      const objective = sim.objectiveValue;
      const feasible = sim.feasible;
      assertSameScore(new Simulator(problem, settings).scorePlacement(placement), objective);

      if (shortFeasible) {
        assert.ok(feasible, 'a feasible short form stays feasible');
        assert.ok(objective <= shortObjective * (1 + 1e-9), `objective ${objective} worse than the short form's ${shortObjective}`);
      }
      problem.types.forEach((type, k) => {
        if (shortUnits[k] <= type.count) assert.ok(sim.unitsUsed[k] <= type.count, `type ${k} over its count`);
        else assert.equal(sim.unitsUsed[k], shortUnits[k], 'no unit added to a type already over its count');
      });
      if (settings.objective === 'time' && shortPrice <= settings.budget) assert.ok(sim.pricePerHour <= settings.budget);
    }),
    { numRuns: 300 },
  );
});

test('provisioning repairs a stage that does not fit one unit by adding replicas', () => {
  // One layer whose M stashed outputs need 2 units' worth of memory; 3 units allowed.
  const problem: Problem = {
    layers: [{ name: 'big', paramBytes: 1e6, activationBytes: 1e7 }],
    types: [{ name: 'gpu', pricePerHour: 1, count: 3, memoryBytes: 6e7, bandwidthBytesPerS: 1e10 }],
    forwardMs: Float64Array.from([10]),
    backwardMs: Float64Array.from([20]),
  };
  const settings: Settings = { ...DEFAULT_SETTINGS, microBatches: 8, budget: 2 };
  const sim = new Simulator(problem, settings);
  sim.scoreAssignment([0]);
  assert.equal(sim.feasible, false); // 4e6 + 8e7 bytes > 6e7
  const placement = provision(sim, [0]);
  // Two replicas: 4e6 + 4e7 bytes fit; a third would break the budget of 2 $/h.
  assert.deepEqual(placement, [{ type: 0, replicas: 2, first: 0, last: 0 }]);
  assert.equal(sim.feasible, true);
});

test('provisioning splits a long stage when a pipeline beats data parallelism', () => {
  // Huge parameters make the all-reduce of replicas dear; a split pays only a small link.
  const problem: Problem = {
    layers: [
      { name: 'a', paramBytes: 1e9, activationBytes: 1e3 },
      { name: 'b', paramBytes: 1e9, activationBytes: 1e3 },
    ],
    types: [{ name: 'gpu', pricePerHour: 1, count: 2, memoryBytes: 1e11, bandwidthBytesPerS: 1e9 }],
    forwardMs: Float64Array.from([10, 10]),
    backwardMs: Float64Array.from([20, 20]),
  };
  const sim = new Simulator(problem, { ...DEFAULT_SETTINGS, microBatches: 8 });
  const placement = provision(sim, [0, 0]);
  assert.deepEqual(placement, [
    { type: 0, replicas: 1, first: 0, last: 0 },
    { type: 0, replicas: 1, first: 1, last: 1 },
  ]);
});

test('provisioning stays within maxScores and leaves the simulator consistent', () => {
  const problem = smallProblem(11, 6);
  const settings: Settings = { ...DEFAULT_SETTINGS, budget: 50 };
  const assignment = [0, 0, 0, 0, 0, 0];
  const sim = new Simulator(problem, settings);
  const unlimited = provisionInPlace(sim, assignment);
  assert.ok(unlimited > 3, 'the test needs a climb of several scores');
  for (let maxScores = 1; maxScores <= unlimited; maxScores++) {
    const used = provisionInPlace(sim, assignment, maxScores);
    assert.ok(used <= maxScores, `${used} scores with a limit of ${maxScores}`);
    const objective = sim.objectiveValue;
    assertSameScore(new Simulator(problem, settings).scorePlacement(readPlacement(sim)), objective);
  }
});

test('provisioning is deterministic', () => {
  const problem = smallProblem(5, 6);
  const settings = smallSettings(5);
  const assignment = randomAssignment(5, problem);
  const a = provision(new Simulator(problem, settings), assignment);
  const b = provision(new Simulator(problem, settings), assignment);
  assert.deepEqual(a, b);
});
