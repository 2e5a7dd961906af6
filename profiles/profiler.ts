/**
 * Regenerates the bundled profiles of this kind of machine: for each bundled
 * real model, `placer profile` on the local catalogue (profiles/local/devices.csv)
 * into profiles/local/<model>/, and the bundled problem
 * profiles/problems/local-<model>/ (layers, devices with the measured
 * bandwidth, profile, problem.json). Run: node dist/profiles/profiler.js [--quick]
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { PACKAGE_ROOT } from '../env/bundled.js';
import { writeJsonAtomic } from '../env/atomic-write.js';
import { bundledModelNames, loadModelSpec } from '../env/real/model.js';
import { profileModel } from '../env/real/profile.js';

export const LOCAL_DIR = join(PACKAGE_ROOT, 'profiles', 'local');
export const LOCAL_DEVICES = join(LOCAL_DIR, 'devices.csv');

/**
 * The local problem: prices are notional ($1/h per unit); a budget of 2 $/h
 * allows 2 busy threads, one per core of this 2-core machine. The catalogue
 * (profiles/local/devices.csv) has ONE unit per type, two types per backend:
 * data-parallel replicas do not pay here (2 wasm replicas: 1.19x, 2 cpu
 * replicas: 1.58x, measured, where the simulator's model gives 2x), while a
 * pipeline of two stages on one backend does.
 */
export function localProblemDefaults(model: string, cores = 2) {
  return {
    description: `${model} (real tfjs model, profiles/models/${model}.json) on this machine's tfjs backends (profiles/local/devices.csv). Prices are notional, $1/h per unit; the budget of ${cores} $/h stands for the ${cores} cores: at most ${cores} worker threads train at once. One unit per type (data-parallel replicas do not scale on this machine: 2 wasm replicas 1.19x, 2 cpu replicas 1.58x, measured), two types per backend so that a pipeline can run both stages on one backend.`,
    microBatches: 8,
    budget: cores,
    objective: 'time',
  };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  for (const name of bundledModelNames()) {
    const outDir = join(LOCAL_DIR, name);
    process.stderr.write(`profiling ${name} (load average ${loadavg()[0].toFixed(2)} on ${cpus().length} cores)\n`);
    const result = await profileModel({ spec: loadModelSpec(name), devicesFile: LOCAL_DEVICES, outDir, ...(quick ? { warmup: 1, repeats: 3 } : {}) });
    const problemDir = join(PACKAGE_ROOT, 'profiles', 'problems', `local-${name}`);
    mkdirSync(problemDir, { recursive: true });
    copyFileSync(result.files.layers, join(problemDir, 'layers.csv'));
    copyFileSync(result.files.devices, join(problemDir, 'devices.csv'));
    copyFileSync(result.files.profile, join(problemDir, 'profile.csv'));
    writeJsonAtomic(join(problemDir, 'problem.json'), localProblemDefaults(name));
    process.stdout.write(`wrote ${outDir}/ and ${problemDir}/\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
