/** Messages between the pipeline's main thread and its stage workers, and between neighbouring workers. */
import type { MessagePort } from 'node:worker_threads';
import type { ModelSpec } from './model.js';

/** Rows [start, end) of every micro-batch: replica r of n holds [⌊rB/n⌋, ⌊(r+1)B/n⌋). */
export interface RowRange {
  start: number;
  end: number;
}

export function replicaRows(batch: number, replicas: number, replica: number): RowRange {
  return { start: Math.floor((replica * batch) / replicas), end: Math.floor(((replica + 1) * batch) / replicas) };
}

/** A link to one replica of a neighbouring stage and the rows it holds. */
export interface Neighbour {
  port: MessagePort;
  rows: RowRange;
}

export interface WorkerInit {
  spec: ModelSpec;
  first: number;
  last: number;
  backend: string;
  replicas: number;
  rows: RowRange;
  microBatches: number;
  previous: Neighbour[];
  next: Neighbour[];
}

/** Main → worker. */
export type ToWorker =
  | { kind: 'step'; step: number; inputs?: Float32Array[]; targets?: Float32Array[]; sendGradients: boolean }
  | { kind: 'gradients'; sum: Float32Array[] }
  | { kind: 'weights' }
  | { kind: 'stop' };

/** Worker → main. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'backward-done'; busyMs: number; loss: number; gradients?: Float32Array[] }
  | { kind: 'applied'; busyMs: number }
  | { kind: 'weights'; weights: Float32Array[] }
  | { kind: 'error'; message: string; stack?: string };

/** Worker ↔ worker, over a neighbour's port: activations forward, gradients back. */
export interface Slice {
  kind: 'forward' | 'backward';
  microBatch: number;
  /** First row of the micro-batch these values belong to. */
  rowStart: number;
  rows: number;
  values: Float32Array;
}
