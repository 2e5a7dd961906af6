/** The placement problem as every part of placer sees it (README: "The model the simulator scores"). */

export interface Layer {
  name: string;
  paramBytes: number;
  /** Bytes of this layer's output for ONE micro-batch. */
  activationBytes: number;
}

export interface DeviceType {
  name: string;
  pricePerHour: number;
  count: number;
  memoryBytes: number;
  bandwidthBytesPerS: number;
  /** tfjs backend that stands for this type in real training (`cpu`, `wasm`, `tensorflow`, …). */
  backend?: string;
}

export interface Problem {
  layers: Layer[];
  types: DeviceType[];
  /**
   * forwardMs[layer * types.length + type] for ONE micro-batch on ONE unit;
   * NaN where the (layer, type) pair is missing from the profile (cannot run).
   */
  forwardMs: Float64Array;
  backwardMs: Float64Array;
}

export type Objective = 'time' | 'cost';

export interface Settings {
  /** M: micro-batches per training step. */
  microBatches: number;
  objective: Objective;
  /** Dollars per hour; Infinity when unconstrained. Used by the `time` objective. */
  budget: number;
  /** Milliseconds per step; Infinity when unconstrained. Used by the `cost` objective. */
  deadline: number;
}

/**
 * The largest values placer reads (files and flags alike). Counts, replicas
 * and micro-batches fit 32-bit arrays with room to multiply; bytes, ms and
 * $/h are small enough that every sum and product the simulator forms stays
 * finite, so no figure overflows to Infinity, null or a wrapped negative.
 */
export const LIMITS = {
  count: 1_000_000,
  replicas: 1_000_000,
  microBatches: 1_000_000,
  bytes: 1e18,
  ms: 1e15,
  pricePerHour: 1e15,
  /** Bytes per second: at least 1 (a slower link turns any activation into an overflowing time). */
  minBandwidth: 1,
  maxBandwidth: 1e18,
  /** Budget ($/h) and deadline (ms) given as settings. */
  constraint: 1e18,
} as const;

export const DEFAULT_SETTINGS: Settings = {
  microBatches: 8,
  objective: 'time',
  budget: Infinity,
  deadline: Infinity,
};

/** One pipeline stage: layers first..last (inclusive, 0-based) on `replicas` units of `type`. */
export interface Stage {
  type: number;
  replicas: number;
  first: number;
  last: number;
}

/** Stages in layer order, covering every layer once. */
export type Placement = Stage[];

export function canRun(problem: Problem, layer: number, type: number): boolean {
  return !Number.isNaN(problem.forwardMs[layer * problem.types.length + type]);
}

/** The short form: stages are the maximal runs of equal types, one replica each. */
export function placementFromAssignment(assignment: ArrayLike<number>): Placement {
  const stages: Placement = [];
  for (let layer = 0; layer < assignment.length; layer++) {
    const type = assignment[layer];
    const last = stages[stages.length - 1];
    if (last && last.type === type) last.last = layer;
    else stages.push({ type, replicas: 1, first: layer, last: layer });
  }
  return stages;
}

/** The type of every layer of a placement. */
export function assignmentOf(placement: Placement, layerCount: number): number[] {
  const assignment = new Array<number>(layerCount).fill(-1);
  for (const stage of placement) for (let l = stage.first; l <= stage.last; l++) assignment[l] = stage.type;
  return assignment;
}
