/**
 * A stage worker: one replica of one pipeline stage, on its own thread with
 * its type's tfjs backend. GPipe: forwards of the M micro-batches as their
 * inputs arrive; the last stage starts the backward pass after its M-th
 * forward; gradients flow back; at the end of the step the summed
 * gradients are applied (after the main thread sums them over replicas).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { useBackend } from './backends.js';
import { StageModel } from './stage.js';
import type { FromWorker, Neighbour, Slice, ToWorker, WorkerInit } from './protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** Collects slices of one micro-batch from several neighbours until its rows are complete. */
class Assembler {
  private buffers = new Map<number, { values: Float32Array; rows: number }>();
  constructor(private readonly rows: { start: number; end: number }, private readonly rowSize: number) {}

  /** Adds a slice; returns the full values of the micro-batch when its last rows arrive. */
  add(slice: Slice): Float32Array | null {
    const total = this.rows.end - this.rows.start;
    if (slice.rows === total) return slice.values;
    let entry = this.buffers.get(slice.microBatch);
    if (!entry) {
      entry = { values: new Float32Array(total * this.rowSize), rows: 0 };
      this.buffers.set(slice.microBatch, entry);
    }
    entry.values.set(slice.values, (slice.rowStart - this.rows.start) * this.rowSize);
    entry.rows += slice.rows;
    if (entry.rows < total) return null;
    this.buffers.delete(slice.microBatch);
    return entry.values;
  }
}

/** Sends the rows each neighbour holds (the overlap with ours) as transferable buffers. */
function sendSlices(kind: Slice['kind'], microBatch: number, values: Float32Array, neighbours: Neighbour[], rowSize: number): void {
  for (const neighbour of neighbours) {
    const start = Math.max(init.rows.start, neighbour.rows.start);
    const end = Math.min(init.rows.end, neighbour.rows.end);
    if (end <= start) continue;
    const part = values.slice((start - init.rows.start) * rowSize, (end - init.rows.start) * rowSize);
    const slice: Slice = { kind, microBatch, rowStart: start, rows: end - start, values: part };
    neighbour.port.postMessage(slice, [part.buffer]);
  }
}

async function main(): Promise<void> {
  await useBackend(init.backend);
  const stage = new StageModel(init.spec, init.first, init.last);
  const rows = init.rows.end - init.rows.start;
  const M = init.microBatches;
  const scale = 1 / (init.spec.microBatchSize * M);
  const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const inSize = product(stage.inputShape);
  const outSize = product(stage.outputShape());
  const forwardIn = new Assembler(init.rows, inSize);
  const backwardIn = new Assembler(init.rows, outSize);

  // Per step state.
  let stashed: Float32Array[] = [];
  let targets: Float32Array[] = [];
  let forwardQueue: { microBatch: number; values: Float32Array }[] = [];
  let backwardQueue: { microBatch: number; values: Float32Array | null }[] = [];
  let forwardsDone = 0;
  let backwardsDone = 0;
  let busyMs = 0;
  let loss = 0;
  let sendGradients = false;
  let active = false;

  const timed = (work: () => void) => {
    const t0 = performance.now();
    work();
    busyMs += performance.now() - t0;
  };

  function pump(): void {
    while (active) {
      const f = forwardQueue.shift();
      if (f) {
        stashed[f.microBatch] = f.values;
        timed(() => {
          if (stage.isLast) {
            loss += stage.forwardLoss(f.values, rows, targets[f.microBatch], scale);
          } else {
            sendSlices('forward', f.microBatch, stage.forward(f.values, rows), init.next, outSize);
          }
        });
        forwardsDone++;
        if (stage.isLast && forwardsDone === M) for (let m = 0; m < M; m++) backwardQueue.push({ microBatch: m, values: null });
        continue;
      }
      const b = backwardQueue.shift();
      if (b) {
        timed(() => {
          const x = stashed[b.microBatch];
          const upstream = b.values === null ? { targets: targets[b.microBatch], scale } : { dy: b.values };
          const dx = stage.backward(x, rows, upstream);
          if (dx !== null) sendSlices('backward', b.microBatch, dx, init.previous, inSize);
        });
        backwardsDone++;
        if (backwardsDone === M) finishBackward();
        continue;
      }
      return;
    }
  }

  function finishBackward(): void {
    active = false;
    if (init.replicas > 1 || sendGradients) {
      const gradients = stage.gradients().map((g) => g.slice());
      post({ kind: 'backward-done', busyMs, loss, gradients }, gradients.map((g) => g.buffer as ArrayBuffer));
      if (init.replicas === 1) apply();
    } else {
      post({ kind: 'backward-done', busyMs, loss });
      apply();
    }
  }

  function apply(): void {
    busyMs = 0;
    timed(() => stage.applyGradients());
    post({ kind: 'applied', busyMs });
  }

  const onSlice = (slice: Slice) => {
    if (slice.kind === 'forward') {
      const values = forwardIn.add(slice);
      if (values) forwardQueue.push({ microBatch: slice.microBatch, values });
    } else {
      const values = backwardIn.add(slice);
      if (values) backwardQueue.push({ microBatch: slice.microBatch, values });
    }
    pump();
  };
  for (const neighbour of [...init.previous, ...init.next]) neighbour.port.on('message', onSlice);

  port.on('message', (message: ToWorker) => {
    switch (message.kind) {
      case 'step':
        stashed = new Array(M);
        targets = message.targets ?? [];
        forwardsDone = 0;
        backwardsDone = 0;
        busyMs = 0;
        loss = 0;
        sendGradients = message.sendGradients;
        active = true;
        if (message.inputs) message.inputs.forEach((values, microBatch) => forwardQueue.push({ microBatch, values }));
        pump();
        break;
      case 'gradients':
        stage.setGradients(message.sum);
        apply();
        break;
      case 'weights': {
        const weights = stage.weights().map((w) => w.slice());
        post({ kind: 'weights', weights }, weights.map((w) => w.buffer as ArrayBuffer));
        break;
      }
      case 'stop':
        stage.dispose();
        for (const neighbour of [...init.previous, ...init.next]) neighbour.port.close();
        port.close();
        break;
    }
  });
  // Slices may arrive before the step message (a fast neighbour): they wait in the queues until `active`.
  post({ kind: 'ready' });
}

main().catch((error: Error) => post({ kind: 'error', message: error.message, stack: error.stack }));
