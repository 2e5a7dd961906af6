/**
 * Checkpoints of a pretraining run (the pattern of agent/checkpoint.ts): one
 * set, written into a temporary folder and swapped in, each file's sha256 in
 * state.json, a torn or mixed set refused by name. DIR/checkpoint/ holds
 *   state.json     seed, config, the pretrainer's state, sha256 of the rest
 *   policy/        the network;  optimizer/  Adam's slots
 *   lessons.jsonl  every lesson kept (the teacher's labels: the costly part)
 *   history.csv    the held-out measurements so far
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { replaceFolder, writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import { UserError } from '../../env/errors.js';
import { readJsonObject } from '../../env/json-file.js';
import { fileIO, savePolicy, saveTensors } from '../policy-io.js';
import type { LessonRecord, PretrainConfig, Pretrainer, PretrainState } from './pretrainer.js';

export const PRETRAIN_CHECKPOINT_FORMAT = 'placer-pretrain-checkpoint';
const SET_FILES = ['policy/model.json', 'policy/weights.bin', 'optimizer/model.json', 'optimizer/weights.bin', 'lessons.jsonl', 'history.csv'];
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export interface PretrainRecord {
  seed: number;
  config: PretrainConfig;
  state: PretrainState;
  optimizerIterations: number;
  lessons: LessonRecord[];
  /** history.csv text (header included). */
  history: string;
}

export async function savePretrainCheckpoint(runDir: string, pretrainer: Pretrainer, history: string): Promise<void> {
  await replaceFolder(join(runDir, 'checkpoint'), async (building) => {
    await savePolicy(pretrainer.policy, join(building, 'policy'), { pretraining: { seed: pretrainer.seed, lessons: pretrainer.lessons.length, steps: pretrainer.state.steps } });
    const { iterations, tensors } = await pretrainer.optimizerWeights();
    try {
      await saveTensors(fileIO(join(building, 'optimizer')), { format: 'placer-adam' }, tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
    writeFileAtomic(join(building, 'lessons.jsonl'), pretrainer.lessons.map((l) => JSON.stringify(l)).join('\n') + (pretrainer.lessons.length ? '\n' : ''));
    writeFileAtomic(join(building, 'history.csv'), history);
    const files = Object.fromEntries(SET_FILES.map((file) => [file, sha256(readFileSync(join(building, file)))]));
    writeJsonAtomic(join(building, 'state.json'), {
      format: PRETRAIN_CHECKPOINT_FORMAT,
      seed: pretrainer.seed,
      config: pretrainer.config,
      state: pretrainer.state,
      optimizerIterations: iterations,
      files,
    });
  });
}

/** Reads and checks DIR/checkpoint (or checkpoint.old after a kill between renames). */
export function readPretrainCheckpoint(runDir: string): { dir: string; record: Omit<PretrainRecord, 'history'> & { history: string } } {
  if (!existsSync(runDir)) throw new UserError(`--resume ${runDir}: no such folder`);
  const dir = [join(runDir, 'checkpoint'), join(runDir, 'checkpoint.old')].find((d) => existsSync(join(d, 'state.json')));
  if (!dir) throw new UserError(`--resume ${runDir}: no checkpoint/state.json (not a folder written by "placer pretrain", or stopped before its first checkpoint)`);
  const file = join(dir, 'state.json');
  const json = readJsonObject(file, 'a pretraining checkpoint state.json');
  if (json.format !== PRETRAIN_CHECKPOINT_FORMAT) throw new UserError(`${file}: not a pretraining checkpoint ("format" is not "${PRETRAIN_CHECKPOINT_FORMAT}")`);
  const files = json.files as Record<string, string> | undefined;
  for (const name of SET_FILES) {
    const path = join(dir, name);
    if (!existsSync(path)) throw new UserError(`${path}: missing from the checkpoint (a torn checkpoint)`);
    if (!files || sha256(readFileSync(path)) !== files[name]) throw new UserError(`${path}: does not match ${file} (a mixed or torn checkpoint)`);
  }
  if (typeof json.seed !== 'number' || !json.config || !json.state || typeof json.optimizerIterations !== 'number') {
    throw new UserError(`${file}: missing "seed", "config", "state" or "optimizerIterations"`);
  }
  const lessons = readFileSync(join(dir, 'lessons.jsonl'), 'utf8').split('\n').filter((line) => line.trim() !== '').map((line, i) => {
    try {
      return JSON.parse(line) as LessonRecord;
    } catch {
      throw new UserError(`${join(dir, 'lessons.jsonl')}: line ${i + 1} is not JSON`);
    }
  });
  return {
    dir,
    record: {
      seed: json.seed,
      config: json.config as PretrainConfig,
      state: json.state as PretrainState,
      optimizerIterations: json.optimizerIterations,
      lessons,
      history: readFileSync(join(dir, 'history.csv'), 'utf8'),
    },
  };
}

/** The policy and Adam's slots of a checked pretraining checkpoint: the same two folders as a training checkpoint. */
export { loadCheckpointWeights as loadPretrainWeights } from '../checkpoint.js';
