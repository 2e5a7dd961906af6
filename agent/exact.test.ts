import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { allPlacements, bruteForce } from './brute-force.js';
import { hardSmallProblem, randomSmallProblem } from './small-problems.fixture.js';
import { budgetDpBound } from './bounds/budget-dp.js';
import { exactSearcher, smallestFeasibleConstraint, solveExact } from './exact.js';
import { Simulator } from '../env/simulate.js';
import type { Problem, Settings } from '../env/problem.js';
import { syntheticProblem } from '../profiles/synthetic.js';

function randomSettings(seed: number, problem: Problem): Settings {
  const rng = seedrandom.alea(`settings-${seed}`);
  const microBatches = 1 + Math.floor(rng() * 8);
  const totalPrice = problem.types.reduce((sum, t) => sum + t.count * t.pricePerHour, 0);
  if (rng() < 0.5) {
    return { microBatches, objective: 'time', budget: rng() < 0.2 ? Infinity : rng() * totalPrice, deadline: Infinity };
  }
  return { microBatches, objective: 'cost', budget: Infinity, deadline: rng() < 0.2 ? Infinity : 20 + rng() * 400 };
}

test('exact matches brute force on 300 random small problems (both objectives, zero mismatches)', () => {
  let mismatches = 0;
  let feasibleCount = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const problem = randomSmallProblem(seed);
    const settings = randomSettings(seed, problem);
    const brute = bruteForce(problem, settings);
    const exact = solveExact(problem, settings);
    if (brute.best === null) {
      if (exact.placement !== null) mismatches++;
      continue;
    }
    feasibleCount++;
    const sim = new Simulator(problem, settings);
    const objective = exact.placement ? sim.scorePlacement(exact.placement) : Infinity;
    const agrees = exact.placement !== null && sim.feasible && Math.abs(objective - brute.bestObjective) <= 1e-12 * brute.bestObjective;
    if (!agrees) {
      mismatches++;
      assert.fail(`seed ${seed}: exact ${objective} vs brute force ${brute.bestObjective}`);
    }
  }
  assert.equal(mismatches, 0);
  // The generator must exercise both outcomes, or the test proves little.
  assert.ok(feasibleCount > 100 && feasibleCount < 300, `feasible in ${feasibleCount} of 300`);
});

test('the beam pass never claims to be complete and never beats the exact pass', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const problem = randomSmallProblem(seed);
    const settings = randomSettings(seed, problem);
    const beam = solveExact(problem, settings, { beamWidth: 1 });
    const exact = solveExact(problem, settings);
    assert.equal(beam.complete, false);
    assert.ok(beam.value >= exact.value);
  }
});

test('the exact searcher proves its result and reports infeasibility', async () => {
  for (let seed = 1; seed <= 40; seed++) {
    const problem = randomSmallProblem(seed);
    const settings = randomSettings(seed, problem);
    const result = await exactSearcher.search(problem, settings, { seed: 1 });
    const brute = bruteForce(problem, settings);
    assert.equal(result.provenOptimal, true);
    assert.equal(result.feasible, brute.best !== null, `seed ${seed}`);
  }
});

test('the smallest feasible budget makes the problem feasible, and a hair less does not', () => {
  let checked = 0;
  for (let seed = 1; seed <= 80; seed++) {
    const problem = randomSmallProblem(seed);
    const settings: Settings = { microBatches: 4, objective: 'time', budget: 0, deadline: Infinity };
    const least = smallestFeasibleConstraint(problem, settings);
    if (least === null || least === 0) continue;
    checked++;
    assert.notEqual(bruteForce(problem, { ...settings, budget: least }).best, null);
    assert.equal(bruteForce(problem, { ...settings, budget: least * (1 - 1e-9) }).best, null);
  }
  assert.ok(checked > 20);
});

/** Like randomSmallProblem, with 6 layers and counts up to 4 (more replicas, longer chains). */
function randomWiderProblem(seed: number): Problem {
  const base = randomSmallProblem(seed);
  const rng = seedrandom.alea(`wider-${seed}`);
  const L = 6;
  const K = base.types.length;
  const layers = Array.from({ length: L }, (_, l) => ({
    name: `l${l}`,
    paramBytes: Math.round(rng() * 4e6),
    activationBytes: Math.round(rng() * 2e6),
  }));
  const types = base.types.map((type) => ({ ...type, count: 1 + Math.floor(rng() * 4) }));
  const forwardMs = new Float64Array(L * K);
  const backwardMs = new Float64Array(L * K);
  for (let l = 0; l < L; l++) {
    const missing = K > 1 ? Math.floor(rng() * K * 3) : -1;
    for (let k = 0; k < K; k++) {
      forwardMs[l * K + k] = k === missing ? NaN : 0.1 + rng() * 20;
      backwardMs[l * K + k] = k === missing ? NaN : 0.1 + rng() * 40;
    }
  }
  return { layers, types, forwardMs, backwardMs };
}

function agreesWithBruteForce(problem: Problem, settings: Settings, seed: number, label: string): boolean {
  const brute = bruteForce(problem, settings);
  const exact = solveExact(problem, settings);
  if (brute.best === null) {
    assert.equal(exact.placement, null, `${label} seed ${seed}: exact found a placement, brute force none`);
    return false;
  }
  const sim = new Simulator(problem, settings);
  const objective = exact.placement ? sim.scorePlacement(exact.placement) : Infinity;
  assert.ok(
    exact.placement !== null && sim.feasible && Math.abs(objective - brute.bestObjective) <= 1e-12 * brute.bestObjective,
    `${label} seed ${seed}: exact ${objective} vs brute force ${brute.bestObjective}`,
  );
  assert.ok(Math.abs(exact.value - objective) <= 1e-12 * objective, `${label} seed ${seed}: reported value is the simulator's`);
  return true;
}

test('exact matches brute force with 6 layers and counts up to 4 (both objectives)', () => {
  let feasible = 0;
  for (let seed = 1; seed <= 24; seed++) {
    const problem = randomWiderProblem(seed);
    if (agreesWithBruteForce(problem, randomSettings(seed, problem), seed, 'wider')) feasible++;
  }
  assert.ok(feasible > 6, `feasible in ${feasible} of 24`);
});

test('exact matches brute force on the cost objective, with a deadline and with none', () => {
  let feasible = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const problem = seed % 3 === 0 ? randomWiderProblem(seed) : randomSmallProblem(seed);
    if (problem.layers.length === 6 && seed % 12 !== 0) continue; // keep the file fast
    const rng = seedrandom.alea(`cost-${seed}`);
    const settings: Settings = {
      microBatches: 1 + Math.floor(rng() * 8), objective: 'cost',
      budget: Infinity, deadline: rng() < 0.25 ? Infinity : 20 + rng() * 300,
    };
    if (agreesWithBruteForce(problem, settings, seed, 'cost')) feasible++;
  }
  assert.ok(feasible > 40, `feasible in ${feasible}`);
});

test('exact with a one-type-per-layer mask equals brute force restricted to that assignment', () => {
  let checked = 0;
  for (let seed = 1; seed <= 120; seed++) {
    const problem = randomSmallProblem(seed);
    const settings = randomSettings(seed, problem);
    const L = problem.layers.length;
    const K = problem.types.length;
    const rng = seedrandom.alea(`mask-${seed}`);
    const assignment = Array.from({ length: L }, (_, l) => {
      const runnable = [...Array(K).keys()].filter((k) => !Number.isNaN(problem.forwardMs[l * K + k]));
      return runnable[Math.floor(rng() * runnable.length)];
    });
    const mask = new Uint8Array(L * K);
    assignment.forEach((k, l) => (mask[l * K + k] = 1));
    // Brute force over the placements whose layers keep their assigned types.
    const sim = new Simulator(problem, settings);
    let bestObjective = Infinity;
    for (const placement of allPlacements(problem)) {
      if (!placement.every((stage) => assignment.slice(stage.first, stage.last + 1).every((k) => k === stage.type))) continue;
      const objective = sim.scorePlacement(placement);
      if (sim.feasible && objective < bestObjective) bestObjective = objective;
    }
    const exact = solveExact(problem, settings, { allowedTypes: mask });
    if (bestObjective === Infinity) {
      assert.equal(exact.placement, null, `mask seed ${seed}`);
      continue;
    }
    checked++;
    assert.ok(exact.placement !== null, `mask seed ${seed}: exact found nothing`);
    for (const stage of exact.placement) for (let l = stage.first; l <= stage.last; l++) assert.equal(stage.type, assignment[l]);
    const objective = sim.scorePlacement(exact.placement);
    assert.ok(sim.feasible && Math.abs(objective - bestObjective) <= 1e-12 * bestObjective, `mask seed ${seed}: ${objective} vs ${bestObjective}`);
  }
  assert.ok(checked > 30, `checked ${checked}`);
});

test('the exact searcher is deterministic', async () => {
  for (let seed = 1; seed <= 10; seed++) {
    const problem = randomWiderProblem(seed);
    const settings = randomSettings(seed, problem);
    const a = await exactSearcher.search(problem, settings, { seed: 1 });
    const b = await exactSearcher.search(problem, settings, { seed: 2 });
    assert.deepEqual(a.placement, b.placement);
  }
});

/** Like randomSmallProblem, with many zero times (the profiler clamps to 0) and ties between types. */
function zeroAndTiedProblem(seed: number): Problem {
  const problem = randomSmallProblem(seed);
  const rng = seedrandom.alea(`zero-${seed}`);
  const K = problem.types.length;
  const { forwardMs, backwardMs } = problem;
  for (let cell = 0; cell < forwardMs.length; cell++) {
    if (Number.isNaN(forwardMs[cell])) continue;
    const roll = rng();
    if (roll < 0.35) forwardMs[cell] = 0;
    if (rng() < 0.35) backwardMs[cell] = 0;
    if (roll > 0.8 && cell % K > 0 && !Number.isNaN(forwardMs[cell - 1])) {
      forwardMs[cell] = forwardMs[cell - 1]; // a tie with the previous type
      backwardMs[cell] = backwardMs[cell - 1];
    }
  }
  if (rng() < 0.3) problem.types.forEach((type, k) => (problem.types[k] = { ...type, pricePerHour: problem.types[0].pricePerHour }));
  if (rng() < 0.2) problem.layers.forEach((layer, l) => (problem.layers[l] = { ...layer, activationBytes: 0 }));
  return problem;
}

test('exact matches brute force with zero times and ties (both objectives)', () => {
  let feasible = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const problem = zeroAndTiedProblem(seed);
    if (agreesWithBruteForce(problem, randomSettings(seed, problem), seed, 'zero')) feasible++;
  }
  assert.ok(feasible > 100, `feasible in ${feasible} of 300`);
});

test('a layer whose fastest time is 0 keeps its feasible completions (regression: the capacity bound was Infinity)', async () => {
  // Seed 12 of the generator above: the exact pass pruned every label that led to the optimum.
  const problem = zeroAndTiedProblem(12);
  const settings = randomSettings(12, problem);
  const brute = bruteForce(problem, settings);
  const result = await exactSearcher.search(problem, settings, { seed: 1 });
  assert.equal(result.feasible, brute.best !== null);
  assert.ok(Math.abs(result.objective - brute.bestObjective) <= 1e-12 * brute.bestObjective, `${result.objective} vs ${brute.bestObjective}`);
});

const unconstrained: Settings = { microBatches: 8, objective: 'time', budget: Infinity, deadline: Infinity };

test('exact honours its time limit on a long chain, in every phase (warm start, tables, labels)', async () => {
  const problem = syntheticProblem({ layers: 4000, types: 4, seed: 1 });
  const started = performance.now();
  const result = await exactSearcher.search(problem, unconstrained, { seed: 1, timeLimitS: 0.5 });
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 2.5, `took ${seconds} s for a 0.5 s limit`);
  assert.equal(result.provenOptimal, false);
  assert.equal(result.placement[result.placement.length - 1].last, 3999);
});

test('exact stops soon after its signal is aborted (it yields to the event loop)', async () => {
  const problem = syntheticProblem({ layers: 2000, types: 4, seed: 2 });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 200);
  const started = performance.now();
  const result = await exactSearcher.search(problem, unconstrained, { seed: 1, signal: controller.signal });
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  assert.ok(seconds < 2, `stopped after ${seconds} s`);
  assert.equal(result.provenOptimal, false);
});

test('exact with 1e20 units of a type does not try replica counts one by one', async () => {
  const problem = syntheticProblem({ layers: 12, types: 3, seed: 3 });
  problem.types[0] = { ...problem.types[0], count: 1e20, pricePerHour: 0 };
  problem.types[1] = { ...problem.types[1], count: 10_000 };
  const started = performance.now();
  const result = await exactSearcher.search(problem, { ...unconstrained, budget: 50 }, { seed: 1, timeLimitS: 1 });
  assert.ok((performance.now() - started) / 1000 < 3);
  assert.equal(result.feasible, true);
  assert.ok(result.placement.every((stage) => Number.isFinite(stage.replicas) && stage.replicas >= 1));
});

test('the exact lower bound is never above the brute-force optimum, also when cut short', () => {
  for (let seed = 1; seed <= 80; seed++) {
    const problem = seed % 2 ? zeroAndTiedProblem(seed) : randomWiderProblem(seed);
    if (problem.layers.length === 6 && seed % 6 !== 0) continue;
    const settings = randomSettings(seed, problem);
    const brute = bruteForce(problem, settings);
    for (const timeLimitS of [undefined, 0]) {
      const exact = solveExact(problem, settings, { timeLimitS });
      assert.ok(exact.lowerBound !== undefined);
      assert.ok(exact.lowerBound <= brute.bestObjective * (1 + 1e-12), `seed ${seed}: bound ${exact.lowerBound} above ${brute.bestObjective}`);
      if (timeLimitS === undefined) assert.equal(exact.lowerBound, exact.value);
    }
  }
});

test('exact bounding its labels with the budget DP tables (coarse and fine money) matches brute force (objective time, zero times, ties)', async () => {
  let feasible = 0;
  let pruned = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const problem = hardSmallProblem(seed, 'completion');
    const rng = seedrandom.alea(`completion-settings-${seed}`);
    const total = problem.types.reduce((sum, t) => sum + t.count * t.pricePerHour, 0);
    const settings: Settings = { microBatches: 1 + Math.floor(rng() * 8), objective: 'time', budget: rng() < 0.2 ? Infinity : rng() * total, deadline: Infinity };
    const brute = bruteForce(problem, settings);
    if (brute.best !== null) feasible++;
    // One bucket is the coarsest money (every stage's price rounds down to 0 or 1 bucket): rounding at its worst.
    for (const buckets of [1, 3, 100]) {
      const { tables } = budgetDpBound(problem, settings, { buckets, keepTables: 1e6 });
      assert.ok(tables !== undefined && tables.caps[tables.caps.length - 1] === Infinity, `seed ${seed}: no tables`);
      const plain = solveExact(problem, settings);
      const exact = solveExact(problem, settings, { completion: tables });
      if (exact.labels < plain.labels) pruned++;
      if (brute.best === null) {
        assert.equal(exact.placement, null, `seed ${seed}: a placement where none is feasible`);
        continue;
      }
      assert.ok(exact.complete && Math.abs(exact.value - brute.bestObjective) <= 1e-12 * brute.bestObjective,
        `seed ${seed}, ${buckets} buckets: exact ${exact.value} vs brute force ${brute.bestObjective}`);
      assert.ok(exact.rootBound <= brute.bestObjective * (1 + 1e-12));
    }
    // The searcher as \`solve --method exact\` runs it (budget DP first, its placement, its tables, its bound).
    if (seed % 3 === 0) {
      const result = await exactSearcher.search(problem, settings, { seed: 1 });
      assert.equal(result.feasible, brute.best !== null, `seed ${seed}: searcher feasibility`);
      if (brute.best !== null) {
        assert.ok(Math.abs(result.objective - brute.bestObjective) <= 1e-12 * brute.bestObjective, `seed ${seed}: searcher ${result.objective} vs ${brute.bestObjective}`);
        assert.equal(result.provenOptimal, true);
        assert.ok((result.lowerBound ?? 0) <= brute.bestObjective * (1 + 1e-12));
      }
    }
  }
  // Proves little unless both outcomes occur and the tables do prune.
  assert.ok(feasible > 100 && feasible < 300, `feasible in ${feasible} of 300`);
  assert.ok(pruned > 20, `the tables pruned in ${pruned} of 900 searches`);
});
