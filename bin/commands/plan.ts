import { Command, Option } from 'commander';
import { UserError } from '../../env/errors.js';
import { DEFAULT_SETTINGS, type Settings } from '../../env/problem.js';
import { SEARCHER_NAMES } from '../../agent/searchers.js';
import { nonNegativeNumber, positiveInteger } from '../common.js';
import { addModelOptions, dimBindings, type ModelOptions } from './import.js';
import { resolveCatalogue } from '../../profiles/estimate/catalogue-path.js';
import { readCatalogue, type Precision } from '../../profiles/estimate/roofline.js';
import { plan } from '../../profiles/plan/plan.js';

interface PlanCommandOptions extends ModelOptions {
  catalogue: string;
  budget?: number;
  deadline?: number;
  objective?: 'time' | 'cost';
  microBatches: number;
  precision: Precision;
  timeLimit: number;
  fallback: string;
  seed: number;
  out: string;
}

export function register(program: Command): void {
  addModelOptions(
    program
      .command('plan')
      .description('one command from a model file to a placement: import, estimate a profile per type, search, write the problem folder, placement.json and plan-report.md')
      .argument('<model>', 'model.onnx, or model.json (or its folder) of a tfjs layers-model')
      .option('--catalogue <file>', 'devices.csv with optional roofline columns, or "cloud" for the bundled catalogue', 'cloud')
      .option('--budget <dollarsPerHour>', 'price ceiling (objective time)', nonNegativeNumber('--budget'))
      .option('--deadline <ms>', 'step-time ceiling (implies --objective cost)', nonNegativeNumber('--deadline'))
      .addOption(new Option('--objective <objective>', 'time: fastest within --budget; cost: cheapest within --deadline').choices(['time', 'cost']))
      .option('--micro-batches <M>', 'micro-batches per training step', positiveInteger('--micro-batches'), DEFAULT_SETTINGS.microBatches)
      .addOption(new Option('--precision <p>', 'roofline peak: fp32 or bf16 (mixed precision)').choices(['fp32', 'bf16']).default('fp32'))
      .option('--time-limit <seconds>', 'seconds for the whole search (exact first, then the fallback)', nonNegativeNumber('--time-limit'), 20)
      .addOption(new Option('--fallback <method>', 'searcher used when exact does not prove its optimum in time').choices(SEARCHER_NAMES.filter((n) => n !== 'exact')).default('genetic'))
      .option('--seed <S>', 'seed of every random choice (never 0)', positiveInteger('--seed'), 1)
      .option('--out <dir>', 'where the problem folder, placement.json and plan-report.md go', 'runs/plan'),
  )
    .addHelpText('after', '\nExamples:\n  placer plan resnet.onnx --catalogue cloud --budget 10 --micro-batch-size 32 --out runs/resnet-plan\n  placer plan bert.onnx --dim sequence=128 --micro-batch-size 8 --deadline 500 --out runs/bert-plan')
    .action(async (model: string, options: PlanCommandOptions) => {
      const objective = options.objective ?? (options.deadline !== undefined ? 'cost' : 'time');
      if (options.budget !== undefined && objective === 'cost') throw new UserError('--budget applies to --objective time; use --deadline with --objective cost');
      if (options.deadline !== undefined && objective === 'time') throw new UserError('--deadline applies to --objective cost');
      const settings: Settings = {
        microBatches: options.microBatches,
        objective,
        budget: objective === 'time' ? options.budget ?? Infinity : Infinity,
        deadline: objective === 'cost' ? options.deadline ?? Infinity : Infinity,
      };
      const result = await plan(model, {
        microBatchSize: options.microBatchSize,
        dims: dimBindings(options.dim),
        maxLayers: options.maxLayers,
        catalogue: readCatalogue(resolveCatalogue(options.catalogue)),
        precision: options.precision,
        settings,
        timeLimitS: options.timeLimit,
        exactShare: 0.5,
        fallback: options.fallback,
        seed: options.seed,
        out: options.out,
      });
      const e = result.evaluation;
      process.stdout.write(
        `${result.imported.report.model}: ${result.problem.layers.length} layers × ${result.problem.types.length} types; ` +
          `${e.feasible ? 'feasible' : 'NOT feasible'}, step ${e.stepMs === null ? 'n/a' : `${Number(e.stepMs.toPrecision(4))} ms`}, $${Number(e.pricePerHour.toPrecision(4))}/h, ` +
          `${e.stages.length} stage(s): ${e.stages.map((s) => `${s.replicas}×${s.type}`).join(' → ')}; ${result.result.method}${result.result.provenOptimal ? ' (proven)' : ''}, ${result.seconds.total.toFixed(2)} s\n` +
          `wrote ${result.files.join(', ')}\n`,
      );
      if (!e.feasible) {
        const budget = result.json.minimumFeasibleBudget;
        const deadline = result.json.minimumFeasibleDeadline;
        if (budget !== undefined) process.stdout.write(`No placement fits the budget: the smallest budget that makes one feasible is ${budget ?? 'none (memory or unit counts bind)'} $/h.\n`);
        if (deadline !== undefined) process.stdout.write(`No placement meets the deadline: the smallest feasible deadline is ${deadline ?? 'none (memory or unit counts bind)'} ms.\n`);
        process.exitCode = 2;
      }
    });
}
