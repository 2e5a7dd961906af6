/**
 * `placer quickstart` (what `npm start` runs): the whole job on a bundled real
 * model and this machine's tfjs backends — find the placement, export it,
 * then train it for real and compare the measured step with the prediction.
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { positiveInteger } from '../common.js';
import { describeSolve, solveAndExport } from './solve.js';
import { SEARCHER_NAMES } from '../../agent/searchers.js';
import { bundledProblem } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import { DEFAULT_SETTINGS, type Settings } from '../../env/problem.js';
import { loadModelSpec } from '../../env/real/model.js';
import { validatePlacement } from '../../env/real/validate.js';

interface QuickstartOptions {
  model: string;
  method: string;
  seed: number;
  steps: number;
  out: string;
}

export function register(program: Command): void {
  program
    .command('quickstart')
    .description('the main job (npm start): place a bundled real model on the local catalogue, export, then validate by real pipelined training')
    .option('--model <name>', 'bundled real model: mlp or cnn (problem local-<model>)', 'mlp')
    .addOption(new Option('--method <method>', 'the searcher').choices(SEARCHER_NAMES).default(SEARCHER_NAMES.includes('reinforce' as never) ? 'reinforce' : 'exact'))
    .option('--seed <S>', 'seed of every random choice', positiveInteger('--seed'), 1)
    .option('--steps <n>', 'measured training steps', positiveInteger('--steps'), 5)
    .option('--out <dir>', 'where placement.json and validation.json go', 'runs/quickstart')
    .action(async (options: QuickstartOptions) => {
      const problemName = `local-${options.model}`;
      const { files, defaults } = bundledProblem(problemName);
      const problem = loadProblem(files);
      const settings: Settings = {
        ...DEFAULT_SETTINGS,
        microBatches: defaults.microBatches ?? DEFAULT_SETTINGS.microBatches,
        budget: defaults.budget ?? Infinity,
      };
      process.stdout.write(`1/2 placing ${problemName} with ${options.method}\n`);
      const { file, result } = await solveAndExport({ problem, settings, problemName, method: options.method, seed: options.seed, out: options.out });
      process.stdout.write(`${describeSolve(problem, settings, result, problemName)}\nwrote ${file}\n\n`);
      process.stdout.write(`2/2 validating by real training (${options.steps} steps after warm-up)\n`);
      const outFile = join(options.out, 'validation.json');
      const v = await validatePlacement({
        placementFile: file,
        spec: loadModelSpec(options.model),
        devicesFile: files.devices,
        profileFile: files.profile,
        steps: options.steps,
        outFile,
      });
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(
        `predicted ${v.predictedStepMs.toFixed(1)} ms/step, measured ${v.measuredStepMs.toFixed(1)} ms/step, relative error ${pct(v.relativeError)}\n` +
          `loss ${v.lossFirst.toFixed(4)} -> ${v.lossLast.toFixed(4)}${v.lossLast < v.lossFirst ? ' (going down)' : ' (NOT going down)'}\n` +
          `wrote ${outFile}\n`,
      );
    });
}
