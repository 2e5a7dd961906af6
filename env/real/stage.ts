/**
 * One pipeline stage as a tfjs sub-model: layers first..last of a model,
 * with the model's deterministic initial weights. Pure tfjs, no threads: the
 * stage worker, the profiler and the unsplit reference all run this code, so
 * what is profiled is what is validated.
 *
 * tfjs keeps no tape between calls, so `backward` recomputes the stage's
 * forward pass inside `tf.grads` (activation recomputation); the profile
 * measures the same work, so the simulator sees it too.
 */
import * as tf from '@tensorflow/tfjs';
import { initialWeights, inputShapeOf, makeLayer, type ModelSpec } from './model.js';

export class StageModel {
  readonly layers: tf.layers.Layer[];
  readonly variables: tf.Variable[];
  readonly inputShape: number[];
  readonly isFirst: boolean;
  readonly isLast: boolean;
  private accumulated: tf.Tensor[] | null = null;

  constructor(readonly spec: ModelSpec, readonly first: number, readonly last: number) {
    this.inputShape = inputShapeOf(spec, first);
    this.isFirst = first === 0;
    this.isLast = last === spec.layers.length - 1;
    this.layers = [];
    let shape = this.inputShape;
    for (let l = first; l <= last; l++) {
      const layer = makeLayer(spec.layers[l]);
      const probe = tf.tidy(() => layer.apply(tf.zeros([1, ...shape])) as tf.Tensor);
      shape = probe.shape.slice(1);
      probe.dispose();
      const shapes = layer.weights.map((w) => w.shape as number[]);
      if (shapes.length > 0) {
        const values = initialWeights(spec, l, shapes);
        const tensors = values.map((v, i) => tf.tensor(v, shapes[i]));
        layer.setWeights(tensors);
        tf.dispose(tensors);
      }
      this.layers.push(layer);
    }
    this.variables = this.layers.flatMap((layer) => layer.trainableWeights.map((w) => w.read() as tf.Variable));
  }

  /** Rows × input shape as a tensor. */
  input(values: Float32Array, rows: number): tf.Tensor {
    return tf.tensor(values, [rows, ...this.inputShape]);
  }

  apply(x: tf.Tensor): tf.Tensor {
    let h = x;
    for (const layer of this.layers) h = layer.apply(h) as tf.Tensor;
    return h;
  }

  /** Forward of one (part of a) micro-batch: the stage's output values. */
  forward(x: Float32Array, rows: number): Float32Array {
    const out = tf.tidy(() => this.apply(this.input(x, rows)));
    const values = out.dataSync() as Float32Array;
    out.dispose();
    return values;
  }

  /**
   * Last stage, forward: the loss of these rows, scaled by `scale` (1 / (B × M),
   * so the summed gradients are those of the step's mean loss).
   */
  forwardLoss(x: Float32Array, rows: number, targets: Float32Array, scale: number): number {
    const loss = tf.tidy(() => this.loss(this.apply(this.input(x, rows)), targets, rows, scale));
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  private loss(out: tf.Tensor, targets: Float32Array, rows: number, scale: number): tf.Scalar {
    const y = tf.tensor(targets, out.shape);
    const flat = out.reshape([rows, -1]);
    const yFlat = y.reshape([rows, -1]);
    const perExample =
      this.spec.loss === 'softmaxCrossEntropy'
        ? tf.neg(tf.sum(tf.mul(yFlat, tf.logSoftmax(flat)), 1))
        : tf.mean(tf.square(tf.sub(flat, yFlat)), 1);
    return tf.mul(tf.sum(perExample), scale) as tf.Scalar;
  }

  /**
   * Backward of one (part of a) micro-batch given the upstream gradient `dy`
   * (or, on the last stage, the targets): accumulates the parameter gradients
   * and returns the gradient of the stage input (null on the first stage, which
   * needs none).
   */
  backward(x: Float32Array, rows: number, upstream: { dy: Float32Array } | { targets: Float32Array; scale: number }): Float32Array | null {
    const grads = tf.tidy(() => {
      const input = this.input(x, rows);
      const withInput = !this.isFirst;
      const xs = withInput ? [input, ...this.variables] : [...this.variables];
      const f = (...args: tf.Tensor[]) => {
        const out = this.apply(withInput ? args[0] : input);
        return 'targets' in upstream ? this.loss(out, upstream.targets, rows, upstream.scale) : out;
      };
      const dy = 'dy' in upstream ? tf.tensor(upstream.dy, [rows, ...this.outputShape()]) : undefined;
      const gs = tf.grads(f)(xs, dy);
      this.accumulate(withInput ? gs.slice(1) : gs);
      return withInput ? gs[0] : tf.scalar(0);
    });
    if (this.isFirst) {
      grads.dispose();
      return null;
    }
    const values = grads.dataSync() as Float32Array;
    grads.dispose();
    return values;
  }

  private outputShapeCache?: number[];
  outputShape(): number[] {
    this.outputShapeCache ??= tf.tidy(() => this.apply(tf.zeros([1, ...this.inputShape])).shape.slice(1));
    return this.outputShapeCache;
  }

  private accumulate(gradients: tf.Tensor[]): void {
    if (this.accumulated === null) {
      this.accumulated = gradients.map((g) => tf.keep(g.clone()));
      return;
    }
    this.accumulated = this.accumulated.map((sum, i) => {
      const next = tf.keep(tf.add(sum, gradients[i]));
      sum.dispose();
      return next;
    });
  }

  /** The gradients summed over the step so far (zeros before any backward), as plain arrays. */
  gradients(): Float32Array[] {
    if (this.accumulated === null) return this.variables.map((v) => new Float32Array(v.size));
    return this.accumulated.map((g) => g.dataSync() as Float32Array);
  }

  /** Replaces the summed gradients (by the sum over all replicas of this stage). */
  setGradients(values: Float32Array[]): void {
    tf.dispose(this.accumulated ?? []);
    this.accumulated = values.map((v, i) => tf.keep(tf.tensor(v, this.variables[i].shape)));
  }

  /** Plain SGD with the summed gradients, then clears them for the next step. */
  applyGradients(): void {
    const lr = this.spec.optimizer.learningRate;
    if (this.accumulated !== null) {
      const grads = this.accumulated;
      tf.tidy(() => this.variables.forEach((v, i) => v.assign(tf.sub(v, tf.mul(grads[i], lr)))));
      tf.dispose(grads);
    }
    this.accumulated = null;
  }

  weights(): Float32Array[] {
    return this.variables.map((v) => v.dataSync() as Float32Array);
  }

  dispose(): void {
    tf.dispose(this.accumulated ?? []);
    this.accumulated = null;
    for (const layer of this.layers) layer.dispose();
  }
}
