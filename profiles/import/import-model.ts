/**
 * `placer import`: a model file → layers.csv (placer's contract columns plus
 * flops, bytes_touched, op_kinds, kernels, ops) and import-report.json/.md.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import { UserError } from '../../env/errors.js';
import { coarsen, toChain, type ChainRow, type ImportedGraph, type OpKind } from './graph.js';
import { importOnnx, type ImportOptions } from './onnx.js';
import { importTfjsLayers } from './tfjs-layers.js';

export const GROUPING_RULE =
  'a layer is one operator with parameters plus the parameter-free operators after it in topological order, up to the next operator with parameters; parameter-free operators before the first one join the first layer';
export const ACTIVATION_RULE =
  'activation_bytes = bytes of every tensor produced at or before the row and read after it (all live tensors at a cut after the row), and at least the bytes of its last operator outputs';

export interface ImportResult {
  graph: ImportedGraph;
  rows: ChainRow[];
  report: ImportReport;
}

export interface ImportReport {
  model: string;
  format: ImportedGraph['format'];
  microBatchSize: number;
  dims: Record<string, number>;
  operators: number;
  layers: number;
  parameters: number;
  paramBytes: number;
  paramsByDtype: Record<string, number>;
  forwardFlops: number;
  largestActivationBytes: number;
  groupingRule: string;
  activationRule: string;
  maxLayers: number | null;
  unsupported: ImportedGraph['unsupported'];
  notes: string[];
}

function readModel(file: string): Buffer {
  try {
    if (statSync(file).isDirectory()) {
      const inside = join(file, 'model.json');
      return readFileSync(inside);
    }
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: file not found`);
    throw new UserError(`${file}: cannot read (${code ?? String(error)})`);
  }
}

/** ONNX by default; tfjs when the name ends in .json or the bytes start a JSON object. */
export function detectFormat(file: string, bytes: Uint8Array): 'onnx' | 'tfjs-layers' {
  if (extname(file).toLowerCase() === '.json') return 'tfjs-layers';
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09 || bytes[i] === 0xef || bytes[i] === 0xbb || bytes[i] === 0xbf)) i++;
  return bytes[i] === 0x7b ? 'tfjs-layers' : 'onnx';
}

export function importModel(file: string, options: ImportOptions & { maxLayers?: number }): ImportResult {
  const bytes = readModel(file);
  if (bytes.length === 0) throw new UserError(`${file}: file is empty`);
  const format = detectFormat(file, bytes);
  const graph = format === 'onnx' ? importOnnx(file, bytes, options) : importTfjsLayers(file, bytes.toString('utf8'), options);
  let rows = toChain(graph);
  if (options.maxLayers !== undefined && rows.length > options.maxLayers) rows = coarsen(rows, options.maxLayers);
  const report: ImportReport = {
    model: basename(file),
    format,
    microBatchSize: options.microBatchSize,
    dims: Object.fromEntries(options.dims),
    operators: graph.nodes.length,
    layers: rows.length,
    parameters: graph.nodes.reduce((s, n) => s + n.params, 0),
    paramBytes: rows.reduce((s, r) => s + r.paramBytes, 0),
    paramsByDtype: graph.paramsByDtype,
    forwardFlops: rows.reduce((s, r) => s + r.flops, 0),
    largestActivationBytes: rows.reduce((m, r) => Math.max(m, r.activationBytes), 0),
    groupingRule: GROUPING_RULE,
    activationRule: ACTIVATION_RULE,
    maxLayers: options.maxLayers ?? null,
    unsupported: graph.unsupported,
    notes: graph.notes,
  };
  return { graph, rows, report };
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Distinct op kinds of a row in a fixed order; the estimator reads them. */
export function kindsOf(kinds: OpKind[]): OpKind[] {
  const order: OpKind[] = ['conv', 'gemm', 'embedding', 'memory', 'shape'];
  return order.filter((k) => kinds.includes(k));
}

/** Operators that run a kernel (views run none): the launch overheads of a row. */
export function kernelsOf(row: ChainRow): number {
  return row.kinds.filter((k) => k !== 'shape').length;
}

/** `Conv+BatchNormalization+Relu`; long runs of one type collapse to `Add×3`. */
function opsLabel(ops: string[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ops.length; ) {
    let j = i;
    while (j < ops.length && ops[j] === ops[i]) j++;
    parts.push(j - i > 1 ? `${ops[i]}×${j - i}` : ops[i]);
    i = j;
  }
  return parts.join('+');
}

export function layersCsv(rows: ChainRow[]): string {
  const lines = ['name,param_bytes,activation_bytes,flops,bytes_touched,op_kinds,kernels,ops'];
  for (const r of rows) {
    lines.push(
      [csvCell(r.name), String(r.paramBytes), String(r.activationBytes), String(r.flops), String(r.bytesTouched), kindsOf(r.kinds).join(';'), String(kernelsOf(r)), csvCell(opsLabel(r.ops))].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

export function reportMarkdown(report: ImportReport): string {
  const lines = [
    `# Import of ${report.model}`,
    '',
    `- format: ${report.format}; micro-batch size ${report.microBatchSize}${Object.keys(report.dims).length ? `; dims ${Object.entries(report.dims).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}`,
    `- ${report.operators} operators → ${report.layers} layers${report.maxLayers !== null ? ` (merged to at most ${report.maxLayers})` : ''}`,
    `- parameters: ${report.parameters} (${report.paramBytes} bytes; by dtype: ${Object.entries(report.paramsByDtype).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'})`,
    `- forward FLOPs per micro-batch: ${report.forwardFlops.toExponential(3)}; largest activation_bytes: ${report.largestActivationBytes}`,
    `- grouping rule: ${report.groupingRule}`,
    `- activation rule: ${report.activationRule}`,
    '',
    `## Unsupported operators (${report.unsupported.length})`,
    '',
  ];
  if (report.unsupported.length === 0) lines.push('None: every operator has a cost rule.');
  else {
    lines.push('| name | op type | rule applied |', '| --- | --- | --- |');
    for (const u of report.unsupported) lines.push(`| ${u.name.replace(/\|/g, '\\|')} | ${u.opType} | ${u.rule} |`);
  }
  if (report.notes.length) lines.push('', '## Notes', '', ...report.notes.map((n) => `- ${n}`));
  return lines.join('\n') + '\n';
}

/** Writes DIR/layers.csv, DIR/import-report.json and DIR/import-report.md (each atomically). */
export function writeImport(out: string, result: ImportResult): { layers: string; report: string } {
  const layers = join(out, 'layers.csv');
  writeFileAtomic(layers, layersCsv(result.rows));
  writeJsonAtomic(join(out, 'import-report.json'), result.report);
  writeFileAtomic(join(out, 'import-report.md'), reportMarkdown(result.report));
  return { layers, report: join(out, 'import-report.md') };
}
