/** What every command shares: the problem options, their parsing, and error handling. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../env/errors.js';
import { loadProblem, type ProblemFiles } from '../env/load.js';
import { bundledProblem, DEFAULT_PROBLEM } from '../env/bundled.js';
import { DEFAULT_SETTINGS, LIMITS, type Objective, type Problem, type Settings } from '../env/problem.js';
import { checkNumber, DECIMAL, type NumberRule } from '../env/csv.js';

export interface ProblemOptions {
  layers?: string;
  devices?: string;
  profile?: string;
  problem?: string;
  microBatches?: number;
  budget?: number;
  deadline?: number;
  objective?: Objective;
}

/** A flag's number, read like a CSV cell: decimal or scientific notation only ("0x10", "Infinity" and "" are refused), within bounds. */
function flagNumber(name: string, rule: NumberRule, max: number) {
  return (value: string): number => {
    const text = value.trim();
    const n = DECIMAL.test(text) ? Number(text) : NaN;
    const expected = checkNumber(n, rule, { max });
    if (expected) throw new InvalidArgumentError(`${name} must be ${expected}, got "${value}"`);
    return n;
  };
}

export const positiveInteger = (name: string, max: number = LIMITS.count) => flagNumber(name, 'positiveCount', max);
export const nonNegativeNumber = (name: string, max: number = LIMITS.constraint) => flagNumber(name, 'nonNegative', max);
export const positiveNumber = (name: string, max: number = LIMITS.constraint) => flagNumber(name, 'positive', max);

/** Adds --layers/--devices/--profile (or --problem NAME) and the settings (README: "The model the simulator scores"). */
export function addProblemOptions(command: Command): Command {
  return command
    .option('--layers <file>', 'layers.csv: name, param_bytes, activation_bytes')
    .option('--devices <file>', 'devices.csv: type, price_per_hour, count, memory_bytes, bandwidth_bytes_per_s[, backend]')
    .option('--profile <file>', 'profile.csv: layer, type, forward_ms, backward_ms')
    .option('--problem <name>', `a bundled problem instead of the three files (default when no files: ${DEFAULT_PROBLEM}; see "placer problems")`)
    .option('--micro-batches <M>', 'micro-batches per training step (default 8)', positiveInteger('--micro-batches', LIMITS.microBatches))
    .option('--budget <dollarsPerHour>', 'price ceiling for --objective time (default: none)', nonNegativeNumber('--budget'))
    .option('--deadline <ms>', 'step-time ceiling for --objective cost (default: none)', nonNegativeNumber('--deadline'))
    .addOption(new Option('--objective <objective>', 'time: fastest step within the budget; cost: cheapest step within the deadline').choices(['time', 'cost']));
}

export interface LoadedProblem {
  problem: Problem;
  settings: Settings;
  /** The bundled problem's name, or undefined when read from files. */
  problemName?: string;
  files: ProblemFiles;
}

/** Reads the problem named by the options; bundled problems bring their own default budget and M. */
export function loadProblemFromOptions(options: ProblemOptions): LoadedProblem {
  const given = [options.layers, options.devices, options.profile].filter((x) => x !== undefined).length;
  if (given > 0 && given < 3) throw new UserError('give all three of --layers, --devices and --profile (or --problem NAME)');
  if (given === 3 && options.problem) throw new UserError('give either --problem or the three files, not both');
  let files: ProblemFiles;
  let defaults: Partial<Settings> = {};
  let problemName: string | undefined;
  if (given === 3) {
    files = { layers: options.layers!, devices: options.devices!, profile: options.profile! };
  } else {
    problemName = options.problem ?? DEFAULT_PROBLEM;
    const bundled = bundledProblem(problemName);
    files = bundled.files;
    defaults = bundled.defaults;
  }
  const objective = options.objective ?? defaults.objective ?? DEFAULT_SETTINGS.objective;
  if (options.budget !== undefined && objective === 'cost') throw new UserError('--budget applies to --objective time; use --deadline with --objective cost');
  if (options.deadline !== undefined && objective === 'time') throw new UserError('--deadline applies to --objective cost; add --objective cost');
  const settings: Settings = {
    microBatches: options.microBatches ?? defaults.microBatches ?? DEFAULT_SETTINGS.microBatches,
    objective,
    // An explicit objective that differs from the bundled one drops the bundled constraint.
    budget: objective === 'time' ? (options.budget ?? (defaults.objective !== 'cost' ? defaults.budget : undefined) ?? Infinity) : Infinity,
    deadline: objective === 'cost' ? (options.deadline ?? (defaults.objective === 'cost' ? defaults.deadline : undefined) ?? Infinity) : Infinity,
  };
  return { problem: loadProblem(files), settings, problemName, files };
}

/**
 * The one place errors reach the user: a UserError is its message; anything
 * else (a bug, or a failure nothing caught) is one `placer:` line too, with
 * the stack only under PLACER_DEBUG=1. Always a non-zero exit.
 */
export function handleError(error: unknown): never {
  process.stderr.write(`${errorLine(error)}\n`);
  process.exit(error instanceof UserError ? 1 : 2);
}

export function errorLine(error: unknown): string {
  if (error instanceof UserError) return `placer: ${error.message}`;
  const debug = process.env.PLACER_DEBUG === '1';
  if (debug && error instanceof Error && error.stack) return `placer: ${error.stack}`;
  const message = error instanceof Error ? error.message : String(error);
  const first = message.split('\n').find((line) => line.trim() !== '') ?? 'unknown error';
  return `placer: internal error: ${first.trim()} (PLACER_DEBUG=1 shows where)`;
}

/** Commander's own errors (unknown option, bad value, missing argument) as one `placer:` line, exit 1. */
export function configureErrors(program: Command): Command {
  return program.configureOutput({
    outputError: (text, write) => {
      // "option '--budget <x>' argument 'lots' is invalid. --budget must be …": the parser's reason is enough.
      const line = text
        .replace(/^error: /, '')
        .replace(/^option '[^']*' argument '[^']*' is invalid\. (?=--)/s, '')
        .replace(/\s*\n\s*/g, ' ')
        .trim();
      write(`placer: ${line} (see --help)\n`);
    },
  });
}
