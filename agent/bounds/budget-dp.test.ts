import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { bruteForce } from '../brute-force.js';
import { hardSmallProblem } from '../small-problems.fixture.js';
import { budgetDpBound, budgetDpSchedule } from './budget-dp.js';
import { Simulator } from '../../env/simulate.js';
import { PACKAGE_ROOT, bundledProblem, bundledProblemNames } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import type { Problem, Settings } from '../../env/problem.js';
import { syntheticProblem } from '../../profiles/synthetic.js';

function timeSettings(seed: number, problem: Problem): Settings {
  const rng = seedrandom.alea(`budget-dp-settings-${seed}`);
  const total = problem.types.reduce((sum, t) => sum + t.count * t.pricePerHour, 0);
  return { microBatches: 1 + Math.floor(rng() * 8), objective: 'time', budget: rng() < 0.2 ? Infinity : rng() * total, deadline: Infinity };
}

test('budget DP: the bound never exceeds the brute-force optimum, Infinity only when nothing is feasible, its placement is feasible and no better than the optimum', () => {
  let tight = 0;
  let half = 0;
  let infeasible = 0;
  let placements = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const problem = hardSmallProblem(seed, 'budget-dp');
    const settings = timeSettings(seed, problem);
    const brute = bruteForce(problem, settings);
    // Coarse money (few buckets) is the case where rounding matters most; the split caps (X, Y) are checked too.
    for (const [buckets, separateAllReduce] of [[1, false], [3, false], [100, false], [100, true]] as const) {
      const result = budgetDpBound(problem, settings, { buckets, separateAllReduce });
      if (brute.best === null) {
        assert.equal(result.placement, null, `seed ${seed}: a placement where none is feasible`);
        if (result.bound === Infinity) infeasible++;
        continue;
      }
      assert.ok(result.bound <= brute.bestObjective * (1 + 1e-12), `seed ${seed}, ${buckets} buckets: bound ${result.bound} above the optimum ${brute.bestObjective}`);
      if (result.bound >= brute.bestObjective * (1 - 1e-6)) tight++;
      if (result.bound >= brute.bestObjective * 0.5) half++;
      if (result.placement) {
        placements++;
        const sim = new Simulator(problem, settings);
        const step = sim.scorePlacement(result.placement);
        assert.ok(sim.feasible, `seed ${seed}: the DP's placement is infeasible`);
        assert.equal(step, result.placementStep);
        assert.ok(step >= brute.bestObjective * (1 - 1e-12));
      }
    }
  }
  // The test proves little unless the bound is often tight, sometimes proves infeasibility and finds placements.
  assert.ok(tight > 20 && half > 300, `tight ${tight}, within half ${half}`);
  assert.ok(infeasible > 5, `infeasible ${infeasible}`);
  assert.ok(placements > 200, `placements ${placements}`);
});

test('budget DP: on every bundled problem (objective time), the bound is at most the proven optimum (exact-bench results)', () => {
  const rows = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'experiments', 'results', 'exact-bench.json'), 'utf8')).rows as Array<{
    problem: string; objective: 'time' | 'cost'; budget: number | null; deadline: number | null; optimum: number; proven: boolean;
  }>;
  const names = new Set(bundledProblemNames());
  let checked = 0;
  for (const row of rows) {
    if (!row.proven || row.objective !== 'time' || !names.has(row.problem)) continue;
    const { files, defaults } = bundledProblem(row.problem);
    const problem = loadProblem(files);
    const settings: Settings = { microBatches: defaults.microBatches ?? 8, objective: 'time', budget: row.budget ?? Infinity, deadline: Infinity };
    const result = budgetDpSchedule(problem, settings, { deadlineAt: performance.now() + 300 });
    checked++;
    assert.ok(result.bound <= row.optimum * (1 + 1e-12), `${row.problem}: bound ${result.bound} above the optimum ${row.optimum}`);
    if (result.placement) assert.ok(result.placementStep >= row.optimum * (1 - 1e-12));
  }
  assert.ok(checked >= 5, `checked ${checked}`);
});

test('budget DP: stages by sliding windows give the bound and placements of stages enumerated one by one (synthetic chains, zero times, ties, all-reduce folded or apart)', () => {
  const cases: Array<[Problem, Settings]> = [];
  for (let seed = 1; seed <= 60; seed++) {
    const problem = hardSmallProblem(seed, 'windows');
    cases.push([problem, timeSettings(seed, problem)]);
  }
  for (const [layers, types] of [[40, 3], [60, 6]] as const) {
    const problem = syntheticProblem({ layers, types, seed: layers });
    const total = problem.types.reduce((sum, t) => sum + t.count * t.pricePerHour, 0);
    cases.push([problem, { microBatches: 8, objective: 'time', budget: total / 3, deadline: Infinity }]);
  }
  for (const [index, [problem, settings]] of cases.entries()) {
    for (const [buckets, separateAllReduce] of [[3, false], [100, false], [100, true]] as const) {
      const slid = budgetDpBound(problem, settings, { buckets, separateAllReduce, windows: true });
      const listed = budgetDpBound(problem, settings, { buckets, separateAllReduce, windows: false });
      if (listed.bound === Infinity) assert.equal(slid.bound, Infinity, `case ${index}`);
      else assert.ok(Math.abs(slid.bound - listed.bound) <= 1e-9 * listed.bound + 1e-12, `case ${index}, ${buckets} buckets: ${slid.bound} vs ${listed.bound}`);
      assert.ok(Math.abs(slid.placementStep - listed.placementStep) <= 1e-9 * listed.placementStep || slid.placementStep === listed.placementStep, `case ${index}: placements ${slid.placementStep} vs ${listed.placementStep}`);
    }
  }
});
