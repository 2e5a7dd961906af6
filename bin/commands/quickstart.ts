/**
 * `placer quickstart` (what `npm start` runs): the whole job on a bundled real
 * model and this machine's tfjs backends — profile the model here (a few
 * seconds; the bundled profile with --bundled), find the placement, export
 * it, then train it for real and compare the measured step with the
 * prediction. Profiling here first makes the prediction about this machine
 * (its CPU, its load) rather than about the one that made the bundled profile.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { positiveInteger } from '../common.js';
import { prepareOutputFolder } from '../../env/atomic-write.js';
import { describeSolve, solveAndExport } from './solve.js';
import { SEARCHER_NAMES } from '../../agent/searchers.js';
import { bundledProblem } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../../env/problem.js';
import { loadModelSpec } from '../../env/real/model.js';
import { profileModel } from '../../env/real/profile.js';
import { LOCAL_DEVICES } from '../../profiles/profiler.js';
import { validatePlacement } from '../../env/real/validate.js';

interface QuickstartOptions {
  model: string;
  method: string;
  seed: number;
  steps: number;
  out: string;
  bundled?: boolean;
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('the main job (npm start): place a bundled real model on the local catalogue, export, then validate by real pipelined training')
    .option('--model <name>', 'bundled real model: mlp or cnn (problem local-<model>)', 'mlp')
    .addOption(new Option('--method <method>', 'the searcher').choices(SEARCHER_NAMES).default('reinforce'))
    .option('--seed <S>', 'seed of every random choice', positiveInteger('--seed'), 1)
    .option('--steps <n>', 'measured training steps', positiveInteger('--steps'), 20)
    .option('--out <dir>', 'where placement.json and validation.json go', 'runs/quickstart')
    .option('--bundled', 'use the bundled profile of this kind of machine (profiles/problems/local-<model>/) instead of profiling here first')
    .action(async (options: QuickstartOptions) => {
      const problemName = `local-${options.model}`;
      const bundled = bundledProblem(problemName);
      const { defaults } = bundled;
      let files = bundled.files;
      const spec = loadModelSpec(options.model);
      prepareOutputFolder(options.out);
      const steps = options.bundled ? 2 : 3;
      if (!options.bundled) {
        process.stdout.write(`1/${steps} profiling ${options.model} on this machine's backends (${LOCAL_DEVICES})\n`);
        const t0 = Date.now();
        const profiled = await profileModel({ spec, devicesFile: LOCAL_DEVICES, outDir: join(options.out, 'profile') });
        files = { layers: profiled.files.layers, devices: profiled.files.devices, profile: profiled.files.profile };
        process.stdout.write(`wrote ${join(options.out, 'profile')}/ (${((Date.now() - t0) / 1000).toFixed(1)} s)\n\n`);
      }
      const problem = loadProblem(files);
      const settings: Settings = {
        ...DEFAULT_SETTINGS,
        microBatches: defaults.microBatches ?? DEFAULT_SETTINGS.microBatches,
        budget: defaults.budget ?? Infinity,
      };
      const from = options.bundled ? `bundled ${problemName}` : `${problemName} as profiled now`;
      process.stdout.write(`${steps - 1}/${steps} placing ${from} with ${options.method}\n`);
      const { file, result, json } = await solveAndExport({ problem, settings, problemName, method: options.method, seed: options.seed, out: options.out });
      process.stdout.write(`${describeSolve(problem, settings, result, problemName, json)}\nwrote ${file}\n\n`);
      process.stdout.write(`${steps}/${steps} validating by real training (${options.steps} steps after warm-up)\n`);
      const outFile = join(options.out, 'validation.json');
      const v = await validatePlacement({
        placementFile: file,
        spec,
        devicesFile: files.devices,
        profileFile: files.profile,
        steps: options.steps,
        outFile,
        force: true, // quickstart's own folder: each run replaces the last one's files
      });
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(
        `predicted ${v.predictedStepMs.toFixed(1)} ms/step, measured ${v.measuredStepMs.toFixed(1)} ms/step, relative error ${pct(v.relativeError)}\n` +
          `loss ${v.lossFirst.toFixed(4)} -> ${v.lossLast.toFixed(4)}${v.lossLast < v.lossFirst ? ' (going down)' : ' (NOT going down)'}\n` +
          `wrote ${outFile}\n`,
      );
      const { cores, loadAverageBefore } = v.machine;
      if (loadAverageBefore[0] > cores) {
        process.stdout.write(
          `note: load average ${loadAverageBefore[0].toFixed(2)} on ${cores} cores: other jobs share this machine, and how much of it they leave to the profile and to the training can differ (run with raised priority, or on a quiet machine)\n`,
        );
      }
    });
}
