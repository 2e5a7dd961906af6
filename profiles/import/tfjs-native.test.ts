/**
 * TensorFlow.js itself writes the layers-model format: models built here with
 * tfjs-layers and saved through a save handler are imported, and their
 * parameter totals checked against tfjs' own countParams().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { toChain } from './graph.js';
import { importTfjsLayers } from './tfjs-layers.js';

async function modelJson(model: tf.LayersModel): Promise<string> {
  let json = '';
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      json = JSON.stringify({
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      });
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return json;
}

function withoutManifest(json: string): string {
  const parsed = JSON.parse(json);
  delete parsed.weightsManifest;
  return JSON.stringify(parsed);
}

test('tfjs functional model (conv, batch norm, residual add, pooling, dense): parameters equal countParams()', async () => {
  const input = tf.input({ shape: [12, 12, 3], name: 'img' });
  const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', name: 'c1' }).apply(input) as tf.SymbolicTensor;
  const bn = tf.layers.batchNormalization({ name: 'bn' }).apply(c1) as tf.SymbolicTensor;
  const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }).apply(bn) as tf.SymbolicTensor;
  const sum = tf.layers.add({ name: 'res' }).apply([bn, c2]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(sum) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, name: 'fc' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out });
  const json = await modelJson(model);
  for (const text of [json, withoutManifest(json)]) {
    const graph = importTfjsLayers('model.json', text, { microBatchSize: 2, dims: new Map() });
    assert.equal(graph.nodes.reduce((s, n) => s + n.params, 0), model.countParams());
    assert.deepEqual(graph.unsupported, []);
  }
  const rows = toChain(importTfjsLayers('model.json', json, { microBatchSize: 2, dims: new Map() }));
  // The cut after the batch norm carries its output twice over: once to c2, once to the residual add.
  const bnRow = rows.find((r) => r.name === 'bn')!;
  assert.equal(bnRow.activationBytes, 2 * 12 * 12 * 8 * 4);
  model.dispose();
});

test('tfjs sequential text model (embedding, LSTM, GRU, dense): parameters equal countParams()', async () => {
  const model = tf.sequential({
    layers: [
      tf.layers.embedding({ inputDim: 300, outputDim: 12, inputShape: [10], name: 'emb' }),
      tf.layers.lstm({ units: 6, returnSequences: true, name: 'lstm' }),
      tf.layers.gru({ units: 5, name: 'gru' }),
      tf.layers.dense({ units: 3, activation: 'softmax', name: 'out' }),
    ],
  });
  const json = await modelJson(model);
  for (const text of [json, withoutManifest(json)]) {
    const graph = importTfjsLayers('model.json', text, { microBatchSize: 4, dims: new Map() });
    assert.equal(graph.nodes.reduce((s, n) => s + n.params, 0), model.countParams(), text === json ? 'manifest' : 'configs');
  }
  model.dispose();
});
