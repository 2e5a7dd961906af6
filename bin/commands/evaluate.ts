import { Command } from 'commander';
import { addProblemOptions, loadProblemFromOptions, type ProblemOptions } from '../common.js';
import { formatEvaluation } from '../format.js';
import { UserError } from '../../env/errors.js';
import { loadPlacement, parseAssignment } from '../../env/load.js';
import { placementFromAssignment } from '../../env/problem.js';
import { evaluate } from '../../env/simulate.js';

interface EvaluateOptions extends ProblemOptions {
  assignment?: string;
  placement?: string;
  json?: boolean;
}

export function register(program: Command): void {
  addProblemOptions(
    program
      .command('evaluate')
      .description('score one placement with the simulator: step time, price, cost per step, feasibility')
      .option('--assignment <types>', 'one type per layer, comma-separated (stages = runs of equal types, one replica each)')
      .option('--placement <file>', 'a placement.json; its stages (type, replicas, firstLayer, lastLayer) are scored')
      .option('--json', 'print one JSON object instead of the table'),
  )
    .addHelpText('after', '\nExample:\n  placer evaluate --problem toy --assignment cpu,gpu,gpu,gpu --json')
    .action((options: EvaluateOptions) => {
      if ((options.assignment === undefined) === (options.placement === undefined)) {
        throw new UserError('give exactly one of --assignment and --placement');
      }
      const { problem, settings } = loadProblemFromOptions(options);
      const placement = options.assignment !== undefined
        ? placementFromAssignment(parseAssignment(options.assignment, problem))
        : loadPlacement(options.placement!, problem);
      const report = evaluate(problem, settings, placement);
      if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      else process.stdout.write(`${formatEvaluation(report, new Map(problem.layers.map((l, i) => [l.name, i])))}\n`);
    });
}
