import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { inputError } from './errors.js';
import { unreadable } from './json-file.js';

/** One data row of a CSV file, with the 1-based line it came from (the header is row 1). */
export interface CsvRow {
  row: number;
  get(column: string): string;
}

export interface CsvTable {
  file: string;
  rows: CsvRow[];
  columns: string[];
}

/** Reads a CSV file with a header row: CRLF, a BOM, spaces around cells and extra columns are fine. */
export function readCsv(file: string, requiredColumns: string[]): CsvTable {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, error, 'a CSV file');
  }
  return parseCsv(file, text, requiredColumns);
}

export function parseCsv(file: string, text: string, requiredColumns: string[]): CsvTable {
  if (text.replace(/^\uFEFF/, '').trim() === '') throw inputError(file, undefined, undefined, 'file is empty');
  let parsed: Array<{ record: string[]; info: { lines: number } }>;
  try {
    parsed = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_quotes: false, info: true }) as unknown as typeof parsed;
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    const message = (error as Error).message.replace(/^Invalid Record Length: /, '').replace(/\s+/g, ' ');
    throw inputError(file, lines, undefined, `malformed CSV: ${message}`);
  }
  const header = parsed[0].record.map((name) => name.toLowerCase());
  // A repeated column would be read from one copy silently: refuse it.
  const firstColumn = new Map<string, number>();
  header.forEach((name, i) => {
    const earlier = firstColumn.get(name);
    if (earlier !== undefined) throw inputError(file, 1, name, `duplicate column "${name}" (columns ${earlier + 1} and ${i + 1} of the header)`);
    firstColumn.set(name, i);
  });
  for (const column of requiredColumns) {
    if (!header.includes(column)) {
      throw inputError(file, 1, column, `missing column "${column}" (the header has: ${header.join(', ')})`);
    }
  }
  const rows: CsvRow[] = parsed.slice(1).map(({ record: cells, info }) => ({
    // csv-parse gives the line a record ends on; a quoted cell may span lines, so step back over them.
    row: info.lines - cells.reduce((n, cell) => n + (cell.match(/\r\n|\n|\r/g)?.length ?? 0), 0),
    get: (column: string) => cells[firstColumn.get(column) ?? -1] ?? '',
  }));
  if (rows.length === 0) throw inputError(file, undefined, undefined, 'no data rows after the header');
  return { file, rows, columns: header };
}

export type NumberRule = 'nonNegative' | 'positive' | 'count' | 'positiveCount';

const RULE_TEXT: Record<NumberRule, string> = {
  nonNegative: 'a number >= 0',
  positive: 'a number > 0',
  count: 'a whole number >= 0',
  positiveCount: 'a whole number >= 1',
};

/** Plain decimal or scientific notation only: Number() would also take "0x10", "0b1" or "Infinity". */
export const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The range a value may take beyond its rule, with why (LIMITS in env/problem.ts). */
export interface NumberBounds {
  min?: number;
  max?: number;
}

/** A bound as people write it: 1e15 rather than 1000000000000000. */
const figure = (x: number) => (Math.abs(x) >= 1e7 ? x.toExponential().replace('e+', 'e') : String(x));

/** Whether `value` keeps `rule` and `bounds`; otherwise the words for what was expected. */
export function checkNumber(value: number, rule: NumberRule, bounds: NumberBounds = {}): string | undefined {
  const ok =
    Number.isFinite(value) &&
    (rule === 'positive' ? value > 0 : value >= 0) &&
    (rule === 'count' || rule === 'positiveCount' ? Number.isInteger(value) : true) &&
    (rule === 'positiveCount' ? value >= 1 : true);
  if (!ok) return RULE_TEXT[rule];
  if (bounds.max !== undefined && value > bounds.max) return `at most ${figure(bounds.max)} (larger values overflow the arithmetic)`;
  if (bounds.min !== undefined && value < bounds.min) return `at least ${figure(bounds.min)}`;
  return undefined;
}

/** Reads one numeric cell, or throws the one-line error naming file, row and column. */
export function numberCell(table: CsvTable, row: CsvRow, column: string, rule: NumberRule, bounds: NumberBounds = {}): number {
  const raw = row.get(column);
  const value = DECIMAL.test(raw) ? Number(raw) : NaN;
  const expected = checkNumber(value, rule, bounds);
  if (expected) throw inputError(table.file, row.row, column, `expected ${expected}, got "${raw}"`);
  return value;
}

export function textCell(table: CsvTable, row: CsvRow, column: string): string {
  const value = row.get(column);
  if (value === '') throw inputError(table.file, row.row, column, 'expected a name, got an empty cell');
  return value;
}
