/**
 * Real pipelined training: one worker thread per replica of every stage,
 * neighbouring replicas joined by MessageChannels (activations forward,
 * gradients back, as transferable buffers), the main thread only starting
 * steps and summing the gradients of a stage's replicas (data parallel: each
 * replica holds its rows of every micro-batch; the sum of their gradients is
 * the gradient of the whole batch, applied by every replica alike).
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { stepBatch, type ModelSpec } from './model.js';
import { replicaRows, type FromWorker, type Neighbour, type ToWorker, type WorkerInit } from './protocol.js';

export interface StagePlan {
  first: number;
  last: number;
  replicas: number;
  backend: string;
}

export interface PipelineOptions {
  spec: ModelSpec;
  stages: StagePlan[];
  microBatches: number;
  steps: number;
  /** Also return every stage's summed gradients of the first step (before they are applied). */
  collectGradients?: boolean;
}

export interface StepRecord {
  stepMs: number;
  loss: number;
  /** busyMs[s]: compute time of stage s in the step (the busiest replica). */
  busyMs: number[];
}

export interface PipelineResult {
  steps: StepRecord[];
  /** gradients[s][w]: stage s, weight w, summed over micro-batches and replicas (first step). */
  gradients?: Float32Array[][];
}

interface Replica {
  worker: Worker;
  stage: number;
  inbox: FromWorker[];
  waiting: ((message: FromWorker) => void) | null;
}

function receive(replica: Replica): Promise<FromWorker> {
  const queued = replica.inbox.shift();
  if (queued) return Promise.resolve(queued);
  return new Promise((resolve) => (replica.waiting = resolve));
}

async function expect<K extends FromWorker['kind']>(replica: Replica, kind: K): Promise<Extract<FromWorker, { kind: K }>> {
  const message = await receive(replica);
  if (message.kind === 'error') throw new Error(`stage ${replica.stage + 1} worker: ${message.message}`);
  if (message.kind !== kind) throw new Error(`stage ${replica.stage + 1} worker: expected "${kind}", got "${message.kind}"`);
  return message as Extract<FromWorker, { kind: K }>;
}

/** Stops every worker of a pipeline (those already gone included). */
async function terminateAll(replicas: Replica[][]): Promise<void> {
  await Promise.all(replicas.flat().map((replica) => replica.worker.terminate().catch(() => undefined)));
}

/** Starts the workers of a pipeline; resolves when every one has built its stage. */
async function startWorkers(options: PipelineOptions): Promise<Replica[][]> {
  const { spec, stages, microBatches } = options;
  const B = spec.microBatchSize;
  for (const stage of stages) {
    if (stage.replicas > B) throw new Error(`a stage has ${stage.replicas} replicas but a micro-batch only ${B} rows`);
  }
  // links[s][r]: replica r of stage s → its neighbours in stage s + 1 (and the reverse ends).
  const previous: Neighbour[][][] = stages.map((stage) => Array.from({ length: stage.replicas }, () => []));
  const next: Neighbour[][][] = stages.map((stage) => Array.from({ length: stage.replicas }, () => []));
  for (let s = 0; s + 1 < stages.length; s++) {
    for (let r = 0; r < stages[s].replicas; r++) {
      const mine = replicaRows(B, stages[s].replicas, r);
      for (let q = 0; q < stages[s + 1].replicas; q++) {
        const theirs = replicaRows(B, stages[s + 1].replicas, q);
        if (Math.min(mine.end, theirs.end) <= Math.max(mine.start, theirs.start)) continue;
        const channel = new MessageChannel();
        next[s][r].push({ port: channel.port1, rows: theirs });
        previous[s + 1][q].push({ port: channel.port2, rows: mine });
      }
    }
  }
  const replicas = stages.map((stage, s) =>
    Array.from({ length: stage.replicas }, (_, r): Replica => {
      const init: WorkerInit = {
        spec,
        first: stage.first,
        last: stage.last,
        backend: stage.backend,
        replicas: stage.replicas,
        rows: replicaRows(B, stage.replicas, r),
        microBatches,
        previous: previous[s][r],
        next: next[s][r],
      };
      const ports = [...init.previous, ...init.next].map((n) => n.port);
      const worker = new Worker(new URL('./stage-worker.js', import.meta.url), { workerData: init, transferList: ports });
      const replica: Replica = { worker, stage: s, inbox: [], waiting: null };
      worker.on('message', (message: FromWorker) => {
        const waiting = replica.waiting;
        if (waiting) {
          replica.waiting = null;
          waiting(message);
        } else replica.inbox.push(message);
      });
      const fail = (message: FromWorker) => {
        const waiting = replica.waiting;
        if (waiting) {
          replica.waiting = null;
          waiting(message);
        } else replica.inbox.push(message);
      };
      worker.on('error', (error) => fail({ kind: 'error', message: error.message, stack: error.stack }));
      // A worker that dies without an 'error' event (out of memory, process.exit in a backend) must not leave us waiting forever.
      worker.on('exit', (code) => fail({ kind: 'error', message: `worker thread exited (code ${code}) in the middle of the run` }));
      return replica;
    }),
  );
  try {
    await Promise.all(replicas.flat().map((replica) => expect(replica, 'ready')));
  } catch (error) {
    await terminateAll(replicas);
    throw error;
  }
  return replicas;
}

function rowsOf(values: Float32Array, batch: number, start: number, end: number): Float32Array {
  const rowSize = values.length / batch;
  return values.slice(start * rowSize, end * rowSize);
}

async function runStep(options: PipelineOptions, replicas: Replica[][], step: number, collect: boolean): Promise<{ record: StepRecord; gradients?: Float32Array[][] }> {
  const { spec, stages, microBatches } = options;
  const B = spec.microBatchSize;
  const { inputs, targets } = stepBatch(spec, step, microBatches);
  const last = stages.length - 1;
  const t0 = performance.now();
  replicas.forEach((stageReplicas, s) =>
    stageReplicas.forEach((replica, r) => {
      const rows = replicaRows(B, stages[s].replicas, r);
      const message: ToWorker = {
        kind: 'step',
        step,
        sendGradients: collect,
        inputs: s === 0 ? inputs.map((x) => rowsOf(x, B, rows.start, rows.end)) : undefined,
        targets: s === last ? targets.map((y) => rowsOf(y, B, rows.start, rows.end)) : undefined,
      };
      const transfer = [...(message.inputs ?? []), ...(message.targets ?? [])].map((a) => a.buffer as ArrayBuffer);
      replica.worker.postMessage(message, transfer);
    }),
  );
  let loss = 0;
  const busyMs = stages.map(() => 0);
  const gradients: Float32Array[][] = [];
  await Promise.all(
    replicas.map(async (stageReplicas, s) => {
      const done = await Promise.all(stageReplicas.map((replica) => expect(replica, 'backward-done')));
      for (const d of done) {
        loss += d.loss;
        busyMs[s] = Math.max(busyMs[s], d.busyMs);
      }
      if (done[0].gradients) {
        // The all-reduce: the sum over replicas of their gradients of their rows.
        const sum = done[0].gradients.map((g, w) => {
          const total = new Float32Array(g);
          for (let r = 1; r < done.length; r++) {
            const other = done[r].gradients![w];
            for (let i = 0; i < total.length; i++) total[i] += other[i];
          }
          return total;
        });
        gradients[s] = sum;
        if (stageReplicas.length > 1) {
          for (const replica of stageReplicas) replica.worker.postMessage({ kind: 'gradients', sum } satisfies ToWorker);
        }
      }
      const applied = await Promise.all(stageReplicas.map((replica) => expect(replica, 'applied')));
      busyMs[s] += Math.max(...applied.map((a) => a.busyMs));
    }),
  );
  const stepMs = performance.now() - t0;
  return { record: { stepMs, loss, busyMs }, gradients: collect ? gradients : undefined };
}

/** Trains `steps` steps of the pipeline; the first step's gradients on request. */
export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const replicas = await startWorkers(options);
  try {
    const steps: StepRecord[] = [];
    let gradients: Float32Array[][] | undefined;
    for (let step = 0; step < options.steps; step++) {
      const result = await runStep(options, replicas, step, step === 0 && options.collectGradients === true);
      steps.push(result.record);
      gradients ??= result.gradients;
    }
    return { steps, gradients };
  } finally {
    await terminateAll(replicas);
  }
}
