/**
 * `placer train`: the policy-gradient agent on one problem. Writes
 * DIR/placement.json (the best placement), DIR/history.csv (one row per
 * update), DIR/policy/ (the network) and DIR/checkpoint/ (what --resume needs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import { UserError } from '../../env/errors.js';
import type { Problem, Settings } from '../../env/problem.js';
import { selectBackend } from '../../agent/backend.js';
import { certifiedPlacementJson } from '../../agent/export.js';
import { ENCODER_KINDS, type EncoderKind, type PolicyNetwork } from '../../agent/policy.js';
import { fileIO, loadPolicy, loadTensors, savePolicy, saveTensors } from '../../agent/policy-io.js';
import {
  DEFAULT_REINFORCE_CONFIG,
  ReinforceTrainer,
  type HistoryRow,
  type ReinforceConfig,
  type TrainerState,
} from '../../agent/reinforce.js';
import type { SearchResult } from '../../agent/searcher.js';
import { addProblemOptions, loadProblemFromOptions, positiveInteger, type ProblemOptions } from '../common.js';

export interface TrainCommandOptions extends ProblemOptions {
  seed: number;
  out: string;
  iterations?: number;
  timeLimit?: number;
  maxEvaluations?: number;
  checkpointEvery: number;
  resume?: string;
  backend: string;
  encoder?: EncoderKind;
  batchSize?: number;
  polish: boolean;
  quick?: boolean;
  progress: boolean;
}

export const HISTORY_HEADER = 'iteration,meanReward,bestReward,feasibleShare,entropy,bestObjective,evaluations,seconds';

export function historyLine(row: HistoryRow): string {
  const n = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(8)).toString() : '');
  return [row.iteration, n(row.meanReward), n(row.bestReward), n(row.feasibleShare), n(row.entropy), n(row.bestObjective), row.evaluations, row.seconds.toFixed(3)].join(',');
}

function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new UserError(`${name} must be a number > 0, got "${value}"`);
    return n;
  };
}

/** Adds the options `train` and `place --fine-tune` share. */
export function addTrainingOptions(command: Command): Command {
  return command
    .option('--seed <n>', 'seed of every random choice (never 0)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n === 0) throw new UserError(`--seed must be a whole number other than 0, got "${v}"`);
      return n;
    }, 1)
    .option('--out <dir>', 'output folder: placement.json, history.csv, policy/, checkpoint/', 'runs/train')
    .option('--time-limit <seconds>', 'stop after this many seconds and export the best (wall clock: not reproducible)', positiveNumber('--time-limit'))
    .option('--max-evaluations <n>', 'stop after this many simulator evaluations', positiveInteger('--max-evaluations'))
    .option('--checkpoint-every <n>', 'write policy/ and checkpoint/ every n updates (and on Ctrl-C)', positiveInteger('--checkpoint-every'), 50)
    .option('--backend <name>', 'tfjs backend: auto, cpu, wasm, tensorflow, tensorflow-gpu', 'auto')
    .addOption(new Option('--encoder <kind>', `chain encoder of a new policy (default ${DEFAULT_REINFORCE_CONFIG.policy.encoder ?? 'conv'})`).choices([...ENCODER_KINDS]))
    .option('--batch-size <n>', `sampled placements per update (default ${DEFAULT_REINFORCE_CONFIG.batchSize})`, positiveInteger('--batch-size'))
    .option('--no-polish', 'skip the final local-search polish (RL alone)')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--quick', 'a smoke run: 5 updates of 8 samples');
}

export function register(program: Command): void {
  addTrainingOptions(
    addProblemOptions(
      program
        .command('train')
        .description('train the policy-gradient agent on a problem and export its best placement (DIR/placement.json, history.csv, policy/)'),
    ),
  )
    .option('--iterations <n>', `policy updates (default ${DEFAULT_REINFORCE_CONFIG.defaultIterations} when no --time-limit / --max-evaluations); reproducible`, positiveInteger('--iterations'))
    .option('--resume <dir>', 'continue the run checkpointed in DIR (same problem flags)')
    .action(async (options: TrainCommandOptions) => {
      await trainCommand(options);
    });
}

interface CheckpointState extends TrainerState {
  seed: number;
  layerCount: number;
  typeCount: number;
  config: ReinforceConfig;
  optimizerIterations: number;
}

/** Runs a training (fresh, resumed or from a given policy) and writes everything; shared with `place --fine-tune`. */
export async function trainCommand(
  options: TrainCommandOptions,
  start?: { policy: PolicyNetwork; problem?: { problem: Problem; settings: Settings }; label?: string },
): Promise<SearchResult> {
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`placer: ${line}\n`);
  await selectBackend(options.backend, log);
  const loaded = start?.problem ?? loadProblemFromOptions(options);
  const { problem, settings } = loaded;
  const out = options.out;
  let config: ReinforceConfig = {
    ...DEFAULT_REINFORCE_CONFIG,
    policy: { ...DEFAULT_REINFORCE_CONFIG.policy, ...(options.encoder ? { encoder: options.encoder } : {}) },
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
    polish: options.polish,
  };
  let iterations = options.iterations;
  if (options.quick) {
    config = { ...config, batchSize: 8 };
    iterations = 5;
  }
  let policy = start?.policy;
  let resume: CheckpointState | undefined;
  const history: string[] = [HISTORY_HEADER];
  if (options.resume) {
    const stateFile = join(options.resume, 'checkpoint', 'state.json');
    if (!existsSync(stateFile)) throw new UserError(`--resume: ${stateFile} not found (not a folder written by "placer train")`);
    resume = JSON.parse(readFileSync(stateFile, 'utf8')) as CheckpointState;
    if (resume.layerCount !== problem.layers.length || resume.typeCount !== problem.types.length) {
      throw new UserError(`--resume: the checkpoint is of a problem with ${resume.layerCount} layers and ${resume.typeCount} types, not this one (${problem.layers.length}, ${problem.types.length})`);
    }
    config = { ...resume.config, polish: options.polish };
    policy = (await loadPolicy(join(options.resume, 'policy'))).policy;
    const oldHistory = join(options.resume, 'history.csv');
    if (existsSync(oldHistory)) {
      history.push(...readFileSync(oldHistory, 'utf8').trim().split('\n').slice(1).filter((line) => Number(line.split(',')[0]) <= resume!.iteration));
    }
    log(`resuming ${options.resume} at update ${resume.iteration}`);
  }
  const seed = resume?.seed ?? options.seed;
  let stopRequested = false;
  const onSigint = () => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    log('Ctrl-C: stopping after this update, checkpointing and exporting the best (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);
  // Leave time for the export within the time limit: startup already spent, and a small margin.
  const timeLimitS =
    options.timeLimit !== undefined ? Math.max(0.5, options.timeLimit - (performance.now() - started) / 1000 - Math.min(3, 0.05 * options.timeLimit)) : undefined;
  const bar = new ProgressBar(options.progress !== false, settings.objective);
  const trainer = new ReinforceTrainer(problem, settings, config, {
    seed,
    iterations,
    maxEvaluations: options.maxEvaluations,
    timeLimitS,
    policy,
    resume,
    shouldStop: () => stopRequested,
    onIteration: async (row, t) => {
      history.push(historyLine(row));
      bar.update(row, iterations);
      if (row.iteration % options.checkpointEvery === 0) await checkpoint(t);
    },
  });
  if (resume) await restoreOptimizer(trainer, join(options.resume!, 'checkpoint'), resume.optimizerIterations);

  async function checkpoint(t: ReinforceTrainer): Promise<void> {
    await savePolicy(t.policy, join(out, 'policy'), { training: { seed, iteration: t.iteration } });
    const { iterations: optimizerIterations, tensors } = await t.optimizerWeights();
    try {
      await saveTensors(fileIO(join(out, 'checkpoint')), { format: 'placer-adam' }, tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
    const state: CheckpointState = {
      ...t.state(),
      seed,
      layerCount: problem.layers.length,
      typeCount: problem.types.length,
      config,
      optimizerIterations,
    };
    writeJsonAtomic(join(out, 'checkpoint', 'state.json'), state);
    writeFileAtomic(join(out, 'history.csv'), history.join('\n') + '\n');
  }

  let result: SearchResult;
  try {
    result = await trainer.run();
    bar.done();
    await checkpoint(trainer);
  } finally {
    process.off('SIGINT', onSigint);
  }
  // Certified (lower bound and gap, agent/certify.ts), after the search: 2 s by default.
  const json = await certifiedPlacementJson(problem, settings, result.placement, {
    seed,
    seconds: Number(result.seconds.toFixed(3)),
    method: result.method,
    ...(start?.label ? { policy: start.label } : {}),
    iterations: trainer.iteration,
    evaluations: result.evaluations,
  });
  writeJsonAtomic(join(out, 'placement.json'), json);
  trainer.dispose();
  const what = settings.objective === 'cost' ? `${json.costPerStep} $/step` : `${json.stepMs} ms/step`;
  if (json.feasible) {
    process.stdout.write(`${out}/placement.json: ${what}, ${json.pricePerHour} $/h, ${json.stages.length} stages (${result.method}, ${trainer.iteration} updates, ${result.evaluations} evaluations)\n`);
  } else {
    process.stdout.write(`${out}/placement.json: no feasible placement found; the least violating one:\n${(json.violations ?? []).map((v) => `  - ${v}\n`).join('')}`);
  }
  return result;
}

async function restoreOptimizer(trainer: ReinforceTrainer, dir: string, optimizerIterations: number): Promise<void> {
  const { tensors } = await loadTensors(fileIO(dir));
  try {
    await trainer.setOptimizerWeights(optimizerIterations, tensors);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** One line on stderr, rewritten in place on a terminal; a line per 10% otherwise. */
class ProgressBar {
  private lastTenth = -1;
  constructor(private readonly enabled: boolean, private readonly objective: Settings['objective']) {}

  update(row: HistoryRow, iterations?: number): void {
    if (!this.enabled) return;
    const fraction = iterations ? row.iteration / iterations : undefined;
    const width = 20;
    const filled = fraction !== undefined ? Math.round(width * Math.min(1, fraction)) : 0;
    const bar = fraction !== undefined ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
    const best = Number.isFinite(row.bestObjective)
      ? this.objective === 'cost' ? `${row.bestObjective.toExponential(4)} $/step` : `${row.bestObjective.toFixed(2)} ms`
      : 'none feasible';
    const line = `${bar}update ${row.iteration}${iterations ? `/${iterations}` : ''}  best ${best}  feasible ${(100 * row.feasibleShare).toFixed(0)}%  entropy ${row.entropy.toFixed(3)}  ${row.seconds.toFixed(1)} s`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${line.padEnd(100)}`);
    } else {
      const tenth = fraction !== undefined ? Math.floor(fraction * 10) : Math.floor(row.iteration / 50);
      if (tenth !== this.lastTenth) {
        this.lastTenth = tenth;
        process.stderr.write(`${line}\n`);
      }
    }
  }

  done(): void {
    if (this.enabled && process.stderr.isTTY) process.stderr.write('\n');
  }
}
