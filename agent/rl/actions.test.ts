import { test } from 'node:test';
import assert from 'node:assert/strict';
import seedrandom from 'seedrandom';
import { DEFAULT_SETTINGS, type Settings } from '../../env/problem.js';
import { syntheticProblem } from '../../profiles/synthetic.js';
import { StageDistribution, actionLimits, placementRow, rowPlacement, FORCED } from './actions.js';

test('window samples copy the base outside their window (forced, log-probability 0), keep counts and budget, and relabel to their own log-probabilities', () => {
  const problem = syntheticProblem({ layers: 40, types: 4, seed: 5 });
  // Every type runs every layer here, so no draw falls back to an over-budget type (that fallback is tested by the trainer's infeasible ranking).
  problem.forwardMs.forEach((f, i) => { if (Number.isNaN(f)) problem.forwardMs[i] = problem.backwardMs[i] = 1; });
  const settings: Settings = { ...DEFAULT_SETTINGS, budget: 15 };
  const limits = actionLimits(problem, settings);
  const L = limits.layerCount;
  const K = limits.typeCount;
  const rng = seedrandom.alea('windows');
  // Random (seeded) policy parameters over the runnable types.
  const probs = new Float32Array(L * K);
  for (let l = 0; l < L; l++) {
    let total = 0;
    for (let k = 0; k < K; k++) total += probs[l * K + k] = limits.runnable[l * K + k] * (0.1 + rng());
    for (let k = 0; k < K; k++) probs[l * K + k] /= total;
  }
  const stay = Float32Array.from({ length: L }, () => 0.6 + 0.3 * rng());
  const dist = new StageDistribution({ probs, stay }, limits);
  const base = dist.sample(1, rng);
  assert.ok(rowPlacement(base, 0).reduce((a, s) => a + limits.price[s.type], 0) <= settings.budget);
  const windows = Int32Array.from([0, 5, 10, 19, 30, 39, 17, 17]);
  const rows = dist.sampleWindows(base, 0, windows, rng);
  assert.equal(rows.size, 4);
  for (let b = 0; b < rows.size; b++) {
    const [first, last] = [windows[2 * b], windows[2 * b + 1]];
    for (let l = 0; l < L; l++) {
      if (l >= first && l <= last) continue;
      assert.equal(rows.types[b * L + l], base.types[l], `row ${b} layer ${l}`);
      assert.equal(rows.choice[b * L + l], FORCED);
      assert.equal(rows.logProb[b * L + l], 0);
      if (l === last + 1) assert.equal(rows.began[b * L + l], 1, 'the stage after the window begins afresh');
    }
    // Units per type and the price: within counts and budget (as the base), but for the stage begun
    // afresh after the window when the base had none there (its unit may be one too many: infeasible).
    const extra = last + 1 < L && base.began[last + 1] === 0 ? base.types[last + 1] : -1;
    const used = new Array(K).fill(0);
    let price = 0;
    for (const stage of rowPlacement(rows, b)) {
      used[stage.type]++;
      price += limits.price[stage.type];
    }
    used.forEach((n, k) => assert.ok(n <= limits.count[k] + (k === extra ? 1 : 0), `row ${b}: ${n} units of type ${k}`));
    assert.ok(price <= settings.budget + (extra >= 0 ? limits.price[extra] : 0) + 1e-9, `row ${b}: price ${price}`);
  }
  const logProb = Float32Array.from(rows.logProb);
  dist.relabel(rows);
  for (let i = 0; i < logProb.length; i++) assert.ok(Math.abs(rows.logProb[i] - logProb[i]) < 1e-5, `decision ${i}`);
});

test('placementRow gives the placement back (one replica per stage)', () => {
  const placement = [{ type: 1, replicas: 3, first: 0, last: 2 }, { type: 1, replicas: 1, first: 3, last: 3 }, { type: 0, replicas: 2, first: 4, last: 6 }];
  const row = placementRow(placement, 7, 2);
  assert.deepEqual(rowPlacement(row, 0), placement.map((s) => ({ ...s, replicas: 1 })));
});
