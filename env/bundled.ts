/** The problems shipped in profiles/problems/<name>/ (layers.csv, devices.csv, profile.csv, problem.json). */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UserError } from './errors.js';
import type { ProblemFiles } from './load.js';
import { readJsonObject } from './json-file.js';
import { LIMITS, type Objective } from './problem.js';

/** The problem `npm start` and commands without input files use. */
export const DEFAULT_PROBLEM = 'bert-base';

// Works from both env/ (tsx) and dist/env/ (compiled): walk up to the folder holding package.json.
function packageRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = join(dir, '..');
  }
  throw new Error('cannot find the package root from ' + import.meta.url);
}

export const PACKAGE_ROOT = packageRoot();
export const PROBLEMS_DIR = join(PACKAGE_ROOT, 'profiles', 'problems');

export interface BundledDefaults {
  description?: string;
  microBatches?: number;
  budget?: number;
  deadline?: number;
  objective?: Objective;
}

export function bundledProblemNames(): string[] {
  if (!existsSync(PROBLEMS_DIR)) return [];
  return readdirSync(PROBLEMS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(PROBLEMS_DIR, entry.name, 'layers.csv')))
    .map((entry) => entry.name)
    .sort();
}

/** A bundled problem's name: a folder name under profiles/problems, never a path. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function bundledProblem(name: string): { files: ProblemFiles; defaults: BundledDefaults } {
  if (!NAME.test(name) || name.includes('..')) {
    throw new UserError(`--problem: "${name}" is not a bundled problem name (bundled: ${bundledProblemNames().join(', ') || 'none'}); for your own files give --layers, --devices and --profile`);
  }
  const dir = join(PROBLEMS_DIR, name);
  if (!existsSync(join(dir, 'layers.csv'))) {
    throw new UserError(`--problem: no bundled problem "${name}" (bundled: ${bundledProblemNames().join(', ') || 'none'})`);
  }
  const defaultsFile = join(dir, 'problem.json');
  const defaults = existsSync(defaultsFile) ? parseProblemDefaults(defaultsFile, readJsonObject(defaultsFile, 'a problem.json object')) : {};
  return {
    files: { layers: join(dir, 'layers.csv'), devices: join(dir, 'devices.csv'), profile: join(dir, 'profile.csv') },
    defaults,
  };
}

/** Checks the keys of a problem.json; a bad value is one line naming the file and the key. */
export function parseProblemDefaults(file: string, json: Record<string, unknown>): BundledDefaults {
  const bad = (key: string, expected: string) => new UserError(`${file}: "${key}": expected ${expected}, got ${JSON.stringify(json[key])}`);
  const defaults: BundledDefaults = {};
  if (json.description !== undefined) {
    if (typeof json.description !== 'string') throw bad('description', 'a string');
    defaults.description = json.description;
  }
  if (json.microBatches !== undefined) {
    const m = json.microBatches;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 1 || m > LIMITS.microBatches) throw bad('microBatches', `a whole number from 1 to ${LIMITS.microBatches}`);
    defaults.microBatches = m;
  }
  for (const key of ['budget', 'deadline'] as const) {
    const value = json[key];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > LIMITS.constraint) throw bad(key, `a number > 0 (and <= ${LIMITS.constraint})`);
    defaults[key] = value;
  }
  if (json.objective !== undefined) {
    if (json.objective !== 'time' && json.objective !== 'cost') throw bad('objective', '"time" or "cost"');
    defaults.objective = json.objective;
  }
  return defaults;
}
