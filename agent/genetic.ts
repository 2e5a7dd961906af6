/**
 * The evolutionary search of patent US20230206075A1 ("method and apparatus
 * for distributing the layers of a neural network over processors").
 *
 * A *distribution scheme* is a type per layer; layers of one type that follow
 * each other merge into one stage (the short form). Each scheme's adaptive
 * value (fitness) is its simulator score, ranked by `beats` (agent/tracker.ts): feasible
 * first, then least violation, then objective. Each generation keeps the
 * `elitism` best schemes unchanged and breeds the rest: two parents by
 * tournament selection, one- or two-point crossover over the layer chain,
 * then mutation (each layer to another runnable type with `mutationRate`, and
 * with `segmentMutationRate` a random segment recoloured to one type, which
 * builds runs faster than single flips). The population evolves until the
 * budget (or `maxGenerations`) is spent; the best scheme wins.
 *
 * Beyond the patent, schemes are provisioned (agent/provision.ts): the best
 * scheme whenever it changes, and the `finalProvision` best distinct schemes
 * of the last population. The initial population may include the heuristic
 * starts (each type alone, each layer on its fastest type).
 */
import seedrandom from 'seedrandom';
import type { Problem, Settings } from '../env/problem.js';
import { Simulator } from '../env/simulate.js';
import { provisionInPlace } from './provision.js';
import type { SearchOptions, SearchResult, Searcher } from './searcher.js';
import { SearchTracker, beats, heuristicStarts, runnableTypes } from './tracker.js';
import { candidatesWithinBudget, offerRow } from './batch-scoring.js';

export interface GeneticConfig {
  /** Evaluation budget when the options give neither `maxEvaluations` nor `timeLimitS`. */
  defaultMaxEvaluations: number;
  populationSize: number;
  /** Stop after this many generations even if evaluations remain. */
  maxGenerations: number;
  /** Schemes drawn per tournament; the best of them is a parent. */
  tournamentSize: number;
  /** Probability that two parents cross over (else the child copies the first). */
  crossoverRate: number;
  crossover: 'one-point' | 'two-point';
  /** Per-layer probability of a type change; 0 means 1 / layers. */
  mutationRate: number;
  /** Probability that a child gets one segment recoloured to one type. */
  segmentMutationRate: number;
  /** Best schemes copied unchanged into the next generation. */
  elitism: number;
  /**
   * Random schemes of the initial population: `per-layer` draws every layer's
   * type (the patent's literal reading: on 24+ layers nearly every scheme has
   * more runs than there are units, and provisioning such schemes eats the
   * budget); `runs` draws a number of runs up to the units available, random
   * cuts and a type per run.
   */
  initialSchemes: 'per-layer' | 'runs';
  /** Put the heuristic starts into the initial population. */
  heuristicSeeds: boolean;
  /** Fitness of a scheme = its provisioned score (tens of evaluations) instead of its short form (one). */
  provisionFitness: boolean;
  /** Distinct best schemes of the last population provisioned at the end. */
  finalProvision: number;
}

export const DEFAULT_GENETIC_CONFIG: GeneticConfig = {
  defaultMaxEvaluations: 100_000,
  populationSize: 30,
  maxGenerations: Infinity,
  tournamentSize: 3,
  crossoverRate: 0.9,
  crossover: 'two-point',
  mutationRate: 0,
  segmentMutationRate: 0.3,
  elitism: 2,
  initialSchemes: 'runs',
  heuristicSeeds: true,
  provisionFitness: true,
  finalProvision: 4,
};

export function geneticSearcher(overrides: Partial<GeneticConfig> = {}): Searcher {
  const config: GeneticConfig = { ...DEFAULT_GENETIC_CONFIG, ...overrides };
  return {
    name: 'genetic',
    async search(problem: Problem, settings: Settings, options: SearchOptions): Promise<SearchResult> {
      const rng = seedrandom.alea(String(options.seed));
      const sim = new Simulator(problem, settings);
      const tracker = new SearchTracker('genetic', options, config.defaultMaxEvaluations);
      const runnable = runnableTypes(sim);
      const L = sim.layerCount;
      const P = Math.max(2, config.populationSize);
      const elites = Math.min(Math.max(0, config.elitism), P - 1);
      const mutationRate = config.mutationRate > 0 ? config.mutationRate : 1 / L;
      const randomType = (l: number) => {
        const types = runnable[l];
        return types.length === 0 ? 0 : types[Math.floor(rng() * types.length)];
      };

      // Evaluations kept for the final provisioning (a provisioning takes tens to hundreds).
      const reserve = Math.min(config.finalProvision * 200, Math.floor(tracker.maxEvaluations / 10));
      let generation = 0;

      // Population and fitness, flat and double-buffered: scheme i is genes[i*L .. i*L+L).
      let genes = new Int32Array(P * L);
      let next = new Int32Array(P * L);
      let feasible = new Uint8Array(P);
      // Unscored schemes rank last (a budget can end before the first population is scored).
      let violation = new Float64Array(P).fill(Infinity);
      let objective = new Float64Array(P).fill(NaN);
      let nextFeasible = new Uint8Array(P);
      let nextViolation = new Float64Array(P);
      let nextObjective = new Float64Array(P);
      const order = Array.from({ length: P }, (_, i) => i);
      const ranks = (i: number, j: number) =>
        beats(feasible[i] === 1, violation[i], objective[i], feasible[j] === 1, violation[j], objective[j]);
      /** Provisioned fitness: scores scheme i of `pop` into the given fitness arrays; false when the budget is spent. */
      const assess = (pop: Int32Array, i: number, f: Uint8Array, v: Float64Array, o: Float64Array): boolean => {
        if (tracker.wrapUp(reserve)) return false;
        const used = provisionInPlace(sim, pop.subarray(i * L, i * L + L), tracker.remaining);
        tracker.count(used, { 'genetic/generation': generation });
        tracker.offer(sim);
        f[i] = sim.feasible ? 1 : 0;
        v[i] = sim.violation;
        o[i] = sim.objectiveValue;
        return true;
      };

      // Short-form fitness: a population's new schemes scored in one scoreBatch call, then counted and
      // offered one by one, as `assess` would have (the same numbers, the same budget stop).
      const batchObjectives = new Float64Array(P);
      const batchViolations = new Float64Array(P);
      /** Scores schemes from..from+count-1 of `pop` (short form); returns how many the budget allowed. */
      const assessBatch = (pop: Int32Array, from: number, count: number, f: Uint8Array, v: Float64Array, o: Float64Array): number => {
        const n = candidatesWithinBudget(tracker, reserve, count);
        if (n === 0) return 0;
        const rows = pop.subarray(from * L, (from + n) * L);
        sim.scoreBatch(rows, n, batchObjectives, batchViolations);
        for (let j = 0; j < n; j++) {
          tracker.count(1, { 'genetic/generation': generation });
          offerRow(tracker, sim, rows, j, batchObjectives[j], batchViolations[j]);
          f[from + j] = batchViolations[j] === 0 ? 1 : 0;
          v[from + j] = batchViolations[j];
          o[from + j] = batchObjectives[j];
        }
        return n;
      };

      const seeds = config.heuristicSeeds ? heuristicStarts(sim, runnable).slice(0, P) : [];
      seeds.forEach((seed, i) => genes.set(seed, i * L));
      const maxRuns = Math.max(1, Math.min(L, problem.types.reduce((sum, type) => sum + type.count, 0)));
      for (let i = seeds.length; i < P; i++) {
        const scheme = genes.subarray(i * L, i * L + L);
        if (config.initialSchemes === 'per-layer') for (let l = 0; l < L; l++) scheme[l] = randomType(l);
        else randomRuns(scheme, 1 + Math.floor(rng() * maxRuns), runnable, rng);
      }
      let assessed = 0;
      if (config.provisionFitness) while (assessed < P && assess(genes, assessed, feasible, violation, objective)) assessed++;
      else assessed = assessBatch(genes, 0, P, feasible, violation, objective);

      const provisioned = new Int32Array(L).fill(-1);
      const provisionBest = () => {
        let best = 0;
        for (let i = 1; i < assessed; i++) if (ranks(i, best)) best = i;
        const scheme = genes.subarray(best * L, best * L + L);
        if (sameScheme(scheme, provisioned) || tracker.exhausted()) return;
        provisioned.set(scheme);
        tracker.count(provisionInPlace(sim, scheme, tracker.remaining));
        tracker.offer(sim);
      };
      const tournament = (): number => {
        let winner = Math.floor(rng() * P);
        for (let t = 1; t < config.tournamentSize; t++) {
          const rival = Math.floor(rng() * P);
          if (ranks(rival, winner)) winner = rival;
        }
        return winner;
      };

      while (assessed === P && generation < config.maxGenerations) {
        provisionBest();
        generation++;
        order.sort((i, j) => (ranks(i, j) ? -1 : ranks(j, i) ? 1 : i - j));
        for (let e = 0; e < elites; e++) {
          next.set(genes.subarray(order[e] * L, order[e] * L + L), e * L);
          nextFeasible[e] = feasible[order[e]];
          nextViolation[e] = violation[order[e]];
          nextObjective[e] = objective[order[e]];
        }
        const breed = (born: number) => {
          const child = next.subarray(born * L, born * L + L);
          const mother = tournament();
          child.set(genes.subarray(mother * L, mother * L + L));
          if (rng() < config.crossoverRate) {
            const father = tournament();
            crossOver(child, genes.subarray(father * L, father * L + L), config.crossover, rng);
          }
          for (let l = 0; l < L; l++) if (rng() < mutationRate) child[l] = randomType(l);
          if (rng() < config.segmentMutationRate) recolourSegment(child, runnable, rng);
        };
        let born = elites;
        if (config.provisionFitness) {
          for (; born < P; born++) {
            breed(born);
            if (!assess(next, born, nextFeasible, nextViolation, nextObjective)) break;
          }
        } else {
          // Breeding reads the last generation only, so the children can all be bred before any is
          // scored (past a budget stop, the search draws nothing more at random).
          for (let c = elites; c < P; c++) breed(c);
          born += assessBatch(next, elites, P - elites, nextFeasible, nextViolation, nextObjective);
        }
        if (born < P) break; // budget spent mid-generation: the last full population stays
        [genes, next] = [next, genes];
        [feasible, nextFeasible] = [nextFeasible, feasible];
        [violation, nextViolation] = [nextViolation, violation];
        [objective, nextObjective] = [nextObjective, objective];
      }

      // Final phase: provision the best distinct schemes of the last full population.
      order.sort((i, j) => (ranks(i, j) ? -1 : ranks(j, i) ? 1 : i - j));
      const done: Int32Array[] = [];
      for (const i of order) {
        if (done.length >= config.finalProvision || tracker.exhausted()) break;
        if (i >= assessed) continue;
        const scheme = genes.subarray(i * L, i * L + L);
        if (done.some((d) => sameScheme(d, scheme))) continue;
        done.push(scheme);
        tracker.count(provisionInPlace(sim, scheme, tracker.remaining));
        tracker.offer(sim);
      }
      return tracker.result();
    },
  };
}

/**
 * Fills `scheme` with `runs` runs: distinct random cut points, a random type
 * per run among those its first layer can run (layers that cannot run it draw their own).
 */
function randomRuns(scheme: Int32Array, runs: number, runnable: Int32Array[], rng: () => number): void {
  const L = scheme.length;
  // Mark run starts: layer 0 plus runs - 1 distinct others (partial Fisher-Yates over 1..L-1).
  const starts = new Uint8Array(L);
  starts[0] = 1;
  const pool = Array.from({ length: L - 1 }, (_, i) => i + 1);
  for (let r = 0; r < runs - 1 && r < pool.length; r++) {
    const j = r + Math.floor(rng() * (pool.length - r));
    [pool[r], pool[j]] = [pool[j], pool[r]];
    starts[pool[r]] = 1;
  }
  let type = 0;
  for (let l = 0; l < L; l++) {
    const types = runnable[l];
    if (types.length === 0) {
      scheme[l] = 0;
      continue;
    }
    if (starts[l] === 1) type = types[Math.floor(rng() * types.length)];
    scheme[l] = types.includes(type) ? type : types[Math.floor(rng() * types.length)];
  }
}

/** Replaces a one- or two-point section of `child` with the father's genes. */
function crossOver(child: Int32Array, father: Int32Array, kind: GeneticConfig['crossover'], rng: () => number): void {
  const L = child.length;
  if (L < 2) return;
  // Cut points fall between layers: 1..L-1.
  const a = 1 + Math.floor(rng() * (L - 1));
  if (kind === 'one-point') {
    child.set(father.subarray(a), a);
    return;
  }
  const b = 1 + Math.floor(rng() * (L - 1));
  const [from, to] = a <= b ? [a, b] : [b, a];
  child.set(father.subarray(from, to), from);
}

/** One random segment to one type that its layers can run (layers that cannot keep theirs). */
function recolourSegment(child: Int32Array, runnable: Int32Array[], rng: () => number): void {
  const L = child.length;
  const first = Math.floor(rng() * L);
  const last = Math.min(L - 1, first + Math.floor(rng() * Math.max(1, L / 4)));
  const types = runnable[first];
  if (types.length === 0) return;
  const type = types[Math.floor(rng() * types.length)];
  for (let l = first; l <= last; l++) if (runnable[l].includes(type)) child[l] = type;
}

function sameScheme(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let l = 0; l < a.length; l++) if (a[l] !== b[l]) return false;
  return true;
}
