/** A three-layer dense model small enough for unit tests of the real pipeline and profiler. */
import type { ModelSpec } from './model.js';

export function tinyModelSpec(microBatchSize: number): ModelSpec {
  return {
    name: 'tiny',
    inputShape: [8],
    microBatchSize,
    seed: 3,
    loss: 'softmaxCrossEntropy',
    optimizer: { name: 'sgd', learningRate: 0.5 },
    data: { kind: 'teacher', seed: 5, batches: 1 },
    layers: [
      { name: 'a', type: 'dense', config: { units: 16, activation: 'relu' } },
      { name: 'b', type: 'dense', config: { units: 12, activation: 'tanh' } },
      { name: 'c', type: 'dense', config: { units: 4 } },
    ],
  };
}
