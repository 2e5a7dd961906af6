/**
 * Checkpoints of a training run, written as one set and read back whole or
 * not at all. DIR/checkpoint/ holds:
 *
 *   state.json      the trainer's state, its config, seed, problem and settings,
 *                   and the sha256 of every other file of the set
 *   policy/         the policy network (model.json, weights.bin)
 *   optimizer/      Adam's slots (model.json, weights.bin)
 *   history.csv     history.csv up to this update
 *
 * The set is written into a new temporary folder, then swapped in with
 * renames (checkpoint -> checkpoint.old, new -> checkpoint, then the old one
 * removed): a kill at any moment leaves either checkpoint/ or checkpoint.old/
 * whole. A set whose files do not match its state.json (mixed or torn) is
 * refused by name. `placer train --resume DIR` needs nothing else: the
 * problem (bundled name or file paths) and settings are recorded.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { replaceFolder, writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import { UserError } from '../env/errors.js';
import { readJsonObject } from '../env/json-file.js';
import type { ProblemFiles } from '../env/load.js';
import type { Objective, Settings } from '../env/problem.js';
import type { PolicyNetwork } from './policy.js';
import { fileIO, loadPolicy, loadTensors, savePolicy, saveTensors } from './policy-io.js';
import { DEFAULT_REINFORCE_CONFIG, type ReinforceConfig, type ReinforceTrainer, type TrainerState } from './reinforce.js';

export const CHECKPOINT_FORMAT = 'placer-checkpoint';
const SET_FILES = ['policy/model.json', 'policy/weights.bin', 'optimizer/model.json', 'optimizer/weights.bin', 'history.csv'];

/** The problem a run trained on: a bundled name, or the three files (absolute paths). */
export type CheckpointProblem = { bundled: string } | ProblemFiles;

/** What a run needs to go on besides the trainer's state. */
export interface RunRecord {
  seed: number;
  config: ReinforceConfig;
  problem: CheckpointProblem;
  settings: Settings;
  /** The stopping rule the run was started with. */
  iterations?: number;
  maxEvaluations?: number;
  checkpointEvery: number;
}

export interface CheckpointRecord extends RunRecord {
  state: TrainerState;
  layerCount: number;
  typeCount: number;
  optimizerIterations: number;
  /** history.csv rows (no header) up to state.iteration. */
  historyRows: number;
}

interface StateJson {
  format: typeof CHECKPOINT_FORMAT;
  state: TrainerState;
  seed: number;
  config: ReinforceConfig;
  problem: CheckpointProblem;
  settings: { microBatches: number; objective: Objective; budget: number | null; deadline: number | null };
  iterations?: number;
  maxEvaluations?: number;
  checkpointEvery: number;
  layerCount: number;
  typeCount: number;
  optimizerIterations: number;
  historyRows: number;
  /** sha256 of each file of the set, by its path in the set. */
  files: Record<string, string>;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Writes DIR/checkpoint/ as one set; `history` is history.csv's text up to this update (header included). */
export async function saveCheckpoint(runDir: string, trainer: ReinforceTrainer, run: RunRecord, history: string): Promise<void> {
  await replaceFolder(join(runDir, 'checkpoint'), async (building) => {
    await savePolicy(trainer.policy, join(building, 'policy'), { training: { seed: run.seed, iteration: trainer.iteration } });
    const { iterations: optimizerIterations, tensors } = await trainer.optimizerWeights();
    try {
      await saveTensors(fileIO(join(building, 'optimizer')), { format: 'placer-adam' }, tensors, { training: { iteration: trainer.iteration } });
    } finally {
      tf.dispose(Object.values(tensors));
    }
    writeFileAtomic(join(building, 'history.csv'), history);
    const files = Object.fromEntries(SET_FILES.map((file) => [file, sha256(readFileSync(join(building, file)))]));
    const state: StateJson = {
      format: CHECKPOINT_FORMAT,
      state: trainer.state(),
      seed: run.seed,
      config: run.config,
      problem: run.problem,
      settings: {
        microBatches: run.settings.microBatches,
        objective: run.settings.objective,
        budget: Number.isFinite(run.settings.budget) ? run.settings.budget : null,
        deadline: Number.isFinite(run.settings.deadline) ? run.settings.deadline : null,
      },
      ...(run.iterations !== undefined ? { iterations: run.iterations } : {}),
      ...(run.maxEvaluations !== undefined ? { maxEvaluations: run.maxEvaluations } : {}),
      checkpointEvery: run.checkpointEvery,
      layerCount: trainer.problem.layers.length,
      typeCount: trainer.problem.types.length,
      optimizerIterations,
      historyRows: history.trim().split('\n').length - 1,
      files,
    };
    // state.json last: a set without it is never taken for a checkpoint.
    writeJsonAtomic(join(building, 'state.json'), state);
  });
}

/** The checkpoint folder of a run: DIR/checkpoint, or DIR/checkpoint.old when a kill fell between the two renames. */
export function checkpointFolder(runDir: string): string {
  if (!existsSync(runDir)) throw new UserError(`--resume ${runDir}: no such folder`);
  const current = join(runDir, 'checkpoint');
  if (existsSync(join(current, 'state.json'))) return current;
  const old = `${current}.old`;
  if (existsSync(join(old, 'state.json'))) return old;
  if (existsSync(current)) throw new UserError(`--resume: ${join(current, 'state.json')} not found (an incomplete checkpoint)`);
  throw new UserError(`--resume ${runDir}: no checkpoint/ (not a folder written by "placer train", or stopped before its first checkpoint: train again without --resume)`);
}

/** Reads and checks state.json and the set's files (no tensors yet): every problem is one line naming a file. */
export function readCheckpoint(runDir: string): { dir: string; record: CheckpointRecord } {
  const dir = checkpointFolder(runDir);
  const file = join(dir, 'state.json');
  const json = readJsonObject(file, 'a checkpoint state.json');
  const record = parseState(file, json);
  const files = json.files as Record<string, string>;
  for (const name of SET_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new UserError(`${path}: missing from the checkpoint (a torn checkpoint)`);
    if (sha256(readFileSync(path)) !== files[name]) {
      throw new UserError(`${path}: does not match ${file} (a mixed or torn checkpoint: its files are not from one save)`);
    }
  }
  return { dir, record };
}

/** The policy and Adam's slots of a checked checkpoint; call after readCheckpoint, with a tfjs backend ready. */
export async function loadCheckpointWeights(dir: string): Promise<{ policy: PolicyNetwork; optimizer: tf.NamedTensorMap }> {
  const { policy } = await loadPolicy(join(dir, 'policy'));
  try {
    const { tensors } = await loadTensors(fileIO(join(dir, 'optimizer')));
    return { policy, optimizer: tensors };
  } catch (error) {
    policy.dispose();
    throw error;
  }
}

/** Puts Adam's slots back into a trainer built on the checkpoint's policy; frees the tensors. */
export async function restoreOptimizer(trainer: ReinforceTrainer, iterations: number, tensors: tf.NamedTensorMap): Promise<void> {
  try {
    await trainer.setOptimizerWeights(iterations, tensors);
  } catch (error) {
    throw new UserError(`the checkpoint's optimizer/ does not fit its policy (${(error as Error).message.split('\n')[0]})`);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

/** The recorded problem as absolute paths (a relative --layers stays right when resumed from elsewhere). */
export function problemRecord(bundled: string | undefined, files: ProblemFiles): CheckpointProblem {
  return bundled !== undefined ? { bundled } : { layers: resolve(files.layers), devices: resolve(files.devices), profile: resolve(files.profile) };
}

function parseState(file: string, json: Record<string, unknown>): CheckpointRecord {
  const bad = (key: string, expected: string, value: unknown = json[key]) =>
    new UserError(`${file}: "${key}": expected ${expected}, got ${JSON.stringify(value)?.slice(0, 60)}`);
  if (json.format !== CHECKPOINT_FORMAT) {
    throw new UserError(`${file}: not a checkpoint of this placer ("format" is not "${CHECKPOINT_FORMAT}"; checkpoints of older versions cannot be resumed)`);
  }
  const int = (value: unknown, key: string, min: number) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw bad(key, `a whole number >= ${min}`, value);
    return value;
  };
  const num = (value: unknown, key: string) => {
    if (value === null) return Infinity; // JSON writes Infinity as null
    if (typeof value !== 'number' || Number.isNaN(value)) throw bad(key, 'a number', value);
    return value;
  };
  const seed = int(json.seed, 'seed', -(2 ** 53));
  if (seed === 0) throw bad('seed', 'a whole number other than 0');
  const layerCount = int(json.layerCount, 'layerCount', 1);
  const typeCount = int(json.typeCount, 'typeCount', 1);
  const optimizerIterations = int(json.optimizerIterations, 'optimizerIterations', 0);
  const historyRows = int(json.historyRows, 'historyRows', 0);
  const checkpointEvery = int(json.checkpointEvery, 'checkpointEvery', 1);
  const iterations = json.iterations === undefined ? undefined : int(json.iterations, 'iterations', 0);
  const maxEvaluations = json.maxEvaluations === undefined ? undefined : int(json.maxEvaluations, 'maxEvaluations', 1);
  if (!json.files || typeof json.files !== 'object') throw bad('files', 'the sha256 of each file of the set');
  for (const name of SET_FILES) {
    const hash = (json.files as Record<string, unknown>)[name];
    if (typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) throw bad(`files.${name}`, 'a sha256', hash);
  }

  const raw = json.state as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('state', "the trainer's state (an object)");
  const rng = raw.rngState as Record<string, unknown> | undefined;
  if (!rng || typeof rng !== 'object' || !['c', 's0', 's1', 's2'].every((k) => typeof rng[k] === 'number' && Number.isFinite(rng[k]))) {
    throw bad('state.rngState', 'the random generator state {c, s0, s1, s2}', rng);
  }
  const best = raw.best;
  if (best !== null && best !== undefined) {
    const ok =
      Array.isArray(best) &&
      best.every(
        (s: Record<string, unknown>) =>
          s && [s.type, s.replicas, s.first, s.last].every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0) &&
          (s.type as number) < typeCount && (s.last as number) < layerCount && (s.first as number) <= (s.last as number) && (s.replicas as number) >= 1,
      );
    if (!ok) throw bad('state.best', `null or stages {type, replicas, first, last} of a ${layerCount}-layer, ${typeCount}-type problem`, best);
  }
  if (typeof raw.bestFeasible !== 'boolean') throw bad('state.bestFeasible', 'true or false', raw.bestFeasible);
  const state: TrainerState = {
    iteration: int(raw.iteration, 'state.iteration', 0),
    rngState: rng as unknown as TrainerState['rngState'],
    evaluations: int(raw.evaluations, 'state.evaluations', 0),
    best: (best ?? null) as TrainerState['best'],
    bestFeasible: raw.bestFeasible,
    bestViolation: num(raw.bestViolation, 'state.bestViolation'),
    bestObjective: num(raw.bestObjective, 'state.bestObjective'),
    rewardScale: num(raw.rewardScale, 'state.rewardScale'),
    restarts: raw.restarts === undefined ? 0 : int(raw.restarts, 'state.restarts', 0),
    restartIteration: raw.restartIteration === undefined ? 0 : int(raw.restartIteration, 'state.restartIteration', 0),
  };
  if (!Number.isFinite(state.rewardScale) || state.rewardScale <= 0) throw bad('state.rewardScale', 'a number > 0', raw.rewardScale);
  if (historyRows !== state.iteration) throw bad('historyRows', `${state.iteration} (one row per update)`, historyRows);

  return {
    state,
    seed,
    config: parseConfig(file, json.config),
    problem: parseProblem(file, json.problem),
    settings: parseSettings(file, json.settings),
    iterations,
    maxEvaluations,
    checkpointEvery,
    layerCount,
    typeCount,
    optimizerIterations,
    historyRows,
  };
}

/** The config as saved, checked key by key against the defaults' types (a key the defaults lack is refused too). */
function parseConfig(file: string, config: unknown): ReinforceConfig {
  const check = (value: unknown, model: unknown, key: string): void => {
    const bad = () => new UserError(`${file}: "${key}": expected ${Array.isArray(model) ? 'a list' : typeof model}, got ${JSON.stringify(value)?.slice(0, 60)}`);
    if (model === undefined) return; // optional in the defaults
    if (Array.isArray(model)) {
      if (!Array.isArray(value)) throw bad();
      value.forEach((item, i) => check(item, model[0], `${key}[${i}]`));
      return;
    }
    if (model !== null && typeof model === 'object') {
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw bad();
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const sub = (model as Record<string, unknown>)[k];
        if (sub === undefined && !(k in (model as object))) continue; // a key newer defaults dropped: harmless
        check(v, sub, `${key}.${k}`);
      }
      return;
    }
    if (typeof value !== typeof model || (typeof value === 'number' && !Number.isFinite(value))) throw bad();
  };
  if (config === undefined) throw new UserError(`${file}: "config": missing (the trainer's settings are needed to resume)`);
  check(config, DEFAULT_REINFORCE_CONFIG, 'config');
  const saved = config as Partial<ReinforceConfig>;
  return { ...DEFAULT_REINFORCE_CONFIG, ...saved, policy: { ...DEFAULT_REINFORCE_CONFIG.policy, ...(saved.policy ?? {}) } };
}

function parseProblem(file: string, problem: unknown): CheckpointProblem {
  const p = problem as Record<string, unknown> | undefined;
  if (p && typeof p.bundled === 'string') return { bundled: p.bundled };
  if (p && typeof p.layers === 'string' && typeof p.devices === 'string' && typeof p.profile === 'string') {
    return { layers: p.layers, devices: p.devices, profile: p.profile };
  }
  throw new UserError(`${file}: "problem": expected {"bundled": NAME} or {"layers", "devices", "profile"} paths, got ${JSON.stringify(problem)?.slice(0, 60)}`);
}

function parseSettings(file: string, settings: unknown): Settings {
  const s = settings as Record<string, unknown> | undefined;
  const bad = (key: string) => new UserError(`${file}: "settings.${key}": expected ${key === 'objective' ? '"time" or "cost"' : key === 'microBatches' ? 'a whole number >= 1' : 'a number > 0 or null'}, got ${JSON.stringify(s?.[key])}`);
  if (!s || typeof s !== 'object') throw new UserError(`${file}: "settings": missing`);
  if (typeof s.microBatches !== 'number' || !Number.isInteger(s.microBatches) || s.microBatches < 1) throw bad('microBatches');
  if (s.objective !== 'time' && s.objective !== 'cost') throw bad('objective');
  const limit = (key: 'budget' | 'deadline') => {
    const value = s[key];
    if (value === null || value === undefined) return Infinity;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw bad(key);
    return value;
  };
  return { microBatches: s.microBatches, objective: s.objective, budget: limit('budget'), deadline: limit('deadline') };
}

/**
 * DIR/history.csv of a run: rows kept in memory, written after each
 * checkpoint (whole the first time, appended after), so the file never runs
 * ahead of a checkpoint and resuming never truncates it.
 */
export class RunHistory {
  private constructor(
    private readonly file: string,
    private content: string,
    private written: number,
  ) {}

  /** A new run: the file is (re)written at its first checkpoint. */
  static fresh(file: string, header: string): RunHistory {
    return new RunHistory(file, `${header}\n`, 0);
  }

  /**
   * A resumed run goes on from the checkpoint's copy (history up to its
   * update). When DIR/history.csv is not exactly that (a kill between the
   * checkpoint and the append, or another --out), the file is kept as
   * history.csv.before-resume and the checkpoint's copy takes its place.
   */
  static resumed(file: string, checkpointDir: string, log: (line: string) => void): RunHistory {
    const content = readFileSync(join(checkpointDir, 'history.csv'), 'utf8');
    const rows = content.trimEnd().split('\n').length - 1;
    if (existsSync(file)) {
      if (readFileSync(file, 'utf8') === content) return new RunHistory(file, content, rows);
      const kept = `${file}.before-resume`;
      renameSync(file, kept);
      log(`${file} differs from the checkpoint's history (update ${rows}): kept it as ${kept}`);
    }
    writeFileAtomic(file, content);
    return new RunHistory(file, content, rows);
  }

  get text(): string {
    return this.content;
  }

  add(line: string): void {
    this.content += `${line}\n`;
  }

  /** Writes the rows added since the last flush. */
  flush(): void {
    const rows = this.content.trimEnd().split('\n').slice(1);
    if (this.written === 0) writeFileAtomic(this.file, this.content);
    else if (rows.length > this.written) appendFileSync(this.file, `${rows.slice(this.written).join('\n')}\n`);
    this.written = rows.length;
  }
}
