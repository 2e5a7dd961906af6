/**
 * Saving and loading policies (and any tfjs model artifacts) on disk.
 * Plain @tensorflow/tfjs has no `file://` handler in Node, so this is one:
 * DIR/model.json (topology, weightsManifest) and DIR/weights.bin, in the
 * layout tfjs-node writes, each written atomically.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import { UserError } from '../env/errors.js';
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
      if (!existsSync(jsonPath)) throw new UserError(`${jsonPath}: no such file (expected a policy saved by "placer train")`);
      let modelJson: {
        format?: string;
        generatedBy?: string;
        modelTopology?: object;
        userDefinedMetadata?: Record<string, object>;
        weightsManifest?: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
      };
      try {
        modelJson = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (error) {
        throw new UserError(`${jsonPath}: not valid JSON (${(error as Error).message})`);
      }
      const manifest = modelJson.weightsManifest ?? [];
      const weightSpecs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Uint8Array[] = [];
      for (const group of manifest) {
        weightSpecs.push(...group.weights);
        for (const path of group.paths) {
          const file = join(dir, path);
          if (!existsSync(file)) throw new UserError(`${file}: missing (named in ${jsonPath})`);
          buffers.push(readFileSync(file));
        }
      }
      const total = buffers.reduce((n, b) => n + b.byteLength, 0);
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
