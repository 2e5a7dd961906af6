/**
 * Long searches written once as generators, run two ways: to the end without
 * yielding (`runSync`, for callers that are synchronous), or yielding to the
 * event loop between steps (`runAsync`) so a SIGINT handler can run and abort
 * the search through its AbortSignal within a fraction of a second.
 */

/** A search that `yield`s now and then (every YIELD_EVERY_MS of work at most) and returns T. */
export type Steps<T> = Generator<void, T, void>;

/** How often a long search offers to yield. */
export const YIELD_EVERY_MS = 25;

export function runSync<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

export async function runAsync<T>(steps: Steps<T>): Promise<T> {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
