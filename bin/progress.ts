/**
 * The one progress renderer (searches, training, sweeps): a line on stderr
 * with a bar, elapsed time and ETA when the fraction done is known. On a
 * terminal it redraws in place (at most every 100 ms); in a log (CI, Slurm)
 * it prints a line every `logEverySeconds` and the last one at the end
 * (Infinity: quiet in logs).
 */
export interface ProgressOptions {
  /** Items to count with tick(); shown as done/total. */
  total?: number;
  stream?: NodeJS.WriteStream;
  logEverySeconds?: number;
  /** false: draws nothing (--no-progress). */
  enabled?: boolean;
}

export interface Progress {
  /** Redraws with this text; `fraction` (0..1) when known draws the bar and ETA. */
  update(text: string, fraction?: number): void;
  /** One more of `total` items done. */
  tick(text?: string): void;
  done(): void;
}

export const clock = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
};

export function progress(title: string, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const logEvery = options.logEverySeconds ?? 10;
  const enabled = options.enabled !== false && (tty || Number.isFinite(logEvery));
  const started = performance.now();
  let count = 0;
  let lastDraw = -Infinity;
  let pending = '';
  let drawn = false;

  const line = (text: string, fraction?: number) => {
    const elapsed = (performance.now() - started) / 1000;
    const parts = [title];
    if (fraction !== undefined) {
      const f = Math.min(1, Math.max(0, fraction));
      const width = 20;
      const filled = Math.round(f * width);
      parts.push(`${'█'.repeat(filled)}${'░'.repeat(width - filled)}`);
      if (options.total !== undefined) parts.push(`${count}/${options.total}`);
      parts.push(`${(100 * f).toFixed(0).padStart(3)}%`, `elapsed ${clock(elapsed)}`, `ETA ${f >= 1 ? '00:00' : f > 0 ? clock((elapsed / f) * (1 - f)) : '--:--'}`);
    } else {
      parts.push(`elapsed ${clock(elapsed)}`);
    }
    return `${parts.join(' ')}${text ? `  ${text}` : ''}`;
  };

  const draw = (text: string, fraction: number | undefined, force: boolean) => {
    if (!enabled) return;
    const now = performance.now();
    if (tty) {
      if (!force && now - lastDraw < 100) return;
      const columns = stream.columns ?? 120;
      stream.write(`\r${line(text, fraction).slice(0, columns - 1)}\x1b[K`);
    } else {
      pending = line(text, fraction);
      if (!force && now - lastDraw < logEvery * 1000) return;
      stream.write(`${pending}\n`);
      pending = '';
    }
    lastDraw = now;
    drawn = true;
  };

  return {
    update(text, fraction) {
      draw(text, fraction, false);
    },
    tick(text = '') {
      count++;
      const total = options.total;
      draw(text, total ? count / total : undefined, total !== undefined && count === total);
    },
    done() {
      if (!enabled) return;
      if (tty && drawn) stream.write('\n');
      else if (!tty && pending) stream.write(`${pending}\n`);
    },
  };
}
