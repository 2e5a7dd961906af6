/**
 * Simulated annealing over assignments.
 *
 * The state is a type per layer scored in its short form (one evaluation per
 * step), with energy ln(objective) + penalty × violation so that temperatures
 * are relative (T = 0.05 accepts a 5 % worse objective with probability 1/e)
 * and infeasible states are uphill in proportion to how far they violate.
 * Moves: one layer to another type, one layer to a neighbour's type (moves a
 * stage boundary), or a random segment of layers to one type (creates or
 * recolours a run). The temperature falls geometrically from `initialTemperature`
 * to `finalTemperature` in each of `cycles` equal parts of the budget; the
 * first cycle starts from the best heuristic start, later ones from random states. Every `provisionEvery` steps the
 * current state is provisioned, and at the end the lowest-energy state too;
 * the best placement seen by `beats` (agent/tracker.ts) wins.
 */
import seedrandom from 'seedrandom';
import type { Problem, Settings } from '../env/problem.js';
import { Simulator } from '../env/simulate.js';
import { provisionInPlace } from './provision.js';
import type { SearchOptions, SearchResult, Searcher } from './searcher.js';
import { SearchTracker, heuristicStarts, runnableTypes } from './tracker.js';
import { candidatesWithinBudget, offerRow } from './batch-scoring.js';

export interface AnnealConfig {
  /** Evaluation budget when the options give neither `maxEvaluations` nor `timeLimitS`. */
  defaultMaxEvaluations: number;
  /**
   * Temperature at the start, in units of ln(objective). Hot enough to cross
   * infeasible ridges between feasible regions (defaults tuned on random
   * small problems, where colder starts got stuck, and on the 60-layer benchmark).
   */
  initialTemperature: number;
  /** Temperature at the end of the budget. */
  finalTemperature: number;
  /** Independent cooling cycles over the budget; each after the first starts from a random state. */
  cycles: number;
  /** Energy added per unit of violation (a violation of 0.1 is 10 % over budget, deadline or memory). */
  violationPenalty: number;
  /** Probability of each move kind: a layer to a random type, a layer to a neighbour's type; the rest recolour a segment. */
  singleMoveRate: number;
  boundaryMoveRate: number;
  /** Longest recoloured segment, as a fraction of the layers (at least 2 layers). */
  maxSegmentFraction: number;
  /**
   * Score every state provisioned (energy of its best replicas and splits)
   * instead of in its short form: tens of evaluations per step instead of one,
   * but the landscape is the one the result is judged on.
   */
  provisionEveryState: boolean;
  /** Provision the current state every this many steps (short-form scoring only). */
  provisionEvery: number;
  /** Evaluations kept back for the final provisioning. */
  finalReserve: number;
}

export const DEFAULT_ANNEAL_CONFIG: AnnealConfig = {
  defaultMaxEvaluations: 100_000,
  initialTemperature: 0.3,
  finalTemperature: 0.001,
  cycles: 3,
  violationPenalty: 2,
  singleMoveRate: 0.4,
  boundaryMoveRate: 0.3,
  maxSegmentFraction: 0.25,
  provisionEveryState: true,
  provisionEvery: 500,
  finalReserve: 500,
};

/** Consecutive moves that change nothing before the search concludes there is nothing to move. */
const MAX_IDLE_MOVES = 10_000;

export function annealSearcher(overrides: Partial<AnnealConfig> = {}): Searcher {
  const config: AnnealConfig = { ...DEFAULT_ANNEAL_CONFIG, ...overrides };
  return {
    name: 'anneal',
    async search(problem: Problem, settings: Settings, options: SearchOptions): Promise<SearchResult> {
      const rng = seedrandom.alea(String(options.seed));
      const sim = new Simulator(problem, settings);
      const tracker = new SearchTracker('anneal', options, config.defaultMaxEvaluations);
      const runnable = runnableTypes(sim);
      const L = sim.layerCount;
      const energyOf = (objective = sim.objectiveValue, violation = sim.violation) => {
        const base = objective > 0 && Number.isFinite(objective) ? Math.log(objective) : 0;
        return base + config.violationPenalty * violation;
      };

      // Start from the lowest-energy heuristic start (scored in one scoreBatch call, counted and
      // offered one by one). The chain itself is sequential: each step scores the state it proposes.
      const state = new Int32Array(L);
      const lowest = new Int32Array(L);
      let energy = Infinity;
      const starts = heuristicStarts(sim, runnable);
      const startRows = new Int32Array(starts.length * L);
      starts.forEach((start, i) => startRows.set(start, i * L));
      const startObjectives = new Float64Array(starts.length);
      const startViolations = new Float64Array(starts.length);
      const scored = candidatesWithinBudget(tracker, 0, starts.length);
      sim.scoreBatch(startRows, scored, startObjectives, startViolations);
      for (let i = 0; i < scored; i++) {
        tracker.count(1);
        offerRow(tracker, sim, startRows, i, startObjectives[i], startViolations[i]);
        const e = energyOf(startObjectives[i], startViolations[i]);
        if (e < energy || energy === Infinity) {
          energy = e;
          state.set(starts[i]);
        }
      }
      lowest.set(state);
      let lowestEnergy = energy;

      const reserve = Math.min(config.finalReserve, Math.floor(tracker.maxEvaluations / 10));
      const maxSegment = Math.max(2, Math.round(config.maxSegmentFraction * L));
      const backup = new Int32Array(L);
      const logRatio = Math.log(config.finalTemperature / config.initialTemperature);
      let steps = 0;
      let accepted = 0;
      let idle = 0;
      let cycle = 0;
      while (!tracker.wrapUp(reserve) && idle < MAX_IDLE_MOVES) {
        // A new cycle restarts hot from a uniformly random state: feasible regions
        // can be islands that one chain, once cool, never leaves.
        const due = Math.min(config.cycles - 1, Math.floor(tracker.fraction() * config.cycles));
        if (due > cycle) {
          cycle = due;
          for (let l = 0; l < L; l++) {
            const types = runnable[l];
            state[l] = types.length === 0 ? 0 : types[Math.floor(rng() * types.length)];
          }
          energy = Infinity; // the first move from the new state is always taken
        }
        // Propose: layers first..last get new types; their old ones go to `backup`.
        const [first, last] = propose(rng, state, backup, runnable, config, maxSegment);
        if (first < 0) {
          idle++;
          continue;
        }
        idle = 0;
        steps++;
        let used = 1;
        if (config.provisionEveryState) used = provisionInPlace(sim, state, tracker.remaining);
        else sim.scoreAssignment(state);
        tracker.count(used, { 'anneal/steps': steps, 'anneal/accepted': accepted, 'anneal/cycle': cycle });
        tracker.offer(sim);
        const e = energyOf();
        const progress = tracker.fraction() * config.cycles;
        const temperature = config.initialTemperature * Math.exp(logRatio * (progress - Math.floor(progress)));
        if (e <= energy || rng() < Math.exp((energy - e) / temperature)) {
          energy = e;
          accepted++;
          if (e < lowestEnergy) {
            lowestEnergy = e;
            lowest.set(state);
          }
        } else {
          for (let l = first; l <= last; l++) state[l] = backup[l];
        }
        if (!config.provisionEveryState && steps % config.provisionEvery === 0 && !tracker.exhausted()) {
          tracker.count(provisionInPlace(sim, state, tracker.remaining));
          tracker.offer(sim);
        }
      }
      for (const candidate of [lowest, state]) {
        if (tracker.exhausted()) break;
        tracker.count(provisionInPlace(sim, candidate, tracker.remaining));
        tracker.offer(sim);
      }
      return tracker.result();
    },
  };
}

/**
 * Applies one random move to `state` in place and returns the changed range
 * (old types saved in `backup`), or [-1, -1] when the drawn move changes nothing.
 */
function propose(
  rng: () => number,
  state: Int32Array,
  backup: Int32Array,
  runnable: Int32Array[],
  config: AnnealConfig,
  maxSegment: number,
): [number, number] {
  const L = state.length;
  const kind = rng();
  if (kind < config.singleMoveRate + config.boundaryMoveRate) {
    const l = Math.floor(rng() * L);
    let type: number;
    if (kind < config.singleMoveRate) {
      const types = runnable[l];
      if (types.length < 2) return [-1, -1];
      // Uniform among the other runnable types.
      type = types[Math.floor(rng() * (types.length - 1))];
      if (type === state[l]) type = types[types.length - 1];
    } else {
      const neighbour = rng() < 0.5 ? l - 1 : l + 1;
      if (neighbour < 0 || neighbour >= L) return [-1, -1];
      type = state[neighbour];
      if (type === state[l] || !runnable[l].includes(type)) return [-1, -1];
    }
    backup[l] = state[l];
    state[l] = type;
    return [l, l];
  }
  const length = 2 + Math.floor(rng() * (maxSegment - 1));
  const first = Math.floor(rng() * Math.max(1, L - length + 1));
  const last = Math.min(L - 1, first + length - 1);
  const types = runnable[first + Math.floor(rng() * (last - first + 1))];
  if (types.length === 0) return [-1, -1];
  const type = types[Math.floor(rng() * types.length)];
  let changed = false;
  for (let l = first; l <= last; l++) {
    backup[l] = state[l];
    // Layers that cannot run the type keep theirs: the move never makes a layer unrunnable.
    if (state[l] !== type && runnable[l].includes(type)) {
      state[l] = type;
      changed = true;
    }
  }
  return changed ? [first, last] : [-1, -1];
}
