/**
 * One writer per output folder: DIR/.placer.lock holds the pid of the run
 * writing there. A second run on the same folder is refused; a lock left by
 * a run that died (kill -9, power loss) is taken over, with a message.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolder, folderProblem } from './atomic-write.js';
import { UserError } from './errors.js';

export const LOCK_FILE = '.placer.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A run killed with -9 whose parent has not reaped it yet is a zombie: it answers signal 0 but is gone.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc (macOS): trust the signal
  }
}

export interface FolderLock {
  release(): void;
}

/** Takes DIR's lock or throws a UserError naming the run that holds it; `log` hears about a stale lock taken over. */
export function lockFolder(dir: string, flag: string, log: (line: string) => void): FolderLock {
  makeFolder(dir);
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { release };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw folderProblem(dir, error);
    }
    let text = '';
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      continue; // released meanwhile: try again
    }
    const pid = Number(text);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new UserError(`${flag} ${dir} is in use by another placer run (pid ${pid}, ${file}); wait for it to finish or choose another ${flag}`);
    }
    log(`${file}: taking over the lock of a run that is gone (pid ${text || '?'})`);
    rmSync(file, { force: true });
  }
  throw new UserError(`${flag} ${dir}: could not take ${file} (another run keeps taking it)`);
}
