/**
 * The cost of one pipeline stage and of the link before it: the three terms
 * of the model (README, "The model the simulator scores") that do not come
 * from the profile. The simulator and the exact solver both call these, so
 * the arithmetic exists once and the two cannot drift apart (the float
 * operations are in the model's order, so results match bit for bit).
 */

/** Milliseconds one activation of `activationBytes` takes across the link between two types (each way). */
export function linkMs(activationBytes: number, fromBandwidth: number, toBandwidth: number): number {
  return (activationBytes / (fromBandwidth < toBandwidth ? fromBandwidth : toBandwidth)) * 1000;
}

/** Milliseconds of the ring all-reduce of `paramBytes` of gradients over `replicas` units of one type. */
export function allReduceMs(replicas: number, paramBytes: number, bandwidth: number): number {
  return replicas === 1 ? 0 : ((((2 * (replicas - 1)) / replicas) * paramBytes) / bandwidth) * 1000;
}

/** Bytes one replica needs for one layer: weights, gradients and Adam's two moments, plus its stashed activations. */
export function layerMemoryBytes(paramBytes: number, activationBytes: number, microBatches: number, replicas: number): number {
  return 4 * paramBytes + (microBatches * activationBytes) / replicas;
}
