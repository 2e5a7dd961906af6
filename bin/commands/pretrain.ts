/**
 * `placer pretrain`: one policy trained over a distribution of problems
 * (agent/pretrain/), to be used zero-shot or fine-tuned by `placer place`.
 * Writes DIR/policy/ (the network), DIR/history.csv (held-out measurements),
 * DIR/held-out.json, DIR/pretrain.json (what was done) and DIR/checkpoint/
 * (what --resume needs). One run per DIR at a time (DIR/.placer.lock).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { prepareOutputFolder, writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import { lockFolder } from '../../env/folder-lock.js';
import { readJsonObject } from '../../env/json-file.js';
import { UserError } from '../../env/errors.js';
import { selectBackend } from '../../agent/backend.js';
import { PolicyNetwork } from '../../agent/policy.js';
import { savePolicyFolder } from '../../agent/policy-io.js';
import { loadPretrainWeights, readPretrainCheckpoint, savePretrainCheckpoint } from '../../agent/pretrain/checkpoint.js';
import { drawProblem, HELD_OUT_ARCHITECTURES } from '../../agent/pretrain/distribution.js';
import { bundledAtDefaults, heldOutBundled, heldOutGenerated, type HeldOutProblem } from '../../agent/pretrain/held-out.js';
import { DEFAULT_PRETRAIN_CONFIG, MEASUREMENT_HEADER, measurementLine, Pretrainer, settingsFrom, settingsRecord, type Measurement, type PretrainConfig } from '../../agent/pretrain/pretrainer.js';
import { progress } from '../progress.js';
import { positiveInteger, positiveNumber } from '../common.js';
import * as tf from '@tensorflow/tfjs';

interface PretrainOptions {
  out: string;
  seed: number;
  lessons?: number;
  timeLimit?: number;
  resume?: string;
  checkpointEvery: number;
  backend: string;
  progress: boolean;
  maxLayers?: number;
  labelCap?: number;
  heldOut?: number;
  evalEvery?: number;
  stepsPerLesson?: number;
  learningRate?: number;
  hidden?: number;
}

export const DEFAULT_PRETRAIN_OUT = 'runs/pretrain';
const DEFAULT_LESSONS = 1000;

export function register(program: Command): void {
  program
    .command('pretrain')
    .description('pretrain one policy over many generated problems (imitation of the exact solver) for "placer place"')
    .option('--out <dir>', `output folder: policy/, history.csv, held-out.json, pretrain.json, checkpoint/ (default ${DEFAULT_PRETRAIN_OUT}; with --resume, the resumed folder)`)
    .option('--seed <n>', 'seed of every random choice (the problems drawn, the initial network, the minibatches)', positiveInteger('--seed'), 1)
    .option('--lessons <n>', `stop after this many labelled problems in all (default ${DEFAULT_LESSONS} when no --time-limit)`, positiveInteger('--lessons'))
    .option('--time-limit <seconds>', 'stop after this many seconds (then checkpoint and export; resume to go on)', positiveNumber('--time-limit'))
    .option('--resume <dir>', 'continue the run checkpointed in DIR (its seed and settings)')
    .option('--checkpoint-every <n>', 'write checkpoint/ every n lessons (and at the end, and on Ctrl-C)', positiveInteger('--checkpoint-every'), 25)
    .option('--backend <name>', 'tfjs backend: auto, cpu, wasm, tensorflow, tensorflow-gpu', 'auto')
    .option('--max-layers <n>', `largest generated chain (default ${DEFAULT_PRETRAIN_CONFIG.draw.maxLayers})`, positiveInteger('--max-layers'))
    .option('--label-cap <n>', `exact-solver labels the teacher may spend per problem (default ${DEFAULT_PRETRAIN_CONFIG.teacher.labelCap})`, positiveInteger('--label-cap'))
    .option('--held-out <n>', `generated held-out problems measured during training (default ${DEFAULT_PRETRAIN_CONFIG.heldOutGenerated})`, (v) => {
      const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n > 1000) throw new InvalidArgumentError(`--held-out must be a whole number from 0 to 1000, got "${v}"`);
      return n;
    })
    .option('--eval-every <n>', `lessons between held-out measurements (default ${DEFAULT_PRETRAIN_CONFIG.evalEvery})`, positiveInteger('--eval-every'))
    .option('--steps-per-lesson <n>', `Adam steps after each lesson (default ${DEFAULT_PRETRAIN_CONFIG.stepsPerLesson})`, positiveInteger('--steps-per-lesson'))
    .option('--learning-rate <x>', `Adam learning rate (default ${DEFAULT_PRETRAIN_CONFIG.learningRate})`, positiveNumber('--learning-rate'))
    .option('--hidden <n>', 'width of the new policy (default: the agent\'s)', positiveInteger('--hidden', 1024))
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (options: PretrainOptions) => {
      await pretrainCommand(options);
    });
}

export async function pretrainCommand(options: PretrainOptions): Promise<void> {
  const log = (line: string) => process.stderr.write(`placer: ${line}\n`);
  const resumed = options.resume !== undefined ? readPretrainCheckpoint(options.resume) : undefined;
  const out = options.out ?? options.resume ?? DEFAULT_PRETRAIN_OUT;
  prepareOutputFolder(out);
  const lock = lockFolder(out, '--out', log);
  await selectBackend(options.backend, log);

  const base = resumed?.record.config ?? DEFAULT_PRETRAIN_CONFIG;
  const config: PretrainConfig = resumed
    ? resumed.record.config
    : {
        ...base,
        policy: options.hidden ? { ...base.policy, hidden: options.hidden } : base.policy,
        ...(options.stepsPerLesson ? { stepsPerLesson: options.stepsPerLesson } : {}),
        ...(options.learningRate ? { learningRate: options.learningRate } : {}),
        ...(options.evalEvery ? { evalEvery: options.evalEvery } : {}),
        ...(options.heldOut !== undefined ? { heldOutGenerated: options.heldOut } : {}),
        draw: { ...base.draw, ...(options.maxLayers ? { maxLayers: options.maxLayers } : {}) },
        teacher: { ...base.teacher, ...(options.labelCap ? { labelCap: options.labelCap } : {}) },
      };
  const seed = resumed?.record.seed ?? options.seed;

  const heldOut = await heldOutSet(out, config, log);
  let policy: PolicyNetwork;
  let optimizer: tf.NamedTensorMap | undefined;
  if (resumed) {
    ({ policy, optimizer } = await loadPretrainWeights(resumed.dir));
  } else {
    policy = PolicyNetwork.create(config.policy, seed);
  }
  const pretrainer = new Pretrainer(seed, config, policy, heldOut);
  let history = resumed?.record.history ?? `${MEASUREMENT_HEADER}\n`;
  if (resumed) {
    pretrainer.restore(resumed.record.state, resumed.record.lessons);
    try {
      await pretrainer.setOptimizerWeights(resumed.record.optimizerIterations, optimizer!);
    } finally {
      tf.dispose(Object.values(optimizer!));
    }
    log(`resuming ${options.resume} at lesson ${pretrainer.lessons.length} (update ${pretrainer.state.steps})`);
  }
  const target = options.lessons ?? (options.timeLimit === undefined ? DEFAULT_LESSONS : Infinity);
  log(`pretraining seed ${seed}: ${policy.parameterCount} weights, ${heldOut.length} held-out problems, to ${Number.isFinite(target) ? `${target} lessons` : `${options.timeLimit} s`}`);

  const stop = new AbortController();
  const onSigint = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    log('Ctrl-C: stopping after this lesson, checkpointing and exporting (Ctrl-C again to quit now)');
  };
  process.on('SIGINT', onSigint);
  const started = performance.now();
  const bar = progress('pretrain', { enabled: options.progress !== false, logEverySeconds: 30 });
  let last: Measurement | null = null;
  const measure = () => {
    last = pretrainer.measure();
    history += measurementLine(last) + '\n';
    writeFileAtomic(join(out, 'history.csv'), history);
    return last;
  };
  const describe = (m: Measurement | null) =>
    m ? `held-out zero-shot: bundled ${fmt(m.bundledGeomean)} (${m.bundledFeasible} feasible), generated ${fmt(m.generatedGeomean)} (${m.generatedFeasible} feasible)` : '';
  try {
    while (pretrainer.lessons.length < target && !stop.signal.aborted) {
      if (options.timeLimit !== undefined && (performance.now() - started) / 1000 >= options.timeLimit) break;
      const lesson = await pretrainer.lesson();
      const n = pretrainer.lessons.length;
      if (n % config.evalEvery === 0) measure();
      if (n % options.checkpointEvery === 0) await savePretrainCheckpoint(out, pretrainer, history);
      bar.update(
        `lesson ${n}${Number.isFinite(target) ? `/${target}` : ''} (${lesson.name.split(':').slice(1, 3).join(' ')})  loss ${pretrainer.state.recentLoss.toFixed(3)}  ${describe(last)}`,
        Number.isFinite(target) ? n / target : options.timeLimit ? (performance.now() - started) / 1000 / options.timeLimit : undefined,
      );
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    bar.done();
    const final = last !== null && (last as Measurement).lessons === pretrainer.lessons.length ? last : measure();
    await savePretrainCheckpoint(out, pretrainer, history);
    const summary = {
      seed,
      lessons: pretrainer.lessons.length,
      provenLessons: pretrainer.lessons.filter((l) => l.proven).length,
      draws: pretrainer.state.drawIndex,
      steps: pretrainer.state.steps,
      teacherLabels: pretrainer.lessons.reduce((s, l) => s + l.labels, 0),
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      weights: policy.parameterCount,
      config,
      heldOut: final.ratios,
      bundledGeomean: final.bundledGeomean,
      generatedGeomean: final.generatedGeomean,
    };
    await savePolicyFolder(policy, join(out, 'policy'), { pretraining: { method: 'imitation of the exact solver', seed, lessons: summary.lessons, steps: summary.steps } });
    writeJsonAtomic(join(out, 'pretrain.json'), summary);
    process.stdout.write(`${out}/policy: ${summary.lessons} lessons, ${summary.steps} updates; ${describe(final)}\n`);
  } finally {
    process.off('SIGINT', onSigint);
    pretrainer.dispose();
    policy.dispose();
    lock.release();
  }
}

const fmt = (x: number) => (Number.isFinite(x) ? `${x.toFixed(3)}×` : 'n/a');

/** The held-out problems and their references, computed once per run folder (DIR/held-out.json) and reused on resume. */
async function heldOutSet(out: string, config: PretrainConfig, log: (line: string) => void): Promise<HeldOutProblem[]> {
  const file = join(out, 'held-out.json');
  if (existsSync(file)) {
    const json = readJsonObject(file, 'a held-out.json written by "placer pretrain"') as { problems?: Array<{ name: string; settings: Parameters<typeof settingsFrom>[0]; reference: number | null; proven: boolean }> };
    if (!Array.isArray(json.problems)) throw new UserError(`${file}: no "problems" list`);
    return json.problems.map((p) => {
      const reference = p.reference ?? Infinity;
      if (p.name.includes('/')) {
        const index = Number(p.name.slice(p.name.indexOf('/') + 1, p.name.indexOf(':')));
        const drawn = drawProblem('held-out', index, { ...config.draw, architectures: HELD_OUT_ARCHITECTURES });
        if (drawn.name !== p.name) throw new UserError(`${file}: "${p.name}" is not what this placer draws at that index ("${drawn.name}"): a held-out.json of another version; remove it to solve the held-out problems again`);
        return { name: p.name, problem: drawn.problem, settings: settingsFrom(p.settings), reference, proven: p.proven };
      }
      return { name: p.name, ...bundledAtDefaults(p.name), reference, proven: p.proven };
    });
  }
  log('held-out problems: solving them for reference (once per run folder)');
  const problems = [...(await heldOutBundled(config.teacher.labelCap * 10)), ...(await heldOutGenerated(config.heldOutGenerated, config.teacher, config.draw))];
  writeJsonAtomic(file, {
    problems: problems.map((p) => ({ name: p.name, settings: settingsRecord(p.settings), reference: Number.isFinite(p.reference) ? p.reference : null, proven: p.proven })),
  });
  return problems;
}
