/** `placer profile`: measure layers.csv, profile.csv and the link bandwidth of a real model on a catalogue's backends. */
import { cpus } from 'node:os';
import type { Command } from 'commander';
import { prepareOutputFolder } from '../../env/atomic-write.js';
import { positiveInteger } from '../common.js';
import { loadModelSpec } from '../../env/real/model.js';
import { profileModel } from '../../env/real/profile.js';

interface ProfileCommandOptions {
  model: string;
  devices: string;
  out: string;
  repeats?: number;
  warmup?: number;
  quick?: boolean;
  concurrent?: number;
}

/** More profiling threads than this only queue for the cores (and can exhaust the process's threads). */
const MAX_CONCURRENT = cpus().length * 4;

export function register(program: Command): void {
  program
    .command('profile')
    .description('measure a real tfjs model on the backend of each device type: layers.csv, profile.csv (forward/backward ms per micro-batch: mean of interleaved repeats of whole stages, per layer by differences, spread), links.csv and devices.csv with the measured bandwidth of a stage boundary between threads')
    .requiredOption('--model <name|file>', 'a bundled model (mlp, cnn) or a model description .json')
    .requiredOption('--devices <file>', 'devices.csv whose types name a backend (cpu, wasm, tensorflow, tensorflow-gpu)')
    .requiredOption('--out <dir>', 'folder for layers.csv, profile.csv, devices.csv, links.csv, profile.json')
    .option('--repeats <n>', 'timed repeats per stage (default 41)', positiveInteger('--repeats', 100_000))
    .option('--warmup <n>', 'untimed warm-up runs per stage (default 8)', positiveInteger('--warmup', 100_000))
    .option('--concurrent <n>', 'identical profiling threads busy at once (default 2: the threads a 2-stage pipeline keeps busy; 1 times a lone thread)', positiveInteger('--concurrent', MAX_CONCURRENT))
    .option('--quick', 'smoke run: 1 warm-up, 3 repeats')
    .action(async (options: ProfileCommandOptions) => {
      const spec = loadModelSpec(options.model);
      prepareOutputFolder(options.out);
      const result = await profileModel({
        spec,
        devicesFile: options.devices,
        outDir: options.out,
        warmup: options.quick ? 1 : options.warmup,
        repeats: options.quick ? 3 : options.repeats,
        concurrent: options.concurrent,
        log: (line) => process.stderr.write(`placer: ${line}\n`),
      });
      for (const file of Object.values(result.files)) process.stdout.write(`wrote ${file}\n`);
    });
}
