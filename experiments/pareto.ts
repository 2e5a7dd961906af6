/**
 * The Pareto front of step time against price: the points no other point
 * beats on both (no cheaper-or-equal point is faster-or-equal with one of
 * the two strictly better).
 */
export interface PricedPoint {
  pricePerHour: number;
  stepMs: number;
}

/** The non-dominated points, sorted by price (ascending; step time then falls). Duplicates kept once. */
export function paretoFront<T extends PricedPoint>(points: readonly T[]): T[] {
  const sorted = [...points].sort((a, b) => a.pricePerHour - b.pricePerHour || a.stepMs - b.stepMs);
  const front: T[] = [];
  let bestStepMs = Infinity;
  for (const point of sorted) {
    // Sorted by price then step: a point is on the front iff it is strictly faster than every cheaper-or-equal one.
    if (point.stepMs < bestStepMs) {
      front.push(point);
      bestStepMs = point.stepMs;
    }
  }
  return front;
}
