/** What every command shares: the problem options, their parsing, and error handling. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { UserError } from '../env/errors.js';
import { loadProblem, type ProblemFiles } from '../env/load.js';
import { bundledProblem, DEFAULT_PROBLEM } from '../env/bundled.js';
import { DEFAULT_SETTINGS, type Objective, type Problem, type Settings } from '../env/problem.js';

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

export function positiveInteger(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number >= 1, got "${value}"`);
    return n;
  };
}

export function nonNegativeNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number >= 0, got "${value}"`);
    return n;
  };
}

/** Adds --layers/--devices/--profile (or --problem NAME) and the settings of DESIGN.md. */
export function addProblemOptions(command: Command): Command {
  return command
    .option('--layers <file>', 'layers.csv: name, param_bytes, activation_bytes')
    .option('--devices <file>', 'devices.csv: type, price_per_hour, count, memory_bytes, bandwidth_bytes_per_s[, backend]')
    .option('--profile <file>', 'profile.csv: layer, type, forward_ms, backward_ms')
    .option('--problem <name>', `a bundled problem instead of the three files (default when no files: ${DEFAULT_PROBLEM}; see "placer problems")`)
    .option('--micro-batches <M>', 'micro-batches per training step (default 8)', positiveInteger('--micro-batches'))
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

/** Known user errors print one line and exit 1; bugs keep their stack. */
export function handleError(error: unknown): never {
  if (error instanceof UserError) {
    process.stderr.write(`placer: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
