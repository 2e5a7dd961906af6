/**
 * Agent benchmark: for every bundled problem, the exact optimum and, at the
 * same simulator-evaluation budget and at the same wall time, RL alone,
 * RL + polish, genetic, anneal and random. Ratios are objective / optimum
 * (1 = optimal; "inf." = no feasible placement found). Writes
 * experiments/results/agent-bench.md and .json and prints the table.
 *
 *   npm run bench:agent -- [--time 60] [--problems all|a,b] [--seed 1] [--equal-time]
 *   npm run bench:agent -- --quick          (smoke run: 3 small problems, 5 s; agent-bench-quick.*)
 *   npm run bench:agent -- --backends       (ms per forward pass and per update on cpu and wasm)
 *   npm run bench:agent -- --transfer [--pairs a:b,c:d] [--source-updates 100] [--updates 30]   (transfer.md/.json)
 *   npm run bench:agent -- --encoders [problem=vgg16] [iterations=150]   (encoder comparison)
 */
import { writeFileAtomic } from '../env/atomic-write.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { selectBackend } from './backend.js';
import { useBackend } from '../env/real/backends.js';
import { bundledProblem, bundledProblemNames, PACKAGE_ROOT } from '../env/bundled.js';
import { loadProblem } from '../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../env/problem.js';
import { exactSearcher } from './exact.js';
import * as tf from '@tensorflow/tfjs';
import { ENCODER_KINDS, PolicyNetwork } from './policy.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer, reinforceSearcher } from './reinforce.js';
import type { SearchResult } from './searcher.js';
import { searcherByName } from './searchers.js';

interface Cell {
  ratio: number | null;
  feasible: boolean;
  seconds: number;
  evaluations: number;
}

const BASELINES = ['genetic', 'anneal', 'random'] as const;

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

/** `--name value` from argv (or the fallback). */
function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

/**
 * The table: per problem, the proven optimum; RL alone with a wall-time limit
 * (as `placer train --time-limit` runs it); RL + polish and the baselines at
 * the evaluations RL used (equal evaluations); with --equal-time, the
 * baselines also at RL's wall time.
 */
async function table(args: string[], backend: string): Promise<void> {
  const quick = args.includes('--quick');
  const equalTime = args.includes('--equal-time');
  const seconds = Number(flag(args, 'time', quick ? '5' : '60'));
  const seed = Number(flag(args, 'seed', '1'));
  const names = flag(args, 'problems', quick ? 'toy,local-mlp,synthetic-small' : 'all');
  const problems = names === 'all' ? bundledProblemNames() : names.split(',');
  const load = loadavg();
  const rows: Array<Record<string, unknown>> = [];
  for (const name of problems) {
    const { problem, settings } = loadBundled(name);
    const exact = await exactSearcher.search(problem, settings, { seed, timeLimitS: 120 });
    const optimum = exact.feasible ? exact.objective : Infinity;
    const cpu0 = process.cpuUsage();
    const rlResult = await reinforceSearcher().search(problem, settings, { seed, timeLimitS: seconds });
    const cpu = process.cpuUsage(cpu0);
    const rl = cell(rlResult, optimum);
    const evaluations = Math.max(1, rl.evaluations);
    const row: Record<string, unknown> = {
      problem: name,
      layers: problem.layers.length,
      types: problem.types.length,
      optimum: exact.feasible ? exact.objective : null,
      proven: exact.provenOptimal ?? false,
      exactSeconds: exact.seconds,
      rl,
      rlCpuSeconds: (cpu.user + cpu.system) / 1e6,
      'rl+polish': cell(await reinforceSearcher({ polish: true }).search(problem, settings, { seed, maxEvaluations: evaluations }), optimum),
    };
    for (const method of BASELINES) {
      row[`${method}@evals`] = cell(await searcherByName(method).search(problem, settings, { seed, maxEvaluations: evaluations }), optimum);
      if (equalTime) row[`${method}@time`] = cell(await searcherByName(method).search(problem, settings, { seed, timeLimitS: Math.max(0.1, rl.seconds) }), optimum);
    }
    process.stderr.write(`${name}: rl ${rl.ratio?.toFixed(4) ?? 'inf.'} in ${rl.seconds.toFixed(1)} s\n`);
    rows.push(row);
  }
  const ratio = (c: Cell) => (c.ratio === null ? 'inf.' : c.ratio.toFixed(4));
  const fmt = (c: Cell) => `${ratio(c)} (${c.seconds.toFixed(1)} s)`;
  const head = [
    'problem', 'L', 'K', 'optimum (exact s)', 'RL ratio', 'RL s (cpu s)', 'RL evaluations', 'RL feasible', 'RL+polish @ RL evals',
    ...BASELINES.map((m) => `${m} @ RL evals`), ...(equalTime ? BASELINES.map((m) => `${m} @ RL s`) : []),
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => {
      const rl = r.rl as Cell;
      return `| ${[
        r.problem, r.layers, r.types,
        `${r.optimum === null ? 'infeasible' : Number(r.optimum).toPrecision(6)} (${Number(r.exactSeconds).toFixed(1)} s${r.proven ? '' : ', not proven'})`,
        ratio(rl), `${rl.seconds.toFixed(1)} (${Number(r.rlCpuSeconds).toFixed(1)})`, rl.evaluations, rl.feasible ? 'yes' : 'no',
        fmt(r['rl+polish'] as Cell),
        ...BASELINES.map((m) => fmt(r[`${m}@evals`] as Cell)),
        ...(equalTime ? BASELINES.map((m) => fmt(r[`${m}@time`] as Cell)) : []),
      ].join(' | ')} |`;
    }),
  ];
  const md = [
    '# Agent benchmark',
    '',
    `Command: \`npm run bench:agent -- ${args.join(' ')}\`. Seed ${seed}; tfjs backend ${backend}; RL alone (\`reinforce\`, no polish) with a ${seconds} s wall-time limit, as \`placer train --time-limit ${seconds} --no-polish\` runs it (it stops earlier once restarts stop improving). Ratio = objective / proven optimum (1 = optimal; inf. = no feasible placement found). RL+polish and the baselines get the evaluations RL used (simulator score() calls plus exact-decoder labels)${equalTime ? ', and the baselines also RL\'s wall time' : ''}; seconds in brackets.`,
    '',
    `Machine: ${cpus().length} cores, shared; load average at the start ${load.map((x) => x.toFixed(2)).join(', ')} (1, 5, 15 min), at the end ${loadavg().map((x) => x.toFixed(2)).join(', ')}. Wall-clock seconds are noisy under that load; cpu s is this process's CPU time.`,
    '',
    ...lines,
    '',
  ].join('\n');
  const dir = join(PACKAGE_ROOT, 'experiments', 'results');
  mkdirSync(dir, { recursive: true });
  const base = quick ? 'agent-bench-quick' : 'agent-bench';
  writeFileAtomic(join(dir, `${base}.md`), md);
  writeFileAtomic(join(dir, `${base}.json`), JSON.stringify({ seconds, seed, backend, loadAverage: { start: load, end: loadavg() }, rows }, null, 2) + '\n');
  process.stdout.write(md);
}

/** Per backend: ms per forward pass and per REINFORCE update (batch 64) of the default policy, on three chain lengths. */
async function backends(): Promise<void> {
  const lines = ['| backend | problem | L | forward ms | update ms |', '|---|---|---|---|---|'];
  for (const backend of ['cpu', 'wasm']) {
    try {
      await useBackend(backend);
    } catch (error) {
      lines.push(`| ${backend} | (does not load: ${(error as Error).message}) | | | |`);
      continue;
    }
    for (const name of ['vgg16', 'synthetic-60', 'gpt2-medium']) {
      const { problem, settings } = loadBundled(name);
      const trainer = new ReinforceTrainer(problem, settings, DEFAULT_REINFORCE_CONFIG, { seed: 1, iterations: 1 });
      const timing = trainer.timeNetwork(3, 20);
      trainer.dispose();
      lines.push(`| ${backend} | ${name} | ${problem.layers.length} | ${timing.forwardMs.toFixed(1)} | ${timing.updateMs.toFixed(1)} |`);
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
  }
  process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(', ')}\n${lines.join('\n')}\n`);
}

/**
 * Transfer: a policy trained on a source problem (restarts off, so the
 * policy is what was learned), applied to a target with a different number of
 * layers: zero-shot (its most likely assignment, exactly decoded, as
 * `placer place --policy` does) and fine-tuned for N updates, against N
 * updates from a fresh policy. Restarts are off in both arms so that the
 * comparison is of the starting policy alone; "before decode" is the best
 * sampled placement after the updates, "final" adds the end-of-run exact and
 * window decodes. Writes experiments/results/transfer.md and .json.
 */
async function transfer(args: string[], backend: string): Promise<void> {
  const sourceUpdates = Number(flag(args, 'source-updates', '100'));
  const updates = Number(flag(args, 'updates', '30'));
  const seed = Number(flag(args, 'seed', '1'));
  const pairs = flag(args, 'pairs', 'bert-base:gpt2-medium,vgg16:resnet50,synthetic-small:synthetic-60').split(',').map((p) => p.split(':'));
  const load = loadavg();
  const noRestarts = { ...DEFAULT_REINFORCE_CONFIG, restartSchedules: [] };
  interface Arm { beforeDecode: number; final: number | null; seconds: number }
  interface TransferRow {
    source: string; target: string; sourceLayers: number; targetLayers: number; sourceRatio: number;
    zeroShot: { ratio: number | null; seconds: number }; fineTuned: Arm; scratch: Arm;
  }
  const rows: TransferRow[] = [];
  const optimumOf = async (problem: ReturnType<typeof loadBundled>['problem'], settings: Settings) => (await exactSearcher.search(problem, settings, { seed, timeLimitS: 120 })).objective;
  for (const [sourceName, targetName] of pairs) {
    const source = loadBundled(sourceName);
    const target = loadBundled(targetName);
    const sourceOptimum = await optimumOf(source.problem, source.settings);
    const targetOptimum = await optimumOf(target.problem, target.settings);
    const trainer = new ReinforceTrainer(source.problem, source.settings, noRestarts, { seed, iterations: sourceUpdates });
    const sourceResult = await trainer.run();
    const weights = trainer.policy.weights();
    const config = trainer.policy.config;
    trainer.dispose();
    const arm = async (fromSource: boolean): Promise<Arm> => {
      const policy = fromSource ? PolicyNetwork.fromWeights(config, Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.clone()]))) : undefined;
      let beforeDecode = NaN;
      const started = performance.now();
      const run = new ReinforceTrainer(target.problem, target.settings, noRestarts, {
        seed, iterations: updates, policy,
        onIteration: (row) => { beforeDecode = row.bestObjective; },
      });
      const result = await run.run();
      const seconds = (performance.now() - started) / 1000;
      run.dispose();
      policy?.dispose();
      return { beforeDecode: beforeDecode / targetOptimum, final: result.feasible ? result.objective / targetOptimum : null, seconds };
    };
    const zeroPolicy = PolicyNetwork.fromWeights(config, Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.clone()])));
    const zeroTrainer = new ReinforceTrainer(target.problem, target.settings, { ...noRestarts, warmStart: false }, { seed, iterations: 0, policy: zeroPolicy });
    const t0 = performance.now();
    const zero = zeroTrainer.zeroShot();
    const zeroSeconds = (performance.now() - t0) / 1000;
    zeroTrainer.dispose();
    zeroPolicy.dispose();
    const fineTuned = await arm(true);
    const scratch = await arm(false);
    tf.dispose(Object.values(weights));
    const row: TransferRow = {
      source: sourceName, target: targetName, sourceLayers: source.problem.layers.length, targetLayers: target.problem.layers.length,
      sourceRatio: sourceResult.objective / sourceOptimum,
      zeroShot: { ratio: zero.feasible ? zero.objective / targetOptimum : null, seconds: zeroSeconds },
      fineTuned, scratch,
    };
    process.stderr.write(`${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  const r = (x: number | null) => (x === null || !Number.isFinite(x) ? 'inf.' : x.toFixed(4));
  const lines = [
    `| source → target | source ratio after ${sourceUpdates} updates | zero-shot | fine-tuned ${updates} updates: before decode / final (s) | from scratch ${updates} updates: before decode / final (s) |`,
    '|---|---|---|---|---|',
    ...rows.map((row) => {
      const f = row.fineTuned;
      const sc = row.scratch;
      return `| ${row.source} (${row.sourceLayers}) → ${row.target} (${row.targetLayers}) | ${r(row.sourceRatio)} | ${r(row.zeroShot.ratio)} (${row.zeroShot.seconds.toFixed(1)} s) | ${r(f.beforeDecode)} / ${r(f.final)} (${f.seconds.toFixed(1)} s) | ${r(sc.beforeDecode)} / ${r(sc.final)} (${sc.seconds.toFixed(1)} s) |`;
    }),
  ];
  const md = [
    '# Transfer',
    '',
    `Command: \`npm run bench:agent -- ${args.join(' ')}\`. Seed ${seed}; tfjs backend ${backend}; ratios to the proven optimum of the target (1 = optimal). A policy trained ${sourceUpdates} updates on the source (restarts off), then on the target: zero-shot (the policy's most likely assignment, exactly decoded, no heuristic warm start), fine-tuned ${updates} updates, and ${updates} updates from a fresh policy (restarts off in both; heuristic warm start on in both). Before decode: the best placement after the updates (sampled, plus the window decode that runs every 20 updates); final: with the end-of-run exact and window decodes.`,
    '',
    `Load average at the start ${load.map((x) => x.toFixed(2)).join(', ')}, at the end ${loadavg().map((x) => x.toFixed(2)).join(', ')} (2 cores, shared).`,
    '',
    ...lines,
    '',
  ].join('\n');
  const dir = join(PACKAGE_ROOT, 'experiments', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'transfer.md'), md);
  writeFileAtomic(join(dir, 'transfer.json'), JSON.stringify({ seed, backend, sourceUpdates, updates, loadAverage: { start: load, end: loadavg() }, rows }, null, 2) + '\n');
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
      const { forwardMs } = trainer.timeNetwork(0, 5);
      trainer.dispose();
      lines.push(`| ${encoder} (seed ${seed}) | ${(result.objective / exact.objective).toFixed(4)} | ${total.toFixed(1)} | ${forwardMs.toFixed(1)} (forward) | ${firstWithin ?? 'never'} |`);
      process.stderr.write(`${lines[lines.length - 1]}\n`);
    }
  }
  process.stdout.write(`encoders on ${name}:\n${lines.join('\n')}\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--backends') return backends();
  const backend = await selectBackend(process.env.PLACER_BACKEND ?? 'auto', (line) => process.stderr.write(`placer: ${line}\n`));
  if (args[0] === '--encoders') await encoders(args.slice(1));
  else if (args[0] === '--transfer') await transfer(args, backend);
  else await table(args, backend);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
