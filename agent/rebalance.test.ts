import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { Simulator } from '../env/simulate.js';
import { DEFAULT_SETTINGS, type Placement, type Problem, type Settings } from '../env/problem.js';
import { balancedCuts, rebalanceCuts } from './rebalance.js';
import { readPlacement } from './tracker.js';
import { smallProblem } from './chains.fixture.js';

/** A random sequence of stage types and replicas over the problem's chain, cut evenly. */
function randomStages(seed: number, problem: Problem): Placement {
  const rng = seedrandom.alea(`stages-${seed}`);
  const L = problem.layers.length;
  const S = 1 + Math.floor(rng() * L);
  return Array.from({ length: S }, (_, s) => ({
    type: Math.floor(rng() * problem.types.length),
    replicas: 1 + Math.floor(rng() * 3),
    first: Math.floor((s * L) / S),
    last: Math.floor(((s + 1) * L) / S) - 1,
  }));
}

function settingsOf(seed: number): Settings {
  const rng = seedrandom.alea(`settings-${seed}`);
  return { ...DEFAULT_SETTINGS, microBatches: 1 + Math.floor(rng() * 8), budget: 1 + rng() * 12 };
}

/** Compute per replica of the slowest stage, or Infinity when a stage cannot run a layer or overflows a unit's memory. */
function bottleneck(problem: Problem, settings: Settings, placement: Placement): number {
  const K = problem.types.length;
  let worst = 0;
  for (const stage of placement) {
    let ms = 0;
    let bytes = 0;
    for (let l = stage.first; l <= stage.last; l++) {
      const c = problem.forwardMs[l * K + stage.type] + problem.backwardMs[l * K + stage.type];
      if (Number.isNaN(c)) return Infinity;
      ms += c;
      bytes += 4 * problem.layers[l].paramBytes + (settings.microBatches * problem.layers[l].activationBytes) / stage.replicas;
    }
    if (bytes > problem.types[stage.type].memoryBytes) return Infinity;
    worst = Math.max(worst, ms / stage.replicas);
  }
  return worst;
}

/** Every way to cut the chain into the placement's stages, in order: the least bottleneck. */
function bruteForceBottleneck(problem: Problem, settings: Settings, stages: Placement): number {
  const L = problem.layers.length;
  let best = Infinity;
  const lasts: number[] = [];
  const walk = (s: number, first: number): void => {
    if (s === stages.length - 1) {
      const placement = stages.map((stage, i) => ({ ...stage, first: i === 0 ? 0 : lasts[i - 1] + 1, last: i === s ? L - 1 : lasts[i] }));
      best = Math.min(best, bottleneck(problem, settings, placement));
      return;
    }
    for (let last = first; last <= L - (stages.length - s); last++) {
      lasts[s] = last;
      walk(s + 1, last + 1);
    }
  };
  walk(0, 0);
  return best;
}

test('balanced cuts reach the least compute bottleneck of any cuts (brute force), or report none when no cuts run', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), (seed) => {
      const problem = smallProblem(seed, 2 + (seed % 7));
      const settings = settingsOf(seed);
      const stages = randomStages(seed, problem);
      const sim = new Simulator(problem, settings);
      sim.loadPlacement(stages);
      const { cuts, probes } = balancedCuts(sim, 60);
      assert.ok(probes >= 1 && probes <= 60);
      const optimum = bruteForceBottleneck(problem, settings, stages);
      if (cuts === null) {
        assert.equal(optimum, Infinity, 'some cuts run every layer within memory');
        return;
      }
      const placement = stages.map((stage, s) => ({ ...stage, first: s === 0 ? 0 : cuts[s - 1] + 1, last: cuts[s] }));
      assert.equal(placement[placement.length - 1].last, problem.layers.length - 1);
      for (const stage of placement) assert.ok(stage.first <= stage.last, 'no empty stage');
      assert.ok(bottleneck(problem, settings, placement) <= optimum * (1 + 1e-9) + 1e-9, `${bottleneck(problem, settings, placement)} vs ${optimum}`);
    }),
    { numRuns: 300 },
  );
});

test('rebalancing keeps types and replicas, never scores worse than the cuts it had, and counts within its cap', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 40 }), (seed, cap) => {
      const problem = smallProblem(seed, 2 + (seed % 9));
      const settings = settingsOf(seed);
      const stages = randomStages(seed, problem);
      const sim = new Simulator(problem, settings);
      sim.loadPlacement(stages);
      sim.score();
      const before = { feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue };
      const used = rebalanceCuts(sim, cap);
      assert.ok(used >= 1 && used <= cap, `${used} evaluations within ${cap}`);
      const after = readPlacement(sim);
      assert.deepEqual(after.map((s) => [s.type, s.replicas]), stages.map((s) => [s.type, s.replicas]));
      const held = sim.objectiveValue;
      sim.score();
      assert.equal(sim.objectiveValue, held, 'the simulator holds the scores of its placement');
      if (before.feasible) {
        assert.ok(sim.feasible);
        assert.ok(sim.objectiveValue <= before.objective);
      } else if (!sim.feasible) {
        assert.ok(sim.violation <= before.violation);
      }
    }),
    { numRuns: 300 },
  );
});
