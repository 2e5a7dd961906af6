/**
 * Merging benchmark parts: a re-run supersedes the rows it repeats.
 */

/** Rows in order, each key kept once: its last occurrence, at the place of its first (so tables keep their order). */
export function newestRows<T>(rows: T[], key: (row: T) => string): T[] {
  const last = new Map<string, T>();
  for (const row of rows) last.set(key(row), row);
  const seen = new Set<string>();
  const out: T[] = [];
  for (const row of rows) {
    const k = key(row);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(last.get(k)!);
  }
  return out;
}
