/**
 * The tfjs backend the agent trains on. `auto`: the native ones when
 * installed (tfjs-node-gpu, tfjs-node), else the faster of wasm and cpu for
 * this policy's small tensors (measured: see `AGENT_SMALL_TENSOR_BACKEND`),
 * said once on stderr. A named backend is forced, or fails with what to install.
 */
import * as tf from '@tensorflow/tfjs';
import { backendAvailable, useBackend } from '../env/real/backends.js';

/**
 * Without a native backend, the policy's tensors (≤ a few thousand numbers)
 * train faster on the pure-JS cpu backend than on wasm, whose per-op call
 * overhead dominates at this size (measured in agent.bench.ts, see README).
 */
export const AGENT_SMALL_TENSOR_BACKEND = 'cpu';

/** Activates `requested` (or the best available for `auto`); returns its name. `log` gets one line. */
export async function selectBackend(requested = 'auto', log: (line: string) => void = () => {}): Promise<string> {
  if (requested !== 'auto') {
    await useBackend(requested);
    log(`tfjs backend "${requested}" (forced by --backend)`);
    return requested;
  }
  for (const native of ['tensorflow-gpu', 'tensorflow']) {
    if (await backendAvailable(native)) {
      try {
        await useBackend(native);
        log(`tfjs backend "${native}" (native, fastest available)`);
        return native;
      } catch {
        // installed but does not load (no CUDA, …): try the next
      }
    }
  }
  await useBackend(AGENT_SMALL_TENSOR_BACKEND);
  log(`tfjs backend "${tf.getBackend()}" (no tfjs-node here; for this small network cpu beats wasm per update)`);
  return AGENT_SMALL_TENSOR_BACKEND;
}
