/**
 * `placer validate`: trains a placement for real (env/real/pipeline.ts) and
 * compares the measured step time with the simulator's prediction.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { prepareOutputFolder, writeJsonAtomic } from '../atomic-write.js';
import { readJsonObject } from '../json-file.js';
import { UserError } from '../errors.js';
import { loadDevicesWithRows, loadProfile, placementFromStageList } from '../load.js';
import { evaluate } from '../simulate.js';
import { DEFAULT_SETTINGS, LIMITS, type DeviceType, type Placement, type Problem } from '../problem.js';
import { checkCatalogueBackends, useBackend } from './backends.js';
import { MODELS_DIR, modelLayers, type ModelSpec } from './model.js';
import { runPipeline } from './pipeline.js';

export interface ValidateOptions {
  placementFile: string;
  spec: ModelSpec;
  devicesFile: string;
  /** profile.csv for the prediction; default: profiles/local/<model>/profile.csv when it exists, else the placement's own stepMs. */
  profileFile?: string;
  /** Measured steps after the warm-up (default 10). */
  steps?: number;
  warmupSteps?: number;
  /** Default: the placement's microBatches, else 8. */
  microBatches?: number;
  /** Where validation.json goes (default: beside the placement). */
  outFile?: string;
  /** Overwrite an existing validation.json; predict from a --profile other than the placement's own. */
  force?: boolean;
}

export interface StageValidation {
  type: string;
  backend: string;
  replicas: number;
  firstLayer: string;
  lastLayer: string;
  predictedForwardMs: number | null;
  predictedBackwardMs: number | null;
  /** Median over the measured steps of the stage's compute time in a step (its busiest replica). */
  busyMs: number;
}

export interface Validation {
  model: string;
  placementFile: string;
  microBatches: number;
  microBatchSize: number;
  steps: number;
  warmupSteps: number;
  predictedStepMs: number;
  predictedFrom: string;
  measuredStepMs: number;
  /** (measured − predicted) / measured. */
  relativeError: number;
  stepMs: number[];
  losses: number[];
  lossFirst: number;
  lossLast: number;
  stages: StageValidation[];
  /** The machine while it trained: cores and the 1/5/15-minute load averages before and after (other jobs slow the real steps, not the prediction). */
  machine: { cores: number; loadAverageBefore: number[]; loadAverageAfter: number[] };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

function defaultProfile(spec: ModelSpec): string | undefined {
  const file = join(MODELS_DIR, '..', 'local', spec.name, 'profile.csv');
  return existsSync(file) ? file : undefined;
}

const sha256File = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/**
 * The profile.csv to predict from: the one the placement was made with
 * (placement.json records profileFile and profileSha256), so the prediction
 * is the placement's own figure; another one only with --force.
 */
function chooseProfile(options: ValidateOptions, json: Record<string, unknown>): string | undefined {
  const file = options.placementFile;
  const recorded = typeof json.profileFile === 'string' && typeof json.profileSha256 === 'string' ? { file: json.profileFile, sha: json.profileSha256 } : undefined;
  if (options.profileFile !== undefined) {
    if (recorded && !options.force && (!existsSync(options.profileFile) || sha256File(options.profileFile) !== recorded.sha)) {
      throw new UserError(`--profile ${options.profileFile} is not the profile ${file} was made with (${recorded.file}): give that one, or --force to predict from this one`);
    }
    return options.profileFile;
  }
  if (recorded) {
    if (!existsSync(recorded.file)) throw new UserError(`${file}: "profileFile" ${recorded.file} is gone: give --profile FILE`);
    if (sha256File(recorded.file) !== recorded.sha && !options.force) {
      throw new UserError(`${file}: "profileFile" ${recorded.file} has changed since the placement was made (sha256 differs): give --profile FILE, or --force to predict from it anyway`);
    }
    return recorded.file;
  }
  return defaultProfile(options.spec);
}

/**
 * The types the prediction uses: those of the devices.csv the placement was
 * made with (recorded as devicesFile and devicesSha256, and unchanged), by
 * name, each keeping the backend --devices gives it; else --devices' own.
 */
function devicesForPrediction(options: ValidateOptions, json: Record<string, unknown>, types: DeviceType[]): { predictionTypes: DeviceType[]; predictionDevices: string } {
  const file = json.devicesFile;
  if (typeof file !== 'string' || typeof json.devicesSha256 !== 'string' || !existsSync(file) || sha256File(file) !== json.devicesSha256) {
    return { predictionTypes: types, predictionDevices: options.devicesFile };
  }
  const recorded = new Map(loadDevicesWithRows(file).types.map((type) => [type.name, type] as const));
  return {
    predictionTypes: types.map((type) => {
      const own = recorded.get(type.name);
      return own ? { ...own, backend: type.backend } : type;
    }),
    predictionDevices: file,
  };
}

export async function validatePlacement(options: ValidateOptions): Promise<Validation> {
  const { spec } = options;
  const steps = options.steps ?? 10;
  const warmupSteps = options.warmupSteps ?? 3;
  const { types, rows: deviceRows } = loadDevicesWithRows(options.devicesFile);
  const layers = modelLayers(spec);
  const json = readJsonObject(options.placementFile, 'a placement.json');
  if (json.microBatches !== undefined && options.microBatches === undefined) {
    const m = json.microBatches;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > LIMITS.microBatches) {
      throw new UserError(`${options.placementFile}: "microBatches": expected a whole number from 1 to ${LIMITS.microBatches}, got ${JSON.stringify(m)}`);
    }
  }
  const microBatches = options.microBatches ?? (json.microBatches as number | undefined) ?? DEFAULT_SETTINGS.microBatches;
  const profileFile = chooseProfile(options, json);
  const profile = profileFile ? loadProfile(profileFile, layers, types) : { forwardMs: new Float64Array(layers.length * types.length).fill(NaN), backwardMs: new Float64Array(layers.length * types.length).fill(NaN) };
  // Bandwidths, memory and prices of the placement's own devices.csv when it records one (what its stepMs was computed on).
  const { predictionTypes, predictionDevices } = devicesForPrediction(options, json, types);
  const problem: Problem = { layers, types: predictionTypes, ...profile };
  if (!Array.isArray(json.stages) || json.stages.length === 0) throw new UserError(`${options.placementFile}: expected a non-empty "stages" list`);
  const placement: Placement = placementFromStageList(options.placementFile, json.stages, problem);
  placement.forEach((stage, s) => {
    if (stage.replicas > spec.microBatchSize) {
      throw new UserError(`${options.placementFile}: stages[${s}].replicas: ${stage.replicas} replicas, but a micro-batch of ${spec.name} has ${spec.microBatchSize} rows (each replica needs at least one)`);
    }
  });
  // The output is checked before minutes of training: never overwritten silently, never found unwritable at the end.
  const outFile = options.outFile ?? join(dirname(options.placementFile), 'validation.json');
  if (existsSync(outFile) && statSync(outFile).isDirectory()) throw new UserError(`--out ${outFile} is a folder: give the file to write, e.g. ${join(outFile, 'validation.json')}`);
  if (existsSync(outFile) && !options.force) throw new UserError(`${outFile} exists (an earlier validation): give --force to overwrite it, or --out FILE`);
  prepareOutputFolder(dirname(outFile), '--out');
  await checkCatalogueBackends(types, new Set(placement.map((stage) => stage.type)), { file: options.devicesFile, rows: deviceRows });
  await useBackend('cpu');

  let predictedStepMs: number;
  let predictedFrom: string;
  const evaluation = profileFile ? evaluate(problem, { ...DEFAULT_SETTINGS, microBatches }, placement) : null;
  if (evaluation && evaluation.stepMs !== null) {
    predictedStepMs = evaluation.stepMs;
    predictedFrom = `simulator on ${profileFile} and ${predictionDevices}`;
  } else if (typeof json.stepMs === 'number' && Number.isFinite(json.stepMs) && json.stepMs > 0) {
    predictedStepMs = json.stepMs;
    predictedFrom = `stepMs of ${options.placementFile}`;
  } else {
    throw new UserError(`${options.placementFile}: no prediction: give --profile (a profile.csv that covers this placement) or a placement with "stepMs"`);
  }

  const loadAverageBefore = loadavg();
  const result = await runPipeline({
    spec,
    microBatches,
    steps: warmupSteps + steps,
    stages: placement.map((stage) => ({ first: stage.first, last: stage.last, replicas: stage.replicas, backend: types[stage.type].backend ?? 'cpu' })),
  });
  const measured = result.steps.slice(warmupSteps);
  const measuredStepMs = median(measured.map((s) => s.stepMs));
  const losses = result.steps.map((s) => s.loss);
  const validation: Validation = {
    model: spec.name,
    placementFile: options.placementFile,
    microBatches,
    microBatchSize: spec.microBatchSize,
    steps,
    warmupSteps,
    predictedStepMs,
    predictedFrom,
    measuredStepMs,
    relativeError: (measuredStepMs - predictedStepMs) / measuredStepMs,
    stepMs: result.steps.map((s) => s.stepMs),
    losses,
    lossFirst: losses[0],
    lossLast: losses[losses.length - 1],
    stages: placement.map((stage, s) => ({
      type: types[stage.type].name,
      backend: types[stage.type].backend ?? 'cpu',
      replicas: stage.replicas,
      firstLayer: layers[stage.first].name,
      lastLayer: layers[stage.last].name,
      predictedForwardMs: evaluation?.stages[s].forwardMs ?? null,
      predictedBackwardMs: evaluation?.stages[s].backwardMs ?? null,
      busyMs: median(measured.map((m) => m.busyMs[s])),
    })),
    machine: { cores: cpus().length, loadAverageBefore, loadAverageAfter: loadavg() },
  };
  writeJsonAtomic(outFile, validation);
  return validation;
}
