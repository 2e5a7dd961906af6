/**
 * `placer profile`: measures a profile of a real model on the backends of a
 * catalogue's types, and what a stage boundary costs between two threads,
 * and writes layers.csv, profile.csv, links.csv and devices.csv (the
 * catalogue with each type's bandwidth measured) in the formats of the
 * README section "Input files".
 */
import { Worker, MessageChannel } from 'node:worker_threads';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { writeFileAtomic, writeJsonAtomic } from '../atomic-write.js';
import { loadDevicesWithRows } from '../load.js';
import type { DeviceType, Layer } from '../problem.js';
import { checkCatalogueBackends, useBackend } from './backends.js';
import { modelLayers, type ModelSpec } from './model.js';
import type { LayerTiming, LinkTiming, ProfileWorkerData } from './profile-worker.js';

export interface ProfileOptions {
  spec: ModelSpec;
  /** devices.csv of the catalogue; each type's `backend` (default cpu) is measured. */
  devicesFile: string;
  outDir: string;
  warmup?: number;
  repeats?: number;
  /** Micro-batches per step: the optimizer step (once per step) is charged 1/M of it per micro-batch (default 8). */
  microBatches?: number;
  /**
   * Identical profiling threads run at once (default 2): the layers are timed
   * while as many threads are busy as a pipeline of that many stages keeps
   * busy (on 2 cores, two busy threads slow each other by about 15%). 1 times
   * a lone thread.
   */
  concurrent?: number;
  /** Measure the links and write the measured bandwidth into DIR/devices.csv (default true). */
  measureLinks?: boolean;
  log?: (line: string) => void;
}

export interface ProfileResult {
  layers: Layer[];
  types: DeviceType[];
  /** timings[k][l] */
  timings: LayerTiming[][];
  /** links[k]: one-way boundary cost between two threads of type k's backend, at the model's cut sizes. */
  links: LinkTiming[][];
  /** Bytes per second of each type, measured (or the catalogue's when links were not measured). */
  bandwidthBytesPerS: number[];
  files: { layers: string; profile: string; devices: string; links: string; report: string };
}

function runWorker<T>(data: ProfileWorkerData, transfer: readonly import('node:worker_threads').TransferListItem[] = []): Promise<T> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./profile-worker.js', import.meta.url), { workerData: data, transferList: [...transfer] });
    worker.once('message', (message: T | { error: string }) => {
      void worker.terminate();
      if (message && typeof message === 'object' && 'error' in message) reject(new Error(`profile worker (${data.backend}): ${message.error}`));
      else resolve(message as T);
    });
    worker.once('error', reject);
    // A worker that dies without an 'error' event would otherwise leave this promise pending forever.
    worker.once('exit', (code) => reject(new Error(`profile worker (${data.backend}) exited (code ${code}) before it answered`)));
  });
}

/**
 * `n` layer-profiling workers at once: each loads its backend, builds and
 * warms up its layers and says ready; all start timing together (so no
 * worker's start-up lands on another's timings), and each returns its timings.
 */
async function runLayerWorkers(n: number, data: ProfileWorkerData & { role: 'layers' }): Promise<LayerTiming[][]> {
  const workers = Array.from({ length: n }, () => new Worker(new URL('./profile-worker.js', import.meta.url), { workerData: data }));
  try {
    const results = workers.map(
      (worker) =>
        new Promise<LayerTiming[]>((resolve, reject) => {
          worker.on('message', (message: LayerTiming[] | { ready: true } | { error: string }) => {
            if (Array.isArray(message)) resolve(message);
            else if ('error' in message) reject(new Error(`profile worker (${data.backend}): ${message.error}`));
          });
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`profile worker (${data.backend}) exited (code ${code}) before it answered`)));
        }),
    );
    // Any worker failing (an error, or an exit without one) fails the wait at once; the finally stops the others.
    const readies = workers.map((worker) => new Promise<void>((resolve) => worker.on('message', (m: { ready?: true }) => m && (m as { ready?: true }).ready && resolve())));
    await Promise.all(readies.map((ready, i) => Promise.race([ready, results[i].then(() => undefined)])));
    for (const worker of workers) worker.postMessage('go');
    return await Promise.all(results);
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate().catch(() => undefined)));
  }
}

/** The mean over the concurrent workers of their means (a layer one worker could not train has no row). */
function combineTimings(runs: LayerTiming[][]): LayerTiming[] {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return runs[0].map((first, l) => {
    const all = runs.map((run) => run[l]);
    if (all.some((t) => t.forwardMs === null || t.backwardMs === null)) return all.find((t) => t.forwardMs === null) ?? first;
    return {
      layer: first.layer,
      forwardMs: mean(all.map((t) => t.forwardMs!)),
      backwardMs: mean(all.map((t) => t.backwardMs!)),
      applyMs: mean(all.map((t) => t.applyMs ?? 0)),
      forwardMedianMs: mean(all.map((t) => t.forwardMedianMs ?? NaN)),
      backwardMedianMs: mean(all.map((t) => t.backwardMedianMs ?? NaN)),
      forwardSpread: mean(all.map((t) => t.forwardSpread)),
      backwardSpread: mean(all.map((t) => t.backwardSpread)),
      chainFirst: first.chainFirst,
    };
  });
}

/** One way boundary cost at each size: a ping thread and an echo thread on the same backend. */
async function measureLink(backend: string, sizes: number[], warmup: number, repeats: number): Promise<LinkTiming[]> {
  const channel = new MessageChannel();
  const echo = new Worker(new URL('./profile-worker.js', import.meta.url), {
    workerData: { role: 'echo', backend, port: channel.port2 } satisfies ProfileWorkerData,
    transferList: [channel.port2],
  });
  try {
    return await runWorker<LinkTiming[]>({ role: 'ping', backend, sizes, warmup, repeats, port: channel.port1 }, [channel.port1]);
  } finally {
    await echo.terminate().catch(() => undefined);
  }
}

/**
 * The bandwidth that makes τ = bytes / bandwidth match the measured boundary
 * cost at this model's cut sizes: the median of bytes / ms over them (a
 * boundary also has a fixed latency, which this spreads over the sizes that
 * actually occur).
 */
export function fitBandwidth(links: LinkTiming[]): number {
  const rates = links.map((link) => (link.bytes / Math.max(link.ms, 1e-6)) * 1000).sort((a, b) => a - b);
  const mid = Math.floor(rates.length / 2);
  return rates.length % 2 ? rates[mid] : (rates[mid - 1] + rates[mid]) / 2;
}

const num = (x: number) => Number(x.toPrecision(6)).toString();

export async function profileModel(options: ProfileOptions): Promise<ProfileResult> {
  const { spec, outDir } = options;
  const warmup = options.warmup ?? 8;
  const repeats = options.repeats ?? 41;
  const microBatches = options.microBatches ?? 8;
  const concurrent = options.concurrent ?? 2;
  const log = options.log ?? (() => {});
  const { types, rows } = loadDevicesWithRows(options.devicesFile);
  await checkCatalogueBackends(types, undefined, { file: options.devicesFile, rows });
  // Importing a backend package raises its priority; this thread only builds shapes, on cpu.
  await useBackend('cpu');
  const layers = modelLayers(spec);
  const timings: LayerTiming[][] = [];
  const links: LinkTiming[][] = [];
  const cutSizes = [...new Set(layers.slice(0, -1).map((layer) => layer.activationBytes))].sort((a, b) => a - b);
  // Types on the same backend share their measurements.
  const byBackend = new Map<string, { timings: LayerTiming[]; links: LinkTiming[] }>();
  for (const type of types) {
    const backend = type.backend ?? 'cpu';
    let measured = byBackend.get(backend);
    if (!measured) {
      log(`profiling ${spec.name} on backend ${backend} (${warmup} warm-up, ${repeats} repeats per stage, ${concurrent} thread${concurrent > 1 ? 's' : ''} at once)`);
      // `concurrent` identical workers at once: every layer is timed with the machine as busy as a pipeline of that many stages makes it.
      const runs = await runLayerWorkers(concurrent, { role: 'layers', spec, backend, warmup, repeats, microBatches });
      const layerTimings = combineTimings(runs);
      const linkTimings = options.measureLinks === false || cutSizes.length === 0 ? [] : await measureLink(backend, cutSizes, warmup, repeats);
      measured = { timings: layerTimings, links: linkTimings };
      byBackend.set(backend, measured);
    }
    timings.push(measured.timings);
    links.push(measured.links);
  }
  const bandwidthBytesPerS = types.map((type, k) => (links[k].length > 0 ? fitBandwidth(links[k]) : type.bandwidthBytesPerS));

  const files = {
    layers: join(outDir, 'layers.csv'),
    profile: join(outDir, 'profile.csv'),
    devices: join(outDir, 'devices.csv'),
    links: join(outDir, 'links.csv'),
    report: join(outDir, 'profile.json'),
  };
  writeFileAtomic(files.layers, ['name,param_bytes,activation_bytes', ...layers.map((l) => `${l.name},${l.paramBytes},${l.activationBytes}`)].join('\n') + '\n');
  // backward_ms = backward + the optimizer step's share (apply / M): the simulator has no optimizer term, and the stage worker applies once per step.
  const profileRows = ['layer,type,forward_ms,backward_ms,forward_spread,backward_spread,apply_ms_per_micro_batch,forward_median_ms,backward_median_ms'];
  layers.forEach((layer, l) =>
    types.forEach((type, k) => {
      const t = timings[k][l];
      if (t.forwardMs === null || t.backwardMs === null) return;
      const apply = t.applyMs ?? 0;
      profileRows.push(`${layer.name},${type.name},${num(t.forwardMs)},${num(t.backwardMs + apply)},${num(t.forwardSpread)},${num(t.backwardSpread)},${num(apply)},${num(t.forwardMedianMs ?? NaN)},${num(t.backwardMedianMs ?? NaN)}`);
    }),
  );
  writeFileAtomic(files.profile, profileRows.join('\n') + '\n');
  writeFileAtomic(
    files.devices,
    [
      'type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend',
      ...types.map((t, k) => `${t.name},${t.pricePerHour},${t.count},${t.memoryBytes},${Math.round(bandwidthBytesPerS[k])},${t.backend ?? 'cpu'}`),
    ].join('\n') + '\n',
  );
  writeFileAtomic(files.links, ['type,bytes,one_way_ms', ...types.flatMap((t, k) => links[k].map((link) => `${t.name},${link.bytes},${num(link.ms)}`))].join('\n') + '\n');
  writeJsonAtomic(files.report, {
    model: spec.name,
    microBatchSize: spec.microBatchSize,
    warmup,
    repeats,
    microBatches,
    concurrentThreads: concurrent,
    loadAverage: loadavg(),
    note: 'forward/backward ms: MEAN over repeats for ONE micro-batch (a step is a sum of calls, so means add up; medians, which drop the calls the scheduler interrupts, are in forward_median_ms/backward_median_ms), from whole stages timed on the stage worker\'s own calls (input upload, compute, output download): layer l = T(s..l) - T(s..l-1) over each run s..e of layers the backend can train, so a stage\'s fixed cost per call lands once, on the first layer of the run (a stage starting elsewhere misses it), and a difference below 0 is written as 0; repeats interleaved over the stages, with concurrentThreads identical profiling threads busy at once (a 2-stage pipeline keeps 2 threads busy; the mean over them is written); spread = (p90 - p10) / median. Backward includes the recomputed forward (tfjs keeps no tape between calls) and the optimizer step\'s share per micro-batch (apply_ms_per_micro_batch = mean apply ms / microBatches). Rows missing from profile.csv: the backend cannot train that layer (reason below). Bandwidth: bytes / one-way boundary ms (download, transfer between threads, upload), median over the model\'s cut sizes.',
    unavailable: types.flatMap((t, k) => timings[k].filter((x) => x.reason).map((x) => ({ layer: layers[x.layer].name, type: t.name, reason: x.reason }))),
    bandwidthBytesPerS: Object.fromEntries(types.map((t, k) => [t.name, Math.round(bandwidthBytesPerS[k])])),
  });
  return { layers, types, timings, links, bandwidthBytesPerS, files };
}
