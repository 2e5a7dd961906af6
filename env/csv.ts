import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { inputError, UserError } from './errors.js';

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
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: file not found`);
    if (code === 'EISDIR') throw new UserError(`${file}: is a directory, expected a CSV file`);
    throw new UserError(`${file}: cannot read (${code ?? String(error)})`);
  }
  return parseCsv(file, text, requiredColumns);
}

export function parseCsv(file: string, text: string, requiredColumns: string[]): CsvTable {
  if (text.replace(/^\uFEFF/, '').trim() === '') throw inputError(file, undefined, undefined, 'file is empty');
  let records: string[][];
  try {
    records = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_quotes: false });
  } catch (error) {
    const lines = (error as { lines?: number }).lines;
    const message = (error as Error).message.replace(/^Invalid Record Length: /, '').replace(/\s+/g, ' ');
    throw inputError(file, lines, undefined, `malformed CSV: ${message}`);
  }
  const header = records[0].map((name) => name.toLowerCase());
  for (const column of requiredColumns) {
    if (!header.includes(column)) {
      throw inputError(file, 1, column, `missing column "${column}" (the header has: ${header.join(', ')})`);
    }
  }
  const index = new Map(header.map((name, i) => [name, i] as const));
  // csv-parse skips empty lines, so recover each record's line number from the text.
  const lineOf = recordLines(text, records.length);
  const rows: CsvRow[] = records.slice(1).map((cells, i) => ({
    row: lineOf[i + 1],
    get: (column: string) => cells[index.get(column) ?? -1] ?? '',
  }));
  if (rows.length === 0) throw inputError(file, undefined, undefined, 'no data rows after the header');
  return { file, rows, columns: header };
}

/** Line number (1-based) of each non-empty record, assuming no quoted newlines (rare in these files). */
function recordLines(text: string, count: number): number[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  const result: number[] = [];
  for (let i = 0; i < lines.length && result.length < count; i++) {
    if (lines[i].trim() !== '') result.push(i + 1);
  }
  while (result.length < count) result.push(result.length + 1);
  return result;
}

export type NumberRule = 'nonNegative' | 'positive' | 'count' | 'positiveCount';

const RULE_TEXT: Record<NumberRule, string> = {
  nonNegative: 'a number >= 0',
  positive: 'a number > 0',
  count: 'a whole number >= 0',
  positiveCount: 'a whole number >= 1',
};

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Reads one numeric cell, or throws the one-line error naming file, row and column. */
export function numberCell(table: CsvTable, row: CsvRow, column: string, rule: NumberRule): number {
  const raw = row.get(column);
  // Plain decimal or scientific notation only: Number() would also take "0x10" or "Infinity".
  const value = DECIMAL.test(raw) ? Number(raw) : NaN;
  const ok =
    Number.isFinite(value) &&
    (rule === 'positive' ? value > 0 : value >= 0) &&
    (rule === 'count' || rule === 'positiveCount' ? Number.isInteger(value) : true) &&
    (rule === 'positiveCount' ? value >= 1 : true);
  if (!ok) throw inputError(table.file, row.row, column, `expected ${RULE_TEXT[rule]}, got "${raw}"`);
  return value;
}

export function textCell(table: CsvTable, row: CsvRow, column: string): string {
  const value = row.get(column);
  if (value === '') throw inputError(table.file, row.row, column, 'expected a name, got an empty cell');
  return value;
}
