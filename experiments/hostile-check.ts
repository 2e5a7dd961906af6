/**
 * How a run of the CLI on hostile input ended, as the hardening issue judges
 * it: a result, or one clean `placer:` line with a non-zero exit; never a
 * stack trace, a hang, or a "feasible" result with a missing or negative
 * figure. Shared by the fuzz test (bin/fuzz.test.ts) and the hostile corpus
 * (experiments/hostile.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Outcome = 'clean' | 'stack trace' | 'hang' | 'wrong result' | 'unclear';

export interface RunRecord {
  /** null when the run was killed for running too long. */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the CLI at `bin` with `args` in a child process; killed (and marked timed out) after `timeoutS`. */
export function runCli(bin: string, args: string[], timeoutS: number, env: Record<string, string> = {}): Promise<RunRecord> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutS * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

export interface Expectation {
  /** reject: must exit non-zero; ok: must exit 0; either: both fine. */
  expect: 'reject' | 'ok' | 'either';
  /** Text the error line must contain (file name, row, key). */
  mentions?: string[];
  /** Folders whose placement.json is checked for bad figures. */
  outDirs?: string[];
  /** A case-specific wrong result; returns why, or undefined. */
  wrong?: (run: RunRecord) => string | undefined;
}

const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\)|\(<anonymous>\))$/m;

/** Why a "feasible" object is wrong: a figure that is missing, not a number, or negative. */
export function badFigures(json: unknown): string | undefined {
  const objects: Record<string, unknown>[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') objects.push(value as Record<string, unknown>);
  };
  visit(json);
  for (const object of objects) {
    if (object.feasible !== true) continue;
    for (const key of ['stepMs', 'pricePerHour', 'costPerStep']) {
      if (!(key in object)) continue;
      const value = object[key];
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return `feasible with ${key} ${JSON.stringify(value)}`;
    }
    for (const stage of Array.isArray(object.stages) ? (object.stages as Record<string, unknown>[]) : []) {
      const replicas = stage.replicas;
      if (typeof replicas === 'number' && (!Number.isInteger(replicas) || replicas < 1)) return `feasible with a stage of ${replicas} replicas`;
    }
  }
  return undefined;
}

function jsonObjectsIn(text: string): unknown[] {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return [];
  try {
    return [JSON.parse(trimmed)];
  } catch {
    return [];
  }
}

/** One of the five outcomes, and a short reason for anything but "clean". */
export function classify(run: RunRecord, expectation: Expectation): { outcome: Outcome; why: string } {
  if (run.timedOut) return { outcome: 'hang', why: 'ran past its time limit' };
  if (STACK.test(run.stderr) || STACK.test(run.stdout)) return { outcome: 'stack trace', why: run.stderr.split('\n').slice(0, 2).join(' | ') };
  const outputs = [...jsonObjectsIn(run.stdout)];
  for (const dir of expectation.outDirs ?? []) {
    const file = join(dir, 'placement.json');
    if (!existsSync(file)) continue;
    try {
      outputs.push(JSON.parse(readFileSync(file, 'utf8')));
    } catch {
      return { outcome: 'wrong result', why: `${file} is not valid JSON (torn?)` };
    }
  }
  for (const output of outputs) {
    const bad = badFigures(output);
    if (bad) return { outcome: 'wrong result', why: bad };
  }
  const specific = expectation.wrong?.(run);
  if (specific) return { outcome: 'wrong result', why: specific };
  if (run.code === 0) {
    if (expectation.expect === 'reject') return { outcome: 'wrong result', why: 'accepted (exit 0) an input it should refuse' };
    return { outcome: 'clean', why: '' };
  }
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  const last = lines[lines.length - 1] ?? '';
  if (expectation.expect === 'ok') return { outcome: 'unclear', why: `refused a valid input: ${last}` };
  // One error line, after at most one informational `placer:` line (the backend in use).
  if (lines.length === 0 || lines.length > 2 || !lines.every((line) => line.startsWith('placer: '))) {
    return { outcome: 'unclear', why: `stderr is not one placer: line: ${lines.slice(0, 3).join(' | ')}` };
  }
  for (const text of expectation.mentions ?? []) {
    if (!last.includes(text)) return { outcome: 'unclear', why: `error does not mention "${text}": ${last}` };
  }
  return { outcome: 'clean', why: '' };
}
