/**
 * A progress bar with ETA on stderr. On a terminal it redraws one line; in a
 * log (CI, Slurm) it prints a line every `logEverySeconds` and at the end.
 */
export interface ProgressBar {
  tick(label: string): void;
  done(): void;
}

const clock = (seconds: number) => {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
};

export function progressBar(title: string, total: number, stream: NodeJS.WriteStream = process.stderr, logEverySeconds = 10): ProgressBar {
  const started = performance.now();
  const tty = stream.isTTY === true;
  let done = 0;
  let lastLog = 0;
  const line = (label: string) => {
    const elapsed = (performance.now() - started) / 1000;
    const fraction = total ? done / total : 1;
    const eta = done ? (elapsed / done) * (total - done) : Infinity;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    return `${title} ${bar} ${done}/${total} ${(100 * fraction).toFixed(0).padStart(3)}% elapsed ${clock(elapsed)} ETA ${done === total ? '00:00' : clock(eta)}${label ? `  ${label}` : ''}`;
  };
  const draw = (label: string, force: boolean) => {
    if (tty) {
      const columns = stream.columns ?? 120;
      stream.write(`\r${line(label).slice(0, columns - 1).padEnd(columns - 1)}`);
    } else {
      const now = performance.now() / 1000;
      if (force || now - lastLog >= logEverySeconds) {
        stream.write(`${line(label)}\n`);
        lastLog = now;
      }
    }
  };
  draw('', true);
  return {
    tick(label: string) {
      done++;
      draw(label, done === total);
    },
    done() {
      if (tty) stream.write('\n');
    },
  };
}
