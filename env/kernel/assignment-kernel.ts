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

/** The compiled module of the committed binary, once per process. */
export function kernelModule(): WebAssembly.Module {
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

  /**
   * The kernel for these tables, or null when it does not take them or cannot run: a link is NaN (the
   * kernel's maxima assume none is), its memory cannot grow that far, or this Node has no WebAssembly
   * (or no SIMD); scoreBatch then stays in JavaScript.
   * The caller has made sure the prefix sums are finite (Simulator.layerOrderOnly).
   */
  static create(tables: KernelTables, module?: WebAssembly.Module): AssignmentKernel | null {
    // No WebAssembly at all (node --jitless), or none with SIMD: the JavaScript path.
    if (typeof WebAssembly === 'undefined' || anyLinkNaN(tables)) return null;
    try {
      return new AssignmentKernel(tables, module ?? kernelModule());
    } catch (error) {
      // WebAssembly.Memory.grow out of memory (RangeError), a build that cannot compile here (CompileError).
      if (error instanceof RangeError || error instanceof WebAssembly.CompileError) return null;
      throw error;
    }
  }

  private constructor(tables: KernelTables, module: WebAssembly.Module) {
    const L = tables.layerCount;
    const K = tables.typeCount;
    const stride = L + 1;
    this.windowRows = Math.max(16, Math.floor(WINDOW_BYTES / (4 * L)));
    const instance = new WebAssembly.Instance(module, {});
    this.exports = instance.exports as unknown as KernelExports;

    // The tables as the kernel reads them (assignment-kernel.wat, its header comment).
    const prefix = new Float64Array(K * stride * 4);
    for (let k = 0; k < K; k++) {
      for (let l = 0; l <= L; l++) {
        const at = (k * stride + l) * 4;
        prefix[at] = tables.prefixForward[k * stride + l];
        prefix[at + 1] = tables.prefixBackward[k * stride + l];
        prefix[at + 2] = tables.prefixUnrunnable === null ? 0 : tables.prefixUnrunnable[k * stride + l];
      }
    }
    const types = new Float64Array(K * 8);
    for (let k = 0; k < K; k++) {
      types.set([tables.price[k], tables.memoryLow[k], tables.memoryHigh[k], tables.memory[k], tables.count[k]], k * 8);
    }

    // Layout: the tables, then the window.
    let at = 64;
    const place = (bytes: number) => {
      const start = at;
      at += Math.ceil(bytes / 64) * 64;
      return start;
    };
    const placed: [Float64Array, number][] = [prefix, types, tables.prefixMemory, tables.linkActivation, tables.minBandwidth].map((table) => [table, place(table.byteLength)]);
    const W = this.windowRows;
    this.objectivesAt = place(8 * W);
    this.violationsAt = place(8 * W);
    this.flagsAt = place(4 * W);
    this.rowsAt = place(4 * (W * L + 4)); // the kernel reads up to three types past the last row
    const memory = this.exports.memory;
    const pages = Math.ceil(at / PAGE_BYTES);
    const have = memory.buffer.byteLength / PAGE_BYTES;
    if (pages > have) memory.grow(pages - have);
    const buffer = memory.buffer;
    for (const [table, offset] of placed) new Float64Array(buffer, offset, table.length).set(table);
    this.rows = new Int32Array(buffer, this.rowsAt, W * L);
    this.objectives = new Float64Array(buffer, this.objectivesAt, W);
    this.violations = new Float64Array(buffer, this.violationsAt, W);
    this.recompute = new Int32Array(buffer, this.flagsAt, W);
    const [prefixAt, typesAt, memoryAt, linkActivationAt, minBandwidthAt] = placed.map(([, offset]) => offset);
    this.exports.configure(
      L, K, prefixAt, typesAt, memoryAt, linkActivationAt, minBandwidthAt,
      tables.microBatches - 1, tables.maxTermsError, tables.prefixRounding, tables.fastTolerance,
      tables.costObjective ? 1 : 0, tables.budget, tables.deadline,
    );
  }

  /** Scores the first `count` (≤ windowRows) rows of `rows`; results in objectives, violations and recompute. */
  scoreWindow(count: number): void {
    this.exports.scoreRows(count, this.rowsAt, this.objectivesAt, this.violationsAt, this.flagsAt);
  }
}

/** Whether some link before a layer, between two types, is NaN (scoreRow's very quotient). */
function anyLinkNaN(tables: KernelTables): boolean {
  const { layerCount: L, typeCount: K } = tables;
  for (let first = 0; first < L; first++) {
    for (let cell = 0; cell < K * K; cell++) {
      const tau = (tables.linkActivation[first] / tables.minBandwidth[cell]) * 1000;
      if (tau !== tau) return true;
    }
  }
  return false;
}
