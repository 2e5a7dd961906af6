/**
 * The tfjs backend the agent trains on. `auto`: the native ones when
 * installed (tfjs-node-gpu, tfjs-node), else wasm (measured faster than cpu
 * for this policy, see `AGENT_SMALL_TENSOR_BACKEND`), else cpu,
 * said once on stderr. A named backend is forced, or fails with what to install.
 */
import * as tf from '@tensorflow/tfjs';
import { backendAvailable, useBackend } from '../env/real/backends.js';

/**
 * Without a native backend the policy trains on wasm: measured on this
 * project's 2-core machine (agent/agent.bench.ts --backends; README "The
 * agent"), one REINFORCE update of the conv policy (batch 64) takes 11-15 ms on
 * wasm against 23-86 ms on cpu (21 to 123 layers), and a forward pass 1-2 ms
 * against 4-20 ms. cpu is the fallback when wasm does not load.
 */
export const AGENT_SMALL_TENSOR_BACKEND = 'wasm';

/** Activates `requested` (or the best available for `auto`); returns its name. `log` gets one line. */
/** The backend lines already printed: a command that selects twice (place --fine-tune) says it once. */
const announced = new Set<string>();

export async function selectBackend(requested = 'auto', logLine: (line: string) => void = () => {}): Promise<string> {
  const log = (line: string) => {
    if (announced.has(line)) return;
    announced.add(line);
    logLine(line);
  };
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
  try {
    await useBackend(AGENT_SMALL_TENSOR_BACKEND);
    log(`tfjs backend "${tf.getBackend()}" (no tfjs-node here; wasm before cpu: faster for the agent's small tensors)`);
    return AGENT_SMALL_TENSOR_BACKEND;
  } catch {
    await useBackend('cpu');
    log(`tfjs backend "${tf.getBackend()}" (no tfjs-node, wasm did not load)`);
    return 'cpu';
  }
}
