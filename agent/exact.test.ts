import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { bruteForce } from './brute-force.js';
import { exactSearcher, smallestFeasibleConstraint, solveExact } from './exact.js';
import { Simulator } from '../env/simulate.js';
import type { Problem, Settings } from '../env/problem.js';

/** A random small problem: varied speeds, prices, bandwidths, missing pairs and tight memory. */
export function randomSmallProblem(seed: number): Problem {
  const rng = seedrandom.alea(String(seed));
  const L = 1 + Math.floor(rng() * 5);
  const K = 1 + Math.floor(rng() * 3);
  const layers = Array.from({ length: L }, (_, l) => ({
    name: `l${l}`,
    paramBytes: Math.round(rng() * 4e6),
    activationBytes: Math.round(rng() * 2e6),
  }));
  const types = Array.from({ length: K }, (_, k) => ({
    name: `t${k}`,
    pricePerHour: Math.round(rng() * 400) / 100,
    count: 1 + Math.floor(rng() * 3),
    memoryBytes: 4e6 + rng() * 4e7,
    bandwidthBytesPerS: 1e8 + rng() * 1e10,
  }));
  const forwardMs = new Float64Array(L * K);
  const backwardMs = new Float64Array(L * K);
  for (let l = 0; l < L; l++) {
    const missing = K > 1 ? Math.floor(rng() * K * 3) : -1; // sometimes one pair cannot run
    for (let k = 0; k < K; k++) {
      forwardMs[l * K + k] = k === missing ? NaN : 0.1 + rng() * 20;
      backwardMs[l * K + k] = k === missing ? NaN : 0.1 + rng() * 40;
    }
  }
  return { layers, types, forwardMs, backwardMs };
}

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
