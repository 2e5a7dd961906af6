/**
 * The WebAssembly side of `Simulator.scoreBatch`: the kernel of
 * assignment-kernel.wat, its memory laid out for one simulator's tables, and a
 * window of rows copied in, scored and read back per call. Scores are bit for
 * bit those of `Simulator.scoreAssignment` (see the .wat file); rows that the
 * fast path would recompute in layer order come back flagged.
 */
import { ASSIGNMENT_KERNEL_BASE64 } from './assignment-kernel.wasm.js';

/** The simulator's tables the kernel reads (Simulator's fields of the same names). */
export interface KernelTables {
  layerCount: number;
  typeCount: number;
  prefixForward: Float64Array;
  prefixBackward: Float64Array;
  prefixUnrunnable: Int32Array | null;
  prefixMemory: Float64Array;
  linkActivation: Float64Array;
  minBandwidth: Float64Array;
  price: Float64Array;
  memoryLow: Float64Array;
  memoryHigh: Float64Array;
  memory: Float64Array;
  count: Float64Array;
  microBatches: number;
  maxTermsError: number;
  prefixRounding: number;
  fastTolerance: number;
  costObjective: boolean;
  budget: number;
  deadline: number;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  configure(...args: number[]): void;
  scoreRows(rowCount: number, rows: number, objectives: number, violations: number, flags: number): void;
}

/** Bytes of rows copied in per call at most (a window that stays in cache). */
const WINDOW_BYTES = 256 * 1024;
const PAGE_BYTES = 65536;

let compiled: WebAssembly.Module | null = null;

/** The compiled module, once per process. */
function kernelModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(ASSIGNMENT_KERNEL_BASE64, 'base64'));
  return compiled;
}

export class AssignmentKernel {
  /** Rows scored per call at most. */
  readonly windowRows: number;
  /** The window: rows in, objectives, violations and recompute flags out (views of the kernel's memory). */
  readonly rows: Int32Array;
  readonly objectives: Float64Array;
  readonly violations: Float64Array;
  readonly recompute: Int32Array;
  private readonly exports: KernelExports;
  private readonly rowsAt: number;
  private readonly objectivesAt: number;
  private readonly violationsAt: number;
  private readonly flagsAt: number;

  constructor(tables: KernelTables) {
    const L = tables.layerCount;
    const K = tables.typeCount;
    this.windowRows = Math.max(16, Math.floor(WINDOW_BYTES / (4 * L)));
    const instance = new WebAssembly.Instance(kernelModule(), {});
    this.exports = instance.exports as unknown as KernelExports;
    // Layout: f64 tables, then i32 ones, then the window; offset 0 stays unused (0 means "no table").
    let at = 8;
    const place = (bytes: number) => {
      const start = at;
      at += Math.ceil(bytes / 8) * 8;
      return start;
    };
    const f64Tables: [Float64Array, number][] = [
      tables.prefixForward, tables.prefixBackward, tables.prefixMemory, tables.linkActivation, tables.minBandwidth,
      tables.price, tables.memoryLow, tables.memoryHigh, tables.memory, tables.count, new Float64Array(K),
    ].map((table) => [table, place(table.byteLength)]);
    const unrunnableAt = tables.prefixUnrunnable === null ? 0 : place(tables.prefixUnrunnable.byteLength);
    const W = this.windowRows;
    this.objectivesAt = place(8 * W);
    this.violationsAt = place(8 * W);
    this.flagsAt = place(4 * W);
    this.rowsAt = place(4 * (W * L + 4)); // the kernel reads up to three types past the last row
    const memory = this.exports.memory;
    const pages = Math.ceil(at / PAGE_BYTES);
    if (pages > memory.buffer.byteLength / PAGE_BYTES) memory.grow(pages - memory.buffer.byteLength / PAGE_BYTES);
    const buffer = memory.buffer;
    for (const [table, offset] of f64Tables) new Float64Array(buffer, offset, table.length).set(table);
    if (tables.prefixUnrunnable !== null) new Int32Array(buffer, unrunnableAt, tables.prefixUnrunnable.length).set(tables.prefixUnrunnable);
    this.rows = new Int32Array(buffer, this.rowsAt, W * L);
    this.objectives = new Float64Array(buffer, this.objectivesAt, W);
    this.violations = new Float64Array(buffer, this.violationsAt, W);
    this.recompute = new Int32Array(buffer, this.flagsAt, W);
    const offsets = f64Tables.map(([, offset]) => offset);
    const [pf, pb, pm, la, mb, pr, ml, mh, me, co, used] = offsets;
    this.exports.configure(
      L, K, pf, pb, unrunnableAt, pm, la, mb, pr, ml, mh, me, co, used,
      tables.microBatches - 1, tables.maxTermsError, tables.prefixRounding, tables.fastTolerance,
      tables.costObjective ? 1 : 0, tables.budget, tables.deadline,
    );
  }

  /** Scores the first `count` (≤ windowRows) rows of `rows`; results in objectives, violations and recompute. */
  scoreWindow(count: number): void {
    this.exports.scoreRows(count, this.rowsAt, this.objectivesAt, this.violationsAt, this.flagsAt);
  }
}
