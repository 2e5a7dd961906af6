/**
 * Estimated profiles: forward and backward milliseconds of every imported
 * layer on every catalogue type, from a roofline (see the README, "Plan your
 * own model"):
 *
 *   pass_ms  = max(FLOPs / (peak × efficiency), bytes / (memory_bandwidth × memory_efficiency)) × 1000
 *              + overhead_ms × kernels
 *   forward  = pass(flops, bytes_touched), kernels = the row's kernels column (at least 1)
 *   backward = pass(2 × flops, 2 × bytes_touched) with 2 × the kernels: the input and the weight
 *              gradient each cost about one forward (the usual 2× rule)
 *
 * `efficiency` is conv_efficiency for a row with a conv, gemm_efficiency for a
 * row with a GEMM, else compute_efficiency (the first two default to the third).
 * `peak` is peak_flops_fp32 (the rate the framework runs fp32 training at: TF32
 * tensor cores where TensorFlow uses them) or peak_flops_bf16 for
 * `--precision bf16`. A type whose cannot_run lists one of a row's op kinds
 * (e.g. `embedding` on an accelerator without a gather path) has no profile row
 * for it, which the simulator reads as "cannot run".
 */
import { numberCell, readCsv, textCell, type CsvRow, type CsvTable } from '../../env/csv.js';
import { inputError, UserError } from '../../env/errors.js';
import { loadDevices } from '../../env/load.js';
import type { DeviceType } from '../../env/problem.js';
import { CATALOGUE_HARDWARE } from '../hardware.js';

export type Precision = 'fp32' | 'bf16';

export interface Roofline {
  peakFlopsFp32: number;
  peakFlopsBf16: number;
  memoryBandwidth: number;
  computeEfficiency: number;
  /** Compute efficiency of rows with a conv / a GEMM (default: computeEfficiency). */
  convEfficiency: number;
  gemmEfficiency: number;
  memoryEfficiency: number;
  overheadMs: number;
  cannotRun: Set<string>;
  /** 'catalogue' when every figure came from the file, else which ones were the bundled defaults. */
  from: string;
}

export interface Catalogue {
  file: string;
  types: DeviceType[];
  rooflines: Roofline[];
}

export interface LayerWork {
  name: string;
  flops: number;
  bytesTouched: number;
  kinds: string[];
  kernels: number;
}

const KINDS = new Set(['conv', 'gemm', 'embedding', 'memory', 'shape']);

function optionalNumber(table: CsvTable, row: CsvRow, column: string, kind: 'positive' | 'nonNegative'): number | undefined {
  if (!table.columns.includes(column) || row.get(column) === '') return undefined;
  return numberCell(table, row, column, kind);
}

/** devices.csv plus the optional roofline columns; a bundled type's missing figures come from profiles/hardware.ts. */
export function readCatalogue(file: string): Catalogue {
  const types = loadDevices(file);
  const table = readCsv(file, ['type']);
  const rooflines = table.rows.map((row): Roofline => {
    const name = textCell(table, row, 'type');
    const hw = CATALOGUE_HARDWARE.find((h) => h.type === name);
    const defaults: string[] = [];
    const pick = (column: string, kind: 'positive' | 'nonNegative', fallback: number | undefined): number => {
      const given = optionalNumber(table, row, column, kind);
      if (given !== undefined) return given;
      if (fallback === undefined) {
        throw inputError(file, row.row, column, `type "${name}" needs a ${column} value for the roofline (it is not a bundled type, so there is no default)`);
      }
      defaults.push(column);
      return fallback;
    };
    const fp32 = pick('peak_flops_fp32', 'positive', hw?.peakFlops);
    const cannotText = table.columns.includes('cannot_run') ? row.get('cannot_run') : undefined;
    const cannotRun = new Set((cannotText ?? hw?.cannotRun.join(';') ?? '').split(/[;\s]+/).filter(Boolean));
    for (const kind of cannotRun) {
      if (!KINDS.has(kind)) throw inputError(file, row.row, 'cannot_run', `unknown op kind "${kind}" (known: ${[...KINDS].join(', ')})`);
    }
    const roofline: Roofline = {
      peakFlopsFp32: fp32,
      peakFlopsBf16: pick('peak_flops_bf16', 'positive', hw?.peakFlopsBf16 ?? fp32),
      memoryBandwidth: pick('memory_bandwidth_bytes_per_s', 'positive', hw?.memoryBandwidth),
      computeEfficiency: pick('compute_efficiency', 'positive', hw?.computeEfficiency),
      convEfficiency: 0,
      gemmEfficiency: 0,
      memoryEfficiency: pick('memory_efficiency', 'positive', hw?.memoryEfficiency),
      overheadMs: pick('overhead_ms', 'nonNegative', hw?.overheadMs),
      cannotRun,
      from: '',
    };
    if (roofline.computeEfficiency > 1) throw inputError(file, row.row, 'compute_efficiency', `expected a fraction in (0, 1], got ${roofline.computeEfficiency}`);
    // Optional per-op-kind compute efficiencies; absent means the type's compute_efficiency (not a bundled default).
    roofline.convEfficiency = optionalNumber(table, row, 'conv_efficiency', 'positive') ?? roofline.computeEfficiency;
    roofline.gemmEfficiency = optionalNumber(table, row, 'gemm_efficiency', 'positive') ?? roofline.computeEfficiency;
    for (const [column, value] of [['conv_efficiency', roofline.convEfficiency], ['gemm_efficiency', roofline.gemmEfficiency]] as const) {
      if (value > 1) throw inputError(file, row.row, column, `expected a fraction in (0, 1], got ${value}`);
    }
    if (roofline.memoryEfficiency > 1) throw inputError(file, row.row, 'memory_efficiency', `expected a fraction in (0, 1], got ${roofline.memoryEfficiency}`);
    roofline.from = defaults.length === 0 ? 'catalogue' : `bundled defaults for ${defaults.join(', ')}`;
    return roofline;
  });
  return { file, types, rooflines };
}

/** The work columns the importer writes into layers.csv. */
export function readLayerWork(file: string): LayerWork[] {
  const table = readCsv(file, ['name', 'flops', 'bytes_touched']);
  return table.rows.map((row) => {
    const kinds = table.columns.includes('op_kinds') ? row.get('op_kinds').split(/[;\s]+/).filter(Boolean) : [];
    for (const kind of kinds) if (!KINDS.has(kind)) throw inputError(file, row.row, 'op_kinds', `unknown op kind "${kind}" (known: ${[...KINDS].join(', ')})`);
    return {
      name: textCell(table, row, 'name'),
      flops: numberCell(table, row, 'flops', 'nonNegative'),
      bytesTouched: numberCell(table, row, 'bytes_touched', 'nonNegative'),
      kinds,
      kernels: optionalNumber(table, row, 'kernels', 'nonNegative') ?? 1,
    };
  });
}

/** The compute efficiency of a row: its conv's, else its GEMM's, else the type's general one. */
export function efficiencyFor(r: Roofline, kinds: readonly string[]): number {
  if (kinds.includes('conv')) return r.convEfficiency;
  if (kinds.includes('gemm')) return r.gemmEfficiency;
  return r.computeEfficiency;
}

export function passMs(r: Roofline, precision: Precision, flops: number, bytes: number, kernels: number, kinds: readonly string[] = []): number {
  const peak = precision === 'bf16' ? r.peakFlopsBf16 : r.peakFlopsFp32;
  const computeS = flops / (peak * efficiencyFor(r, kinds));
  const memoryS = bytes / (r.memoryBandwidth * r.memoryEfficiency);
  return Math.max(computeS, memoryS) * 1000 + r.overheadMs * Math.max(1, kernels);
}

export interface EstimatedProfile {
  forwardMs: Float64Array;
  backwardMs: Float64Array;
  /** (layer, type) pairs left out, and why. */
  excluded: { layer: string; type: string; reason: string }[];
}

/** forwardMs[layer * K + type]; NaN where the type cannot run the layer. */
export function estimateProfile(layers: LayerWork[], catalogue: Catalogue, precision: Precision): EstimatedProfile {
  const K = catalogue.types.length;
  const forwardMs = new Float64Array(layers.length * K).fill(NaN);
  const backwardMs = new Float64Array(layers.length * K).fill(NaN);
  const excluded: EstimatedProfile['excluded'] = [];
  layers.forEach((layer, l) => {
    let runnable = 0;
    catalogue.rooflines.forEach((r, k) => {
      const refused = layer.kinds.find((kind) => r.cannotRun.has(kind));
      if (refused) {
        excluded.push({ layer: layer.name, type: catalogue.types[k].name, reason: `cannot_run lists "${refused}"` });
        return;
      }
      forwardMs[l * K + k] = passMs(r, precision, layer.flops, layer.bytesTouched, layer.kernels, layer.kinds);
      backwardMs[l * K + k] = passMs(r, precision, 2 * layer.flops, 2 * layer.bytesTouched, 2 * layer.kernels, layer.kinds);
      runnable++;
    });
    if (runnable === 0) throw new UserError(`layer "${layer.name}" (op kinds ${layer.kinds.join(';')}) can run on no type of ${catalogue.file}: add a type whose cannot_run does not list them`);
  });
  return { forwardMs, backwardMs, excluded };
}

export function profileCsv(layers: { name: string }[], types: DeviceType[], profile: EstimatedProfile): string {
  const K = types.length;
  const cell = (t: string) => (/[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
  const lines = ['layer,type,forward_ms,backward_ms'];
  layers.forEach((layer, l) => {
    types.forEach((type, k) => {
      const f = profile.forwardMs[l * K + k];
      if (Number.isNaN(f)) return;
      lines.push([cell(layer.name), cell(type.name), String(f), String(profile.backwardMs[l * K + k])].join(','));
    });
  });
  return lines.join('\n') + '\n';
}

/** Devices as devices.csv (the contract columns only), for a problem folder. */
export function devicesCsv(types: DeviceType[]): string {
  const cell = (t: string) => (/[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t);
  const lines = ['type,price_per_hour,count,memory_bytes,bandwidth_bytes_per_s,backend'];
  for (const t of types) lines.push([cell(t.name), String(t.pricePerHour), String(t.count), String(t.memoryBytes), String(t.bandwidthBytesPerS), cell(t.backend ?? '')].join(','));
  return lines.join('\n') + '\n';
}
