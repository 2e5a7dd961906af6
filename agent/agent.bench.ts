/**
 * Agent benchmark: for every bundled problem, the exact optimum and, at the
 * same simulator-evaluation budget and at the same wall time, RL alone,
 * RL + polish, genetic, anneal and random. Ratios are objective / optimum
 * (1 = optimal; "inf." = no feasible placement found). Writes
 * experiments/results/agent-bench.md and .json and prints the table.
 *
 *   npm run bench:agent -- [evaluations=50000] [seconds=10] [problems=all] [seed=1]
 *   npm run bench:agent -- --encoders [problem=vgg16] [iterations=150]   (encoder comparison)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend } from './backend.js';
import { bundledProblem, bundledProblemNames, PACKAGE_ROOT } from '../env/bundled.js';
import { loadProblem } from '../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../env/problem.js';
import { exactSearcher } from './exact.js';
import { ENCODER_KINDS } from './policy.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer, reinforceSearcher } from './reinforce.js';
import type { SearchResult, Searcher } from './searcher.js';
import { searcherByName } from './searchers.js';

interface Cell {
  ratio: number | null;
  feasible: boolean;
  seconds: number;
  evaluations: number;
}

const METHODS: Array<[string, () => Searcher]> = [
  ['rl', () => reinforceSearcher()],
  ['rl+polish', () => reinforceSearcher({ polish: true })],
  ['genetic', () => searcherByName('genetic')],
  ['anneal', () => searcherByName('anneal')],
  ['random', () => searcherByName('random')],
];

function loadBundled(name: string) {
  const { files, defaults } = bundledProblem(name);
  const settings: Settings = { ...DEFAULT_SETTINGS, ...defaults } as Settings;
  return { problem: loadProblem(files), settings };
}

function cell(result: SearchResult, optimum: number): Cell {
  return {
    ratio: result.feasible && Number.isFinite(optimum) ? result.objective / optimum : null,
    feasible: result.feasible,
    seconds: result.seconds,
    evaluations: result.evaluations,
  };
}

async function table(args: string[]): Promise<void> {
  const evaluations = Number(args[0] ?? 50_000);
  const seconds = Number(args[1] ?? 10);
  const names = args[2] && args[2] !== 'all' ? args[2].split(',') : bundledProblemNames();
  const seed = Number(args[3] ?? 1);
  const rows: Array<Record<string, unknown>> = [];
  for (const name of names) {
    const { problem, settings } = loadBundled(name);
    const exact = await exactSearcher.search(problem, settings, { seed, timeLimitS: 120 });
    const optimum = exact.feasible ? exact.objective : Infinity;
    const row: Record<string, unknown> = {
      problem: name,
      layers: problem.layers.length,
      types: problem.types.length,
      optimum: exact.feasible ? exact.objective : null,
      proven: exact.provenOptimal ?? false,
      exactSeconds: exact.seconds,
    };
    for (const [label, make] of METHODS) {
      row[`${label}@evals`] = cell(await make().search(problem, settings, { seed, maxEvaluations: evaluations }), optimum);
      row[`${label}@time`] = cell(await make().search(problem, settings, { seed, timeLimitS: seconds }), optimum);
      process.stderr.write(`${name} ${label} done\n`);
    }
    rows.push(row);
  }
  const fmt = (c: Cell) => (c.ratio === null ? 'inf.' : c.ratio.toFixed(4)) + ` (${c.seconds.toFixed(1)} s)`;
  const head = ['problem', 'L', 'optimum (exact s)', ...METHODS.map(([m]) => `${m} @${evaluations} ev`), ...METHODS.map(([m]) => `${m} @${seconds} s`)];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) =>
      `| ${[
        r.problem,
        r.layers,
        `${r.optimum === null ? 'infeasible' : Number(r.optimum).toPrecision(6)} (${Number(r.exactSeconds).toFixed(1)} s${r.proven ? '' : ', not proven'})`,
        ...METHODS.map(([m]) => fmt(r[`${m}@evals`] as Cell)),
        ...METHODS.map(([m]) => fmt(r[`${m}@time`] as Cell)),
      ].join(' | ')} |`,
    ),
  ];
  const md = `# Agent benchmark\n\nRatio to the exact optimum (1 = optimal; inf. = no feasible placement found), seconds in brackets; seed ${seed}; ${evaluations} simulator evaluations, or ${seconds} s of wall time, per run. Evaluations: simulator score() calls plus exact-decoder labels.\n\n${lines.join('\n')}\n`;
  const dir = join(PACKAGE_ROOT, 'experiments', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'agent-bench.md'), md);
  writeFileSync(join(dir, 'agent-bench.json'), JSON.stringify({ evaluations, seconds, seed, rows }, null, 2) + '\n');
  process.stdout.write(md);
}

/** Encoder comparison: the same problem, seed and number of updates for each encoder; quality reached and seconds. */
async function encoders(args: string[]): Promise<void> {
  const name = args[0] ?? 'vgg16';
  const iterations = Number(args[1] ?? 150);
  const { problem, settings } = loadBundled(name);
  const exact = await exactSearcher.search(problem, settings, { seed: 1, timeLimitS: 120 });
  const lines = ['| encoder | ratio after ' + iterations + ' updates | seconds | ms per update (network only) | first update within 1% |', '|---|---|---|---|---|'];
  for (const encoder of ENCODER_KINDS) {
    for (const seed of [1, 2]) {
      let firstWithin: number | null = null;
      const trainer = new ReinforceTrainer(problem, settings, { ...DEFAULT_REINFORCE_CONFIG, policy: { encoder }, exactDecode: false }, {
        seed,
        iterations,
        onIteration: (row) => {
          if (firstWithin === null && row.bestObjective <= exact.objective * 1.01) firstWithin = row.iteration;
        },
      });
      const started = performance.now();
      const result = await trainer.run();
      const total = (performance.now() - started) / 1000;
      // Network time alone: forward + backward passes timed on their own.
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) trainer.policy.distribution((trainer as unknown as { inputs: never }).inputs);
      const forwardMs = (performance.now() - t0) / 5;
      trainer.dispose();
      lines.push(`| ${encoder} (seed ${seed}) | ${(result.objective / exact.objective).toFixed(4)} | ${total.toFixed(1)} | ${forwardMs.toFixed(1)} (forward) | ${firstWithin ?? 'never'} |`);
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
  }
  process.stdout.write(`encoders on ${name}:\n${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  await selectBackend(process.env.PLACER_BACKEND ?? 'auto', (line) => process.stderr.write(`placer: ${line}\n`));
  const args = process.argv.slice(2);
  if (args[0] === '--encoders') await encoders(args.slice(1));
  else await table(args);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
