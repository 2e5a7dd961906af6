/** One progress line on stderr, redrawn in place on a terminal, quiet otherwise (CI logs stay clean). */
import type { SearchProgress } from '../agent/searcher.js';

export function progressLine(label: string, stream: NodeJS.WriteStream = process.stderr) {
  let lastDraw = 0;
  const enabled = Boolean(stream.isTTY);
  return {
    update(progress: SearchProgress): void {
      const now = performance.now();
      if (!enabled || now - lastDraw < 100) return;
      lastDraw = now;
      const fraction = progress.fraction !== undefined ? ` ${(progress.fraction * 100).toFixed(0).padStart(3)}%` : '';
      const best = Number.isFinite(progress.bestObjective) ? progress.bestObjective.toPrecision(6) : 'none yet';
      stream.write(`\r${label}${fraction}  ${progress.evaluations} evaluations  ${progress.seconds.toFixed(1)} s  best ${best}\x1b[K`);
    },
    done(): void {
      if (enabled && lastDraw > 0) stream.write('\r\x1b[K');
    },
  };
}
