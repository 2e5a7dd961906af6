/**
 * Baseline benchmark: every sampling searcher on the same seeded 60-layer
 * synthetic problem with the same evaluation budget, for both objectives.
 * Prints the objective each reaches and the seconds it takes.
 *
 *   npm run bench:baselines            (or: node dist/agent/baselines.bench.js [evaluations] [seed])
 */
import type { Settings } from '../env/problem.js';
import { DEFAULT_SETTINGS } from '../env/problem.js';
import { SEARCHER_NAMES, searcherByName } from './searchers.js';
import { chainFixture } from './chains.fixture.js';

const BASELINES = ['random', 'greedy', 'anneal', 'genetic'];

async function main(): Promise<void> {
  const maxEvaluations = Number(process.argv[2] ?? 100_000);
  const seed = Number(process.argv[3] ?? 1);
  const problem = chainFixture(60, 7);
  const cases: Array<[string, Settings]> = [
    ['time, budget 12 $/h', { ...DEFAULT_SETTINGS, objective: 'time', budget: 12 }],
    ['cost, deadline 1500 ms', { ...DEFAULT_SETTINGS, objective: 'cost', deadline: 1500 }],
  ];
  const names = SEARCHER_NAMES.filter((name) => BASELINES.includes(name));
  console.log(`60 layers, 4 types, M = ${DEFAULT_SETTINGS.microBatches}, ${maxEvaluations} evaluations each, seed ${seed}`);
  for (const [label, settings] of cases) {
    console.log(`\n${label}`);
    console.log(`${'method'.padEnd(10)} ${'objective'.padStart(14)} ${'feasible'.padStart(9)} ${'stages'.padStart(7)} ${'units'.padStart(6)} ${'evals'.padStart(8)} ${'seconds'.padStart(8)}`);
    for (const name of names) {
      const result = await searcherByName(name).search(problem, settings, { seed, maxEvaluations });
      const units = result.placement.reduce((sum, stage) => sum + stage.replicas, 0);
      const objective = settings.objective === 'cost' ? result.objective.toExponential(4) : result.objective.toFixed(2) + ' ms';
      console.log(
        `${name.padEnd(10)} ${objective.padStart(14)} ${String(result.feasible).padStart(9)} ${String(result.placement.length).padStart(7)} ${String(units).padStart(6)} ${String(result.evaluations).padStart(8)} ${result.seconds.toFixed(2).padStart(8)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
