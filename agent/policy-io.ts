/**
 * Saving and loading policies (and any tfjs model artifacts) on disk.
 * Plain @tensorflow/tfjs has no `file://` handler in Node, so this is one:
 * DIR/model.json (topology, weightsManifest) and DIR/weights.bin, in the
 * layout tfjs-node writes, each written atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { replaceFolder, writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import { UserError } from '../env/errors.js';
import { readJsonObject, unreadable } from '../env/json-file.js';
import { PolicyNetwork, type PolicyTopology } from './policy.js';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';

/** A tfjs IOHandler reading and writing DIR/model.json + DIR/weights.bin. */
export function fileIO(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : concatWeightData(artifacts.weightData);
      const modelJson = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      writeFileAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(weightData));
      writeJsonAtomic(join(dir, MODEL_JSON), modelJson);
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(0), // no wall clock in artifacts: saves are reproducible
          modelTopologyType: 'JSON',
          weightDataBytes: weightData.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const jsonPath = join(dir, MODEL_JSON);
      if (!existsSync(dir)) throw new UserError(`${dir}: no such folder (expected a policy saved by "placer train")`);
      if (!existsSync(jsonPath)) throw new UserError(`${jsonPath}: no such file (expected a policy saved by "placer train")`);
      const modelJson = readJsonObject(jsonPath, 'a model.json written by placer') as {
        format?: string;
        generatedBy?: string;
        modelTopology?: object;
        userDefinedMetadata?: Record<string, object>;
        weightsManifest?: unknown;
      };
      const { specs: weightSpecs, paths } = checkManifest(jsonPath, modelJson.weightsManifest);
      const buffers: Uint8Array[] = [];
      for (const path of paths) {
        const file = join(dir, path);
        if (!existsSync(file)) throw new UserError(`${file}: missing (named in ${jsonPath})`);
        try {
          buffers.push(readFileSync(file));
        } catch (error) {
          throw unreadable(file, error, 'a weights file');
        }
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
      // decodeWeights reads past the end of a short buffer (a crash in the backend) and ignores extra bytes: check the size.
      const expected = weightSpecs.reduce((n, spec) => n + specBytes(spec), 0);
      if (total !== expected) {
        const files = paths.map((path) => join(dir, path)).join(', ');
        throw new UserError(`${files}: ${total} bytes, but ${jsonPath} describes ${expected} (${total < expected ? 'truncated' : 'trailing bytes'}): a corrupt or mixed save`);
      }
      const weightData = new Uint8Array(total);
      let offset = 0;
      for (const b of buffers) {
        weightData.set(b, offset);
        offset += b.byteLength;
      }
      return {
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        modelTopology: modelJson.modelTopology,
        userDefinedMetadata: modelJson.userDefinedMetadata,
        weightSpecs,
        weightData: weightData.buffer,
      };
    },
  };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes one weight takes in weights.bin. */
function specBytes(spec: tf.io.WeightsManifestEntry): number {
  const size = spec.shape.reduce((n, d) => n * d, 1);
  return size * DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype];
}

/** The weights and files a model.json names, checked: a malformed manifest is one line naming the file. */
function checkManifest(jsonPath: string, manifest: unknown): { specs: tf.io.WeightsManifestEntry[]; paths: string[] } {
  const bad = (what: string) => new UserError(`${jsonPath}: "weightsManifest" ${what}: not a model.json written by placer`);
  if (!Array.isArray(manifest)) throw bad('is missing or not a list');
  const specs: tf.io.WeightsManifestEntry[] = [];
  const paths: string[] = [];
  for (const group of manifest as Array<Record<string, unknown>>) {
    if (!group || !Array.isArray(group.paths) || !Array.isArray(group.weights)) throw bad('has a group without "paths" and "weights"');
    for (const path of group.paths) {
      // A plain file name beside model.json: never a path out of the folder.
      if (typeof path !== 'string' || path !== basename(path) || path === '..' || path === '.') throw bad(`names a file outside its folder (${JSON.stringify(path)})`);
      paths.push(path);
    }
    for (const spec of group.weights as Array<Record<string, unknown>>) {
      const shapeOk = Array.isArray(spec?.shape) && (spec.shape as unknown[]).every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0 && d <= 1e9);
      const dtype = (spec?.quantization as { dtype?: string } | undefined)?.dtype ?? spec?.dtype;
      if (typeof spec?.name !== 'string' || !shapeOk || typeof dtype !== 'string' || DTYPE_BYTES[dtype] === undefined) {
        throw bad(`has a malformed weight entry (${JSON.stringify(spec).slice(0, 80)})`);
      }
      specs.push(spec as unknown as tf.io.WeightsManifestEntry);
    }
  }
  return { specs, paths };
}

function concatWeightData(data: tf.io.WeightData): ArrayBuffer {
  if (!Array.isArray(data)) return data;
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), offset);
    offset += b.byteLength;
  }
  return out.buffer;
}

/** Saves named tensors (+ a JSON topology) through `handler`. */
export async function saveTensors(
  handler: tf.io.IOHandler,
  topology: object,
  tensors: tf.NamedTensorMap,
  metadata?: Record<string, object>,
): Promise<void> {
  const names = Object.keys(tensors).sort();
  const { data, specs } = await tf.io.encodeWeights(names.map((name) => ({ name, tensor: tensors[name] })));
  await handler.save!({
    format: 'placer-policy',
    generatedBy: `TensorFlow.js tfjs-core v${tf.version_core}`,
    modelTopology: topology,
    weightSpecs: specs,
    weightData: data,
    ...(metadata ? { userDefinedMetadata: metadata } : {}),
  });
}

export async function loadTensors(handler: tf.io.IOHandler): Promise<{ artifacts: tf.io.ModelArtifacts; tensors: tf.NamedTensorMap }> {
  const artifacts = await handler.load!();
  if (!artifacts.weightSpecs || artifacts.weightData === undefined) throw new UserError('saved policy has no weights');
  const tensors = tf.io.decodeWeights(artifacts.weightData, artifacts.weightSpecs);
  return { artifacts, tensors };
}

/** Writes `policy` to DIR (model.json + weights.bin). */
export async function savePolicy(policy: PolicyNetwork, dir: string, metadata?: Record<string, object>): Promise<void> {
  const weights = policy.weights();
  try {
    await saveTensors(fileIO(dir), policy.topology(), weights, metadata);
  } finally {
    tf.dispose(weights);
  }
}

/** Writes `policy` to DIR as one set (a reader never sees model.json of one save beside weights.bin of another). */
export async function savePolicyFolder(policy: PolicyNetwork, dir: string, metadata?: Record<string, object>): Promise<void> {
  await replaceFolder(dir, (building) => savePolicy(policy, building, metadata));
}

/** Reads a policy saved by `savePolicy`; a UserError names the file when it is not one. */
export async function loadPolicy(dir: string): Promise<{ policy: PolicyNetwork; metadata?: Record<string, object> }> {
  const { artifacts, tensors } = await loadTensors(fileIO(dir));
  try {
    const topology = artifacts.modelTopology as Partial<PolicyTopology> | undefined;
    if (!topology || topology.format !== 'placer-policy' || !topology.config) {
      throw new UserError(`${join(dir, MODEL_JSON)}: not a placer policy (modelTopology.format is not "placer-policy")`);
    }
    const policy = PolicyNetwork.fromWeights(topology.config, tensors);
    return { policy, metadata: artifacts.userDefinedMetadata };
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${join(dir, MODEL_JSON)}: ${(error as Error).message}`);
  } finally {
    tf.dispose(tensors);
  }
}
