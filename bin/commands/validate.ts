/** `placer validate DIR/placement.json`: pipelined tfjs training of a placement, measured against the simulator. */
import type { Command } from 'commander';
import { positiveInteger } from '../common.js';
import { LIMITS } from '../../env/problem.js';
import { loadModelSpec } from '../../env/real/model.js';
import { validatePlacement } from '../../env/real/validate.js';

interface ValidateCommandOptions {
  model: string;
  devices: string;
  profile?: string;
  steps?: number;
  warmup?: number;
  microBatches?: number;
  out?: string;
  json?: boolean;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('train the placement for real: one worker thread per stage replica on its type\'s backend, GPipe schedule; writes validation.json (predicted vs measured step ms, losses, per-stage busy ms)')
    .argument('<placement>', 'placement.json (its stages: type, replicas, firstLayer, lastLayer)')
    .requiredOption('--model <name|file>', 'a bundled model (mlp, cnn) or a model description .json')
    .requiredOption('--devices <file>', 'devices.csv of the placement\'s types (with their backend)')
    .option('--profile <file>', 'profile.csv for the prediction (default: the one the placement records, profileFile; for an older placement profiles/local/<model>/profile.csv, else its stepMs)')
    .option('--steps <n>', 'measured steps after the warm-up (default 10)', positiveInteger('--steps', 100_000))
    .option('--warmup <n>', 'warm-up steps, not measured (default 3)', positiveInteger('--warmup', 100_000))
    .option('--micro-batches <M>', 'micro-batches per step (default: the placement\'s, else 8)', positiveInteger('--micro-batches', LIMITS.microBatches))
    .option('--out <file>', 'where to write validation.json (default: beside the placement)')
    .option('--force', 'overwrite an existing validation.json, and predict from a --profile other than the placement\'s own')
    .option('--json', 'print validation.json instead of a summary')
    .action(async (placement: string, options: ValidateCommandOptions) => {
      const v = await validatePlacement({
        placementFile: placement,
        spec: loadModelSpec(options.model),
        devicesFile: options.devices,
        profileFile: options.profile,
        steps: options.steps,
        warmupSteps: options.warmup,
        microBatches: options.microBatches,
        outFile: options.out,
        force: options.force === true,
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
        return;
      }
      const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
      process.stdout.write(
        `${v.model}: predicted ${v.predictedStepMs.toFixed(1)} ms/step, measured ${v.measuredStepMs.toFixed(1)} ms/step (median of ${v.steps} after ${v.warmupSteps} warm-up), relative error ${pct(v.relativeError)}\n` +
          `loss ${v.lossFirst.toFixed(4)} -> ${v.lossLast.toFixed(4)}\n` +
          v.stages.map((s, i) => `stage ${i + 1}: ${s.firstLayer}..${s.lastLayer} on ${s.type} (${s.backend}) x${s.replicas}: busy ${s.busyMs.toFixed(1)} ms/step\n`).join(''),
      );
    });
}
