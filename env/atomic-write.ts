import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { UserError } from './errors.js';

let counter = 0;

/** A name beside `path` no other process, thread or call uses: pid, thread id, a counter and random bits. */
export function temporaryName(path: string): string {
  return `${path}.${process.pid}-${threadId}-${counter++}-${randomBytes(4).toString('hex')}.tmp`;
}

/** Why a folder cannot be made or written, in words (the errno codes users meet). */
export function folderProblem(dir: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code;
  const path = (error as NodeJS.ErrnoException).path ?? dir;
  const why: Record<string, string> = {
    EEXIST: 'exists and is a file, not a folder',
    ENOTDIR: 'a part of the path is a file, not a folder',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on the device',
    ENOENT: 'cannot be created here',
  };
  return new UserError(`${dir}: cannot write there (${path}: ${why[code ?? ''] ?? code ?? (error as Error).message})`);
}

/**
 * mkdir -p, one level at a time. Node's own recursive mkdir never returns
 * under /proc (it retries ENOENT forever), so walk up to the first folder
 * that exists and create each level below it.
 */
export function makeFolder(dir: string): void {
  const missing: string[] = [];
  let current = resolve(dir);
  for (;;) {
    let isDir: boolean | undefined;
    try {
      isDir = statSync(current).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') throw folderProblem(dir, error);
    }
    if (isDir === true) break;
    if (isDir === false) throw folderProblem(dir, Object.assign(new Error(), { code: current === resolve(dir) ? 'EEXIST' : 'ENOTDIR', path: current }));
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw folderProblem(dir, error);
    }
  }
}

/**
 * Makes `dir` and checks a file can be written in it, before any work: an
 * output folder that is a file or unwritable is one line naming it, not a
 * failure after minutes of training. `flag` names the option that gave it.
 */
export function prepareOutputFolder(dir: string, flag = '--out'): void {
  try {
    makeFolder(dir);
    const probe = temporaryName(resolve(dir, '.placer-write-test'));
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (error) {
    const problem = error instanceof UserError ? error : folderProblem(dir, error);
    throw new UserError(`${flag} ${problem.message}`);
  }
}

/** Writes a file so a reader never sees half of it: a temporary file beside it, then a rename. */
export function writeFileAtomic(path: string, contents: string | Uint8Array): void {
  makeFolder(dirname(path));
  const temporary = temporaryName(path);
  try {
    writeFileSync(temporary, contents);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code && code !== 'ENOENT') throw folderProblem(path, error);
    throw error;
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Replaces the folder `target` by one `build` fills, so a reader sees the old
 * set or the new one, never a mix: build in a temporary folder, then
 * target -> target.old, new -> target, and the old one removed. A kill
 * between the two renames leaves target.old whole (readers fall back to it).
 */
export async function replaceFolder(target: string, build: (dir: string) => Promise<void> | void): Promise<void> {
  const building = temporaryName(target);
  makeFolder(building);
  try {
    await build(building);
    const old = `${target}.old`;
    rmSync(old, { recursive: true, force: true });
    if (existsSync(target)) renameSync(target, old);
    renameSync(building, target);
    rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
}
