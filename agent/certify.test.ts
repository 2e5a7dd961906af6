import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { bruteForce } from './brute-force.js';
import { certify } from './certify.js';
import { loadBound } from './load-bound.js';
import { solveExact } from './exact.js';
import { hardSmallProblem } from './small-problems.fixture.js';
import { Simulator } from '../env/simulate.js';
import { PACKAGE_ROOT, bundledProblem, bundledProblemNames } from '../env/bundled.js';
import { loadProblem } from '../env/load.js';
import { placementFromAssignment, type Placement, type Problem, type Settings } from '../env/problem.js';

function settingsFor(seed: number, problem: Problem): Settings {
  const rng = seedrandom.alea(`certify-settings-${seed}`);
  const microBatches = 1 + Math.floor(rng() * 8);
  const total = problem.types.reduce((sum, t) => sum + t.count * t.pricePerHour, 0);
  return seed % 2
    ? { microBatches, objective: 'time', budget: rng() < 0.2 ? Infinity : rng() * total, deadline: Infinity }
    : { microBatches, objective: 'cost', budget: Infinity, deadline: rng() < 0.2 ? Infinity : 10 + rng() * 300 };
}

/** A runnable random assignment's short form. */
function randomPlacement(seed: number, problem: Problem): Placement {
  const rng = seedrandom.alea(`certify-placement-${seed}`);
  const K = problem.types.length;
  return placementFromAssignment(problem.layers.map((_, l) => {
    const runnable = [...Array(K).keys()].filter((k) => !Number.isNaN(problem.forwardMs[l * K + k]));
    return runnable[Math.floor(rng() * runnable.length)];
  }));
}

test('certify: the bound never exceeds the brute-force optimum; gap and provenOptimal agree with it (both objectives, zero times, ties)', async () => {
  let proven = 0;
  let provenInfeasible = 0;
  for (let seed = 1; seed <= 160; seed++) {
    const problem = hardSmallProblem(seed, 'certify');
    const settings = settingsFor(seed, problem);
    const brute = bruteForce(problem, settings);
    const candidates = [randomPlacement(seed, problem), ...(brute.best ? [brute.best] : [])];
    for (const placement of candidates) {
      for (const timeLimitS of [0, 1]) {
        const certificate = await certify(problem, settings, placement, { timeLimitS });
        const sim = new Simulator(problem, settings);
        const objective = sim.scorePlacement(placement);
        if (!sim.feasible) {
          assert.equal(certificate.gap, null);
          if (certificate.lowerBound !== null && brute.best) {
            assert.ok(certificate.lowerBound <= brute.bestObjective * (1 + 1e-12) + 1e-300, `seed ${seed}: bound ${certificate.lowerBound} of an infeasible placement above the optimum ${brute.bestObjective}`);
          }
          if (certificate.provenInfeasible) assert.equal(certificate.lowerBound, null);
          if (certificate.provenInfeasible) {
            provenInfeasible++;
            assert.equal(brute.best, null, `seed ${seed}: infeasibility "proven" but brute force found ${brute.bestObjective}`);
          }
          continue;
        }
        const bound = certificate.lowerBound!;
        assert.ok(bound <= brute.bestObjective * (1 + 1e-12) + 1e-300, `seed ${seed}: bound ${bound} above the optimum ${brute.bestObjective}`);
        assert.ok(bound >= 0 && bound <= objective);
        const gap = objective > 0 ? (objective - bound) / objective : 0;
        assert.equal(certificate.gap, gap);
        assert.equal(certificate.provenOptimal, gap === 0);
        if (certificate.provenOptimal) {
          proven++;
          assert.ok(Math.abs(objective - brute.bestObjective) <= 1e-12 * brute.bestObjective, `seed ${seed}: proven optimal but not`);
        }
      }
    }
  }
  // The test proves little unless both outcomes occur.
  assert.ok(proven > 50, `proven ${proven}`);
  assert.ok(provenInfeasible > 5, `proven infeasible ${provenInfeasible}`);
});

test('certify: on every bundled problem, the bound of a crude placement is at most the proven optimum (exact-bench results)', async () => {
  const rows = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'experiments', 'results', 'exact-bench.json'), 'utf8')).rows as Array<{
    problem: string; objective: 'time' | 'cost'; budget: number | null; deadline: number | null; optimum: number; proven: boolean;
  }>;
  const names = new Set(bundledProblemNames());
  let checked = 0;
  for (const row of rows) {
    if (!row.proven || !names.has(row.problem)) continue;
    const { files, defaults } = bundledProblem(row.problem);
    const problem = loadProblem(files);
    const settings: Settings = {
      microBatches: defaults.microBatches ?? 8, objective: row.objective,
      budget: row.budget ?? Infinity, deadline: row.deadline ?? Infinity,
    };
    // A crude placement (the narrowest beam); its bound must be sound whatever its quality.
    const crude = solveExact(problem, settings, { beamWidth: 1, timeLimitS: 0.2 }).placement ?? [{ type: 0, replicas: 1, first: 0, last: problem.layers.length - 1 }];
    const certificate = await certify(problem, settings, crude, { timeLimitS: 0.1 });
    if (certificate.lowerBound !== null) {
      checked++;
      assert.ok(certificate.lowerBound <= row.optimum * (1 + 1e-12), `${row.problem} ${row.objective}: bound ${certificate.lowerBound} above the optimum ${row.optimum}`);
    } else {
      assert.equal(certificate.provenInfeasible, false, `${row.problem} ${row.objective}: proven infeasible but has an optimum`);
    }
  }
  assert.ok(checked >= 15, `checked ${checked}`);
});

test('the load bound never exceeds the brute-force optimum (both objectives, zero times, ties)', () => {
  let positive = 0;
  for (let seed = 1; seed <= 200; seed++) {
    const problem = hardSmallProblem(seed, 'certify');
    const settings = settingsFor(seed, problem);
    const brute = bruteForce(problem, settings);
    const bound = loadBound(problem, settings);
    if (brute.best === null) continue;
    if (bound > 0) positive++;
    assert.ok(bound <= brute.bestObjective * (1 + 1e-12), `seed ${seed}: load bound ${bound} above the optimum ${brute.bestObjective}`);
  }
  assert.ok(positive > 50, `positive bounds ${positive}`);
});
