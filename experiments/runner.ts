/**
 * The experiment runner (`npm run exp:budget|exp:scaling|exp:seeds|exp:all|exp:merge`).
 *
 *   node dist/experiments/runner.js <budget|scaling|seeds|all|merge> [--quick] [--shard i/N]
 *        [--workers N] [--results DIR] [--config FILE] [--from DIR ...]
 *
 * A sweep: load and check its config, expand it into runs, keep this shard's
 * runs that have no result file yet, run them on a worker pool (piscina, one
 * thread per core) with a progress bar on stderr, then (unsharded) write the
 * tables, CSV, JSON, plots and READMEs. `merge` gathers shards' run files and
 * writes the reports.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { basename, dirname, join, resolve } from 'node:path';
import { Piscina } from 'piscina';
import { PACKAGE_ROOT } from '../env/bundled.js';
import { UserError } from '../env/errors.js';
import { writeJsonAtomic } from '../env/atomic-write.js';
import { loadSweepConfig, SWEEP_KINDS, type SweepConfig, type SweepKind } from './config.js';
import { progress } from '../bin/progress.js';
import { updateProjectReadme, writeResultsReadme } from './readme.js';
import { reportSweep, type SweepReport } from './report.js';
import { timedOutResult, type RunResult } from './run-one.js';
import { expandRuns, loadProblemRef, parseShard, pendingRuns, resultPath, shardRuns, writeTimedOutRecord, type RunSpec } from './runs.js';

interface Args {
  command: SweepKind | 'all' | 'merge';
  quick: boolean;
  shard: { index: number; count: number } | null;
  workers: number;
  resultsDir: string;
  configFile: string | null;
  from: string[];
  /** Run only these methods now (the rest of the sweep stays to do); null = all. */
  methods: string[] | null;
}

const USAGE = 'usage: runner <budget|scaling|seeds|all|merge> [--quick] [--shard i/N] [--methods a,b] [--workers N] [--results DIR] [--config FILE] [--from DIR ...]';

export function parseArgs(argv: string[]): Args {
  const [command, ...rest] = argv;
  if (!command || ![...SWEEP_KINDS, 'all', 'merge'].includes(command)) throw new UserError(USAGE);
  const args: Args = {
    command: command as Args['command'],
    quick: false,
    shard: null,
    workers: availableParallelism(),
    resultsDir: '',
    configFile: null,
    from: [],
    methods: null,
  };
  let results: string | null = null;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = () => {
      const v = rest[++i];
      if (v === undefined || v.startsWith('--')) throw new UserError(`${flag}: missing value (${USAGE})`);
      return v;
    };
    if (flag === '--quick') args.quick = true;
    else if (flag === '--shard') {
      try {
        args.shard = parseShard(value());
      } catch (error) {
        throw new UserError((error as Error).message);
      }
    } else if (flag === '--workers') {
      const text = value();
      args.workers = Number(text);
      if (!Number.isInteger(args.workers) || args.workers < 1) throw new UserError(`--workers: expected a positive integer, got "${text}"`);
    } else if (flag === '--results') results = resolve(value());
    else if (flag === '--config') args.configFile = resolve(value());
    else if (flag === '--methods') args.methods = value().split(',');
    else if (flag === '--from') {
      while (rest[i + 1] !== undefined && !rest[i + 1].startsWith('--')) args.from.push(resolve(rest[++i]));
      if (args.from.length === 0) throw new UserError(`--from: missing folder (${USAGE})`);
    } else throw new UserError(`unknown option "${flag}" (${USAGE})`);
  }
  if (args.configFile && (args.command === 'all' || args.command === 'merge')) throw new UserError(`--config: only with one sweep, not "${args.command}"`);
  const base = join(PACKAGE_ROOT, 'experiments', 'results');
  // A custom config gets its own folder by default, so its runs never overwrite the committed sweep's.
  const defaultDir = args.configFile ? join(base, `custom-${basename(args.configFile, '.json')}`) : base;
  args.resultsDir = results ?? (args.quick ? join(defaultDir, 'quick') : defaultDir);
  return args;
}

export const configFileOf = (sweep: SweepKind) => join(PACKAGE_ROOT, 'experiments', 'configs', `${sweep}.json`);

/**
 * Run order: small problems first (so a sweep cut short still has whole
 * problems), and within a problem exact first (its runs are the longest).
 */
function orderKey(run: RunSpec, layers: number): number {
  return layers * 2 + (run.method === 'exact' ? 0 : 1);
}

async function runSweep(pool: Piscina, sweep: SweepKind, args: Args, runsDir: string): Promise<{ config: SweepConfig; expected: RunSpec[]; configFile: string; failures: number }> {
  const configFile = args.configFile ?? configFileOf(sweep);
  const config = loadSweepConfig(configFile, args.quick);
  if (config.sweep !== sweep) throw new UserError(`${configFile}: sweep is "${config.sweep}", expected "${sweep}"`);
  const expected = expandRuns(config);
  const sharded = args.shard ? shardRuns(expected, args.shard) : expected;
  const mine = args.methods ? sharded.filter((run) => args.methods!.includes(run.method)) : sharded;
  const layerCounts = new Map<string, number>();
  const layersOf = (run: RunSpec) => {
    if (run.problem.kind === 'synthetic') return run.problem.layers;
    if (!layerCounts.has(run.problemLabel)) layerCounts.set(run.problemLabel, loadProblemRef(run.problem).problem.layers.length);
    return layerCounts.get(run.problemLabel)!;
  };
  const todo = pendingRuns(mine, runsDir).sort((a, b) => orderKey(a, layersOf(a)) - orderKey(b, layersOf(b)));
  const shardText = args.shard ? ` shard ${args.shard.index}/${args.shard.count}` : '';
  process.stderr.write(
    `${sweep}${shardText}: ${expected.length} runs in the sweep, ${mine.length} selected${args.shard || args.methods ? ` (${[args.shard ? `shard ${args.shard.index}/${args.shard.count}` : '', args.methods ? `methods ${args.methods.join(',')}` : ''].filter(Boolean).join(', ')})` : ''}, ${mine.length - todo.length} already done, ${todo.length} to run on ${args.workers} workers\n`,
  );
  const bar = progress(sweep, { total: todo.length });
  let failures = 0;
  await Promise.all(
    todo.map(async (run) => {
      // The hard cap: aborting a running task makes piscina stop its worker thread (a searcher cannot ignore it).
      // The clock starts when a worker takes the task (the worker reports it), not when it is queued.
      const abort = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      let started = 0;
      const onStart = () => {
        started = performance.now();
        timer = setTimeout(() => abort.abort(), run.runTimeLimitS * 1000);
      };
      try {
        const { port1, port2 } = new MessageChannel();
        port1.once('message', onStart);
        port1.unref();
        const result = (await pool.run({ run, runsDir, workers: args.workers, started: port2 }, { signal: abort.signal, transferList: [port2] })) as RunResult;
        port1.close();
        bar.tick(`${run.id} ${result.feasible ? `${result.stepMs.toFixed(1)} ms` : 'infeasible'} ${result.seconds.toFixed(1)} s`);
      } catch (error) {
        if (abort.signal.aborted) {
          const written = writeTimedOutRecord(runsDir, run, timedOutResult(run, (performance.now() - started) / 1000, args.workers));
          bar.tick(written ? `${run.id} timed out (> ${run.runTimeLimitS} s)` : `${run.id} finished as its time ran out (result kept)`);
          return;
        }
        failures++;
        process.stderr.write(`\n${sweep}: run ${run.id} failed: ${(error as Error).message}\n`);
        bar.tick(`${run.id} FAILED`);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  bar.done();
  return { config, expected, configFile, failures };
}

async function report(sweep: SweepKind, args: Args, runsDir: string, given?: { config: SweepConfig; expected: RunSpec[]; configFile: string }): Promise<SweepReport> {
  const configFile = given?.configFile ?? args.configFile ?? configFileOf(sweep);
  const config = given?.config ?? loadSweepConfig(configFile, args.quick);
  const expected = given?.expected ?? expandRuns(config);
  const result = await reportSweep({ resultsDir: args.resultsDir, runsDir, config, expected, quick: args.quick, configFile });
  process.stderr.write(`${sweep}: wrote ${join(args.resultsDir, `${sweep}.csv`)}, .json, .md and plots\n`);
  return result;
}

function finishReadmes(args: Args, reports: SweepReport[]): void {
  writeResultsReadme(args.resultsDir, args.quick);
  const headline = reports.find((r) => r.headline)?.headline;
  // Only full runs into the default folder speak for the project.
  if (!args.quick && headline && args.resultsDir === join(PACKAGE_ROOT, 'experiments', 'results')) {
    updateProjectReadme(join(PACKAGE_ROOT, 'README.md'), headline);
  }
  process.stdout.write(`${join(args.resultsDir, 'README.md')}\n`);
}

/** Copies run files from other results folders (other shards) into ours; existing ones are kept. */
function gatherRuns(from: string[], runsDir: string): number {
  let copied = 0;
  for (const dir of from) {
    const source = existsSync(join(dir, 'runs')) ? join(dir, 'runs') : dir;
    if (!existsSync(source)) throw new UserError(`--from: no folder ${dir}`);
    for (const file of readdirSync(source, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.json')) continue;
      const target = join(runsDir, file);
      if (existsSync(target)) continue;
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(join(source, file), target);
      copied++;
    }
  }
  return copied;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runsDir = join(args.resultsDir, 'runs');
  mkdirSync(runsDir, { recursive: true });
  // Quick smoke results (and custom configs' default folders) stay out of git without touching the project's .gitignore.
  if (args.quick || (args.configFile && args.resultsDir.startsWith(join(PACKAGE_ROOT, 'experiments', 'results', 'custom-')))) {
    writeFileSync(join(args.resultsDir, '.gitignore'), '*\n');
  }

  if (args.command === 'merge') {
    if (args.from.length) process.stderr.write(`merge: copied ${gatherRuns(args.from, runsDir)} run files\n`);
    const reports: SweepReport[] = [];
    for (const sweep of SWEEP_KINDS) if (existsSync(join(runsDir, sweep))) reports.push(await report(sweep, args, runsDir));
    finishReadmes(args, reports);
    return;
  }
  const sweeps: SweepKind[] = args.command === 'all' ? [...SWEEP_KINDS] : [args.command];
  const pool = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: args.workers,
    maxThreads: args.workers,
    idleTimeout: 1000,
  });
  const reports: SweepReport[] = [];
  let failures = 0;
  try {
    for (const sweep of sweeps) {
      const ran = await runSweep(pool, sweep, args, runsDir);
      failures += ran.failures;
      if (!args.shard) reports.push(await report(sweep, args, runsDir, ran));
    }
  } finally {
    await pool.destroy();
  }
  if (args.command === 'all' && !args.shard) {
    // The fidelity experiment trains real models on this machine; it has its own script.
    const fidelity = spawnSync('npm', ['run', 'exp:fidelity', ...(args.quick ? ['--', '--quick'] : [])], { stdio: 'inherit', cwd: PACKAGE_ROOT });
    if (fidelity.status !== 0) {
      failures++;
      process.stderr.write(`all: exp:fidelity exited with ${fidelity.status}\n`);
    }
  }
  if (args.shard) {
    process.stderr.write(`shard ${args.shard.index}/${args.shard.count} done; once every shard is, run: npm run exp:merge${args.resultsDir !== join(PACKAGE_ROOT, 'experiments', 'results') ? ` -- --results ${args.resultsDir}` : ''}\n`);
  } else {
    finishReadmes(args, reports);
  }
  if (failures) throw new Error(`${failures} run(s) failed (see above); rerun to retry only those`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((error: unknown) => {
    if (error instanceof UserError || (error as Error).message?.endsWith('rerun to retry only those')) {
      process.stderr.write(`${(error as Error).message}\n`);
    } else {
      process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    }
    process.exit(1);
  });
}
