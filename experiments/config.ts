/**
 * Sweep configs: experiments/configs/<sweep>.json, checked when loaded.
 *
 * A config names the sweep, its problems, methods, seeds and budgets; a
 * `quick` block overrides any of those for `--quick` (CI smoke runs). Every
 * mistake is one line naming the file and the key: `budget.json: quick.seeds:
 * expected a non-empty list of positive integers, got [0]`.
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../env/errors.js';
import { bundledProblemNames } from '../env/bundled.js';
import { SEARCHER_NAMES } from '../agent/searchers.js';
import { syntheticProblem } from '../profiles/synthetic.js';

export const SWEEP_KINDS = ['budget', 'scaling', 'seeds'] as const;
export type SweepKind = (typeof SWEEP_KINDS)[number];

/** What every sweep shares. */
export interface CommonConfig {
  sweep: SweepKind;
  description: string;
  /** Searcher names (registered in agent/searchers.ts), or every registered one when the file says "all". */
  methods: string[];
  /** Seeds of the seeded methods (exact and greedy run once, with the first seed). */
  seeds: number[];
  /** The same simulator-evaluation budget for every sampling method (fair comparison). */
  maxEvaluations: number;
  /** Wall-clock limit of the exact searcher; past it, its best so far and `provenOptimal: false`. */
  exactTimeLimitS: number;
  /** Hard wall-clock cap on any one run: past it the run's worker is stopped and the run recorded as timed out. */
  runTimeLimitS: number;
  microBatches: number;
}

export interface BudgetConfig extends CommonConfig {
  sweep: 'budget';
  /** Bundled problem names. */
  problems: string[];
  /** Budgets spaced geometrically from the cheapest feasible to the price of every unit; then the bundled budget and unconstrained. */
  budgetPoints: number;
}

export interface ScalingConfig extends CommonConfig {
  sweep: 'scaling';
  layers: number[];
  types: number[];
  /** Seed of the synthetic generator (the problem, not the searchers). */
  problemSeed: number;
  /** Budget, geometric between the cheapest feasible (0) and the price of every unit (1). */
  budgetPosition: number;
}

export interface SeedsConfig extends CommonConfig {
  sweep: 'seeds';
  problems: string[];
}

export type SweepConfig = BudgetConfig | ScalingConfig | SeedsConfig;

type Check = (value: unknown) => string | null;

const describe = (value: unknown) => JSON.stringify(value) ?? String(value);
const isPositiveInteger = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x > 0;

const positiveInteger: Check = (v) => (isPositiveInteger(v) ? null : 'expected a positive integer');
const positiveNumber: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? null : 'expected a positive number');
const fraction: Check = (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : 'expected a number in 0..1');
const text: Check = (v) => (typeof v === 'string' ? null : 'expected a string');
const integers: Check = (v) =>
  Array.isArray(v) && v.length > 0 && v.every(isPositiveInteger) ? null : 'expected a non-empty list of positive integers';

function namesFrom(known: readonly string[], what: string, allowAll: boolean): Check {
  return (v) => {
    if (allowAll && v === 'all') return null;
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string')) {
      return `expected ${allowAll ? '"all" or ' : ''}a non-empty list of ${what} names`;
    }
    const unknown = v.filter((x) => !known.includes(x));
    return unknown.length ? `unknown ${what} ${unknown.map((x) => `"${x}"`).join(', ')} (known: ${known.join(', ')})` : null;
  };
}

const methodNames: Check = namesFrom(SEARCHER_NAMES, 'method', true);
const problemNames: Check = (v) => namesFrom(bundledProblemNames(), 'problem', true)(v);
const excludedMethods: Check = (v) => (v === undefined ? null : namesFrom(SEARCHER_NAMES, 'method', false)(v));
const syntheticTypes: Check = (v) => {
  const shape = integers(v);
  if (shape) return shape;
  for (const types of v as number[]) {
    try {
      syntheticProblem({ layers: 1, types, seed: 1 });
    } catch (error) {
      return (error as Error).message.replace(/^syntheticProblem: /, 'synthetic generator: ').replace(/, got .*$/, '');
    }
  }
  return null;
};

/** How many types the synthetic generator can make (its number of hardware archetypes). */
export function maxSyntheticTypes(): number {
  let k = 1;
  for (;;) {
    try {
      syntheticProblem({ layers: 1, types: k + 1, seed: 1 });
      k++;
    } catch {
      return k;
    }
  }
}

const COMMON: Record<string, Check> = {
  description: text,
  methods: methodNames,
  excludeMethods: excludedMethods,
  seeds: integers,
  maxEvaluations: positiveInteger,
  exactTimeLimitS: positiveNumber,
  runTimeLimitS: positiveNumber,
  microBatches: positiveInteger,
};

const FIELDS: Record<SweepKind, Record<string, Check>> = {
  budget: { ...COMMON, problems: problemNames, budgetPoints: (v) => (isPositiveInteger(v) && v >= 2 ? null : 'expected an integer ≥ 2') },
  scaling: { ...COMMON, layers: integers, types: syntheticTypes, problemSeed: positiveInteger, budgetPosition: fraction },
  seeds: { ...COMMON, problems: problemNames },
};

/** Checks a parsed config (`where` names it in errors) and returns it with `quick` applied when asked. */
export function validateSweepConfig(raw: unknown, where: string, quick = false): SweepConfig {
  const fail = (key: string, message: string, value?: unknown): never => {
    throw new UserError(`${where}: ${key ? `${key}: ` : ''}${message}${value === undefined ? '' : `, got ${describe(value)}`}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('', 'expected a JSON object');
  const object = raw as Record<string, unknown>;
  const sweep = object.sweep;
  if (typeof sweep !== 'string' || !(SWEEP_KINDS as readonly string[]).includes(sweep)) {
    fail('sweep', `expected one of ${SWEEP_KINDS.join(', ')}`, sweep);
  }
  const fields = FIELDS[sweep as SweepKind];
  const checkBlock = (block: Record<string, unknown>, prefix: string, complete: boolean) => {
    for (const [key, value] of Object.entries(block)) {
      if (key === 'sweep' || (key === 'quick' && !prefix)) continue;
      const check = fields[key];
      if (!check) fail(`${prefix}${key}`, `unknown key (known: ${['sweep', ...Object.keys(fields), 'quick'].join(', ')})`);
      const problem = check(value);
      if (problem) fail(`${prefix}${key}`, problem, value);
    }
    if (complete) {
      for (const key of Object.keys(fields)) {
        if (key !== 'excludeMethods' && block[key] === undefined) fail(key, 'missing');
      }
    }
  };
  checkBlock(object, '', true);
  const quickBlock = object.quick;
  if (quickBlock !== undefined) {
    if (typeof quickBlock !== 'object' || quickBlock === null || Array.isArray(quickBlock)) fail('quick', 'expected an object of overrides', quickBlock);
    if ('sweep' in (quickBlock as object)) fail('quick.sweep', 'cannot be overridden');
    checkBlock(quickBlock as Record<string, unknown>, 'quick.', false);
  }
  const merged: Record<string, unknown> = { ...object, ...(quick && quickBlock ? (quickBlock as object) : {}) };
  delete merged.quick;
  const exclude = (merged.excludeMethods as string[] | undefined) ?? [];
  delete merged.excludeMethods;
  merged.methods = (merged.methods === 'all' ? SEARCHER_NAMES : (merged.methods as string[])).filter((m) => !exclude.includes(m));
  if ((merged.methods as string[]).length === 0) fail('methods', 'every method is excluded');
  if (merged.problems === 'all') merged.problems = bundledProblemNames();
  return merged as unknown as SweepConfig;
}

export function loadSweepConfig(file: string, quick = false): SweepConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: cannot read the sweep config`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  return validateSweepConfig(raw, file, quick);
}
