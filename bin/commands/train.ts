/**
 * `placer train`: the policy-gradient agent on one problem. Writes
 * DIR/placement.json (the best placement), DIR/history.csv (one row per
 * update), DIR/policy/ (the network) and DIR/checkpoint/ (what --resume
 * needs; agent/checkpoint.ts). One run per DIR at a time (DIR/.placer.lock).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { prepareOutputFolder, writeJsonAtomic } from '../../env/atomic-write.js';
import { lockFolder } from '../../env/folder-lock.js';
import { UserError } from '../../env/errors.js';
import { loadProblem } from '../../env/load.js';
import { bundledProblem } from '../../env/bundled.js';
import type { Problem, Settings } from '../../env/problem.js';
import { selectBackend } from '../../agent/backend.js';
import {
  loadCheckpointWeights,
  problemRecord,
  readCheckpoint,
  restoreOptimizer,
  saveCheckpoint,
  type CheckpointRecord,
  RunHistory,
  type RunRecord,
} from '../../agent/checkpoint.js';
import { certifiedPlacementJson } from '../../agent/export.js';
import { ENCODER_KINDS, type EncoderKind, type PolicyNetwork } from '../../agent/policy.js';
import { savePolicyFolder } from '../../agent/policy-io.js';
import {
  DECODER_KINDS,
  DEFAULT_REINFORCE_CONFIG,
  ReinforceTrainer,
  withLearningRate,
  type DecoderKind,
  type HistoryRow,
  type ReinforceConfig,
} from '../../agent/reinforce.js';
import type { SearchResult } from '../../agent/searcher.js';
import { progress } from '../progress.js';
import { addProblemOptions, loadProblemFromOptions, positiveInteger, positiveNumber, type LoadedProblem, type ProblemOptions } from '../common.js';

export interface TrainCommandOptions extends ProblemOptions {
  seed: number;
  out?: string;
  iterations?: number;
  timeLimit?: number;
  maxEvaluations?: number;
  checkpointEvery: number;
  resume?: string;
  backend: string;
  encoder?: EncoderKind;
  batchSize?: number;
  decoder: DecoderKind;
  learningRate?: number;
  quick?: boolean;
  progress: boolean;
}

export const DEFAULT_TRAIN_OUT = 'runs/train';

export const HISTORY_HEADER = 'iteration,meanReward,bestReward,feasibleShare,entropy,bestObjective,evaluations,seconds';

export function historyLine(row: HistoryRow): string {
  const n = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(8)).toString() : '');
  return [row.iteration, n(row.meanReward), n(row.bestReward), n(row.feasibleShare), n(row.entropy), n(row.bestObjective), row.evaluations, row.seconds.toFixed(3)].join(',');
}

/** Adds the options `train` and `place --fine-tune` share (`--out` is each command's own). */
export function addTrainingOptions(command: Command): Command {
  return command
    .option('--seed <n>', 'seed of every random choice (never 0)', (v) => {
      const n = /^[+-]?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n === 0) throw new UserError(`--seed must be a whole number other than 0, got "${v}"`);
      return n;
    }, 1)
    .option('--time-limit <seconds>', 'stop after this many seconds and export the best (wall clock: not reproducible)', positiveNumber('--time-limit'))
    .option('--max-evaluations <n>', 'stop after this many simulator evaluations', positiveInteger('--max-evaluations', Number.MAX_SAFE_INTEGER))
    .option('--checkpoint-every <n>', 'write checkpoint/ every n updates (and at the end, and on Ctrl-C)', positiveInteger('--checkpoint-every'), 50)
    .option('--backend <name>', 'tfjs backend: auto, cpu, wasm, tensorflow, tensorflow-gpu', 'auto')
    .addOption(new Option('--encoder <kind>', `chain encoder of a new policy (default ${DEFAULT_REINFORCE_CONFIG.policy.encoder ?? 'conv'})`).choices([...ENCODER_KINDS]))
    .option('--batch-size <n>', `sampled placements per update (default ${DEFAULT_REINFORCE_CONFIG.batchSize})`, positiveInteger('--batch-size', 10_000))
    .addOption(new Option('--decoder <kind>', 'none: the policy alone (method reinforce); dp: plus exact decodes of its best placement (method reinforce-dp), every label counted as an evaluation').choices([...DECODER_KINDS]).default('none'))
    .option('--learning-rate <x>', 'learning rate of every schedule (0 freezes the policy)', (v) => {
      const n = /^\s*[0-9.eE+-]+\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n) || n < 0) throw new UserError(`--learning-rate must be a number >= 0, got "${v}"`);
      return n;
    })
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
    .option('--out <dir>', `output folder: placement.json, history.csv, policy/, checkpoint/ (default ${DEFAULT_TRAIN_OUT}; with --resume, the resumed folder)`)
    .option('--iterations <n>', `policy updates (default ${DEFAULT_REINFORCE_CONFIG.defaultIterations} when no --time-limit / --max-evaluations); reproducible`, positiveInteger('--iterations'))
    .option('--resume <dir>', 'continue the run checkpointed in DIR (its problem, settings and stopping rule unless given again)')
    .action(async (options: TrainCommandOptions) => {
      await trainCommand(options);
    });
}

const problemFlagsGiven = (options: ProblemOptions) =>
  [options.layers, options.devices, options.profile, options.problem].some((x) => x !== undefined);

/** The problem a checkpoint recorded, with any settings given again on the command line. */
function recordedProblem(record: CheckpointRecord, options: ProblemOptions): LoadedProblem {
  const files = 'bundled' in record.problem ? bundledProblem(record.problem.bundled).files : record.problem;
  const problemName = 'bundled' in record.problem ? record.problem.bundled : undefined;
  const objective = options.objective ?? record.settings.objective;
  const settings: Settings = {
    microBatches: options.microBatches ?? record.settings.microBatches,
    objective,
    budget: objective === 'time' ? (options.budget ?? record.settings.budget) : Infinity,
    deadline: objective === 'cost' ? (options.deadline ?? record.settings.deadline) : Infinity,
  };
  return { problem: loadProblem(files), settings, problemName, files };
}

/** Runs a training (fresh, resumed or from a given policy) and writes everything; shared with `place --fine-tune`. */
export async function trainCommand(
  options: TrainCommandOptions,
  start?: { policy: PolicyNetwork; problem?: LoadedProblem; label?: string; config?: Partial<ReinforceConfig>; beforeRun?: (trainer: ReinforceTrainer) => void },
): Promise<SearchResult> {
  const started = performance.now();
  const log = (line: string) => process.stderr.write(`placer: ${line}\n`);
  // Everything that can be refused is checked before any work: the checkpoint, the problem, the output folder.
  const resumed = options.resume !== undefined ? readCheckpoint(options.resume) : undefined;
  const loaded = start?.problem ?? (resumed && !problemFlagsGiven(options) ? recordedProblem(resumed.record, options) : loadProblemFromOptions(options));
  const { problem, settings } = loaded;
  if (resumed && (resumed.record.layerCount !== problem.layers.length || resumed.record.typeCount !== problem.types.length)) {
    throw new UserError(
      `--resume: ${join(resumed.dir, 'state.json')} is of a problem with ${resumed.record.layerCount} layers and ${resumed.record.typeCount} types, not this one (${problem.layers.length} layers, ${problem.types.length} types)`,
    );
  }
  const out = options.out ?? options.resume ?? DEFAULT_TRAIN_OUT;
  prepareOutputFolder(out);
  const lock = lockFolder(out, '--out', log);
  await selectBackend(options.backend, log);

  let config: ReinforceConfig = resumed
    ? resumed.record.config
    : {
        ...DEFAULT_REINFORCE_CONFIG,
        policy: { ...DEFAULT_REINFORCE_CONFIG.policy, ...(options.encoder ? { encoder: options.encoder } : {}) },
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
        decoder: options.decoder ?? 'none',
        // place --fine-tune: its changes to the defaults (agent/pretrain/fine-tune.ts).
        ...start?.config,
      };
  if (options.learningRate !== undefined && !resumed) config = withLearningRate(config, options.learningRate);
  let iterations = options.iterations ?? (resumed && options.timeLimit === undefined && options.maxEvaluations === undefined ? resumed.record.iterations : undefined);
  if (options.quick && !resumed) {
    config = { ...config, batchSize: 8 };
    iterations = 5;
  }
  const maxEvaluations = options.maxEvaluations ?? (resumed && options.iterations === undefined ? resumed.record.maxEvaluations : undefined);
  let policy = start?.policy;
  let history = RunHistory.fresh(join(out, 'history.csv'), HISTORY_HEADER);
  let optimizerSlots: Awaited<ReturnType<typeof loadCheckpointWeights>>['optimizer'] | undefined;
  if (resumed) {
    const weights = await loadCheckpointWeights(resumed.dir);
    policy = weights.policy;
    optimizerSlots = weights.optimizer;
    history = RunHistory.resumed(join(out, 'history.csv'), resumed.dir, log);
    log(`resuming ${options.resume} at update ${resumed.record.state.iteration}${iterations !== undefined ? ` (to update ${iterations})` : ''}`);
  }
  const seed = resumed?.record.seed ?? options.seed;
  const run: RunRecord = {
    seed,
    config,
    problem: problemRecord(loaded.problemName, loaded.files),
    settings,
    iterations,
    maxEvaluations,
    checkpointEvery: options.checkpointEvery,
  };
  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    log('Ctrl-C: stopping after this update, checkpointing and exporting the best (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);
  // Leave time for the export within the time limit: startup already spent, and a small margin.
  const timeLimitS =
    options.timeLimit !== undefined ? Math.max(0.5, options.timeLimit - (performance.now() - started) / 1000 - Math.min(3, 0.05 * options.timeLimit)) : undefined;
  const bar = trainingProgress(options.progress !== false, settings.objective, iterations);
  const trainer = new ReinforceTrainer(problem, settings, config, {
    seed,
    iterations,
    maxEvaluations,
    timeLimitS,
    policy,
    resume: resumed?.record.state,
    signal: stop.signal,
    onIteration: async (row, t) => {
      history.add(historyLine(row));
      bar.update(row);
      if (row.iteration % options.checkpointEvery === 0) await checkpoint(t);
    },
  });
  if (resumed && optimizerSlots) await restoreOptimizer(trainer, resumed.record.optimizerIterations, optimizerSlots);
  // place --fine-tune: the policy's own zero-shot placement is scored (and counted) first, so fine-tuning starts from it.
  if (start?.beforeRun && !resumed) start.beforeRun(trainer);

  /** The checkpoint set first, then history.csv: the file never runs ahead of a checkpoint. */
  async function checkpoint(t: ReinforceTrainer): Promise<void> {
    await saveCheckpoint(out, t, run, history.text);
    history.flush();
  }

  let result: SearchResult;
  try {
    result = await trainer.run();
    bar.done();
    await checkpoint(trainer);
    await savePolicyFolder(trainer.policy, join(out, 'policy'), { training: { seed, iteration: trainer.iteration } });
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
    ...provenance(loaded),
  });
  writeJsonAtomic(join(out, 'placement.json'), json);
  trainer.dispose();
  if (resumed) policy?.dispose();
  lock.release();
  const what = settings.objective === 'cost' ? `${json.costPerStep} $/step` : `${json.stepMs} ms/step`;
  if (json.feasible) {
    process.stdout.write(`${out}/placement.json: ${what}, ${json.pricePerHour} $/h, ${json.stages.length} stages (${result.method}, ${trainer.iteration} updates, ${result.evaluations} evaluations)\n`);
  } else {
    process.stdout.write(`${out}/placement.json: no feasible placement found; the least violating one:\n${(json.violations ?? []).map((v) => `  - ${v}\n`).join('')}`);
  }
  return result;
}

/** Where a placement's figures come from: the problem's files (and bundled name), so validate can predict from the same profile. */
export function provenance(loaded: LoadedProblem): Record<string, unknown> {
  const { profile, devices } = loaded.files;
  return {
    problem: loaded.problemName ?? null,
    profileFile: resolve(profile),
    profileSha256: sha256File(profile),
    devicesFile: resolve(devices),
    devicesSha256: sha256File(devices),
  };
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** The training line of the progress renderer: update, best, feasible share, entropy. */
function trainingProgress(enabled: boolean, objective: Settings['objective'], iterations?: number) {
  const bar = progress('train', { enabled });
  return {
    update(row: HistoryRow): void {
      const best = Number.isFinite(row.bestObjective)
        ? objective === 'cost' ? `${row.bestObjective.toExponential(4)} $/step` : `${row.bestObjective.toFixed(2)} ms`
        : 'none feasible';
      bar.update(
        `update ${row.iteration}${iterations ? `/${iterations}` : ''}  best ${best}  feasible ${(100 * row.feasibleShare).toFixed(0)}%  entropy ${row.entropy.toFixed(3)}`,
        iterations ? row.iteration / iterations : undefined,
      );
    },
    done: () => bar.done(),
  };
}
