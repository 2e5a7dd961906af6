#!/usr/bin/env node
/** The command line: thin. Each command lives in bin/commands/<name>.ts and exports `register`. */
import { Command } from 'commander';
import { configureErrors, handleError } from './common.js';
import { register as registerEvaluate } from './commands/evaluate.js';
import { register as registerSolve } from './commands/solve.js';
import { register as registerProblems } from './commands/problems.js';
import { register as registerQuickstart } from './commands/quickstart.js';
import { register as registerProfile } from './commands/profile.js';
import { register as registerValidate } from './commands/validate.js';
import { register as registerTrain } from './commands/train.js';
import { register as registerPlace } from './commands/place.js';
import { register as registerPretrain } from './commands/pretrain.js';
import { register as registerImport } from './commands/import.js';
import { register as registerEstimate } from './commands/estimate.js';
import { register as registerPlan } from './commands/plan.js';

async function main(argv: string[]): Promise<void> {
  // Set before the commands are added: each inherits the one-line error output.
  const program = configureErrors(
    new Command('placer').description('Place each layer of a neural network on a type of processing unit: fastest step within a budget, or cheapest within a deadline.'),
  );
  // commands: one line each
  registerEvaluate(program);
  registerSolve(program);
  registerProblems(program);
  registerQuickstart(program);
  registerProfile(program);
  registerValidate(program);
  registerTrain(program);
  registerPlace(program);
  registerPretrain(program);
  registerImport(program);
  registerEstimate(program);
  registerPlan(program);
  // No command at all: the help, on stdout, as a normal exit (commander would print it to stderr and exit 1).
  if (argv.length <= 2) {
    program.outputHelp();
    return;
  }
  await program.parseAsync(argv);
}

// Whatever escapes (a rejected promise nobody awaited, an error thrown in a callback) ends the same way.
process.on('uncaughtException', handleError);
process.on('unhandledRejection', handleError);
main(process.argv).catch(handleError);
