/**
 * The cloud catalogue file (profiles/catalogues/cloud.csv): devices.csv's
 * columns, then the optional roofline columns `placer estimate` reads
 * (documented in the README, "Plan your own model"), then the source.
 */
import { CATALOGUE_HARDWARE, deviceType, type Hardware } from './hardware.js';

export const ROOFLINE_COLUMNS = [
  'peak_flops_fp32',
  'peak_flops_bf16',
  'memory_bandwidth_bytes_per_s',
  'compute_efficiency',
  'memory_efficiency',
  'overhead_ms',
  'cannot_run',
] as const;

function cell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Op kinds of the importer a type cannot run: the bundled `embedding` kind is the importer's too. */
export function cannotRunCell(hw: Hardware): string {
  return hw.cannotRun.join(';');
}

export function catalogueCsv(hardware: readonly Hardware[] = CATALOGUE_HARDWARE): string {
  const header = ['type', 'price_per_hour', 'count', 'memory_bytes', 'bandwidth_bytes_per_s', 'backend', ...ROOFLINE_COLUMNS, 'source'];
  const rows = hardware.map((hw) => {
    const t = deviceType(hw);
    return [
      cell(t.name), String(t.pricePerHour), String(t.count), String(t.memoryBytes), String(t.bandwidthBytesPerS), cell(t.backend ?? ''),
      String(hw.peakFlops), String(hw.peakFlopsBf16), String(hw.memoryBandwidth), String(hw.computeEfficiency), String(hw.memoryEfficiency),
      String(hw.overheadMs), cell(cannotRunCell(hw)), cell(hw.source),
    ].join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}
