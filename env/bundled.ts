/** The problems shipped in profiles/problems/<name>/ (layers.csv, devices.csv, profile.csv, problem.json). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { UserError } from './errors.js';
import type { ProblemFiles } from './load.js';
import type { Objective } from './problem.js';

/** The problem `npm start` and commands without input files use. */
export const DEFAULT_PROBLEM = 'bert-base';

// Works from both env/ (tsx) and dist/env/ (compiled): walk up to the folder holding package.json.
function packageRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = join(dir, '..');
  }
  throw new Error('placer: cannot find the package root from ' + import.meta.url);
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

export function bundledProblem(name: string): { files: ProblemFiles; defaults: BundledDefaults } {
  const dir = join(PROBLEMS_DIR, name);
  if (!existsSync(join(dir, 'layers.csv'))) {
    throw new UserError(`--problem: no bundled problem "${name}" (bundled: ${bundledProblemNames().join(', ') || 'none'})`);
  }
  const defaultsFile = join(dir, 'problem.json');
  const defaults = existsSync(defaultsFile) ? (JSON.parse(readFileSync(defaultsFile, 'utf8')) as BundledDefaults) : {};
  return {
    files: { layers: join(dir, 'layers.csv'), devices: join(dir, 'devices.csv'), profile: join(dir, 'profile.csv') },
    defaults,
  };
}
