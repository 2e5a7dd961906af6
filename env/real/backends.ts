/**
 * tfjs backends by name, loaded only when their package is present:
 * `cpu` (always), `wasm` (@tensorflow/tfjs-backend-wasm), `tensorflow`
 * (@tensorflow/tfjs-node) and its CUDA build (@tensorflow/tfjs-node-gpu,
 * backend name `tensorflow` too; `tensorflow-gpu` and `cuda` ask for it).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../errors.js';
import type { DeviceType } from '../problem.js';

import { BACKEND_PACKAGES } from '../backend-names.js';

export { BACKEND_PACKAGES };

/** The tfjs backend name that a catalogue backend turns into. */
function tfjsName(backend: string): string {
  return backend === 'tensorflow-gpu' || backend === 'cuda' ? 'tensorflow' : backend;
}

async function importPackage(backend: string): Promise<void> {
  const pkg = BACKEND_PACKAGES[backend];
  if (pkg === undefined) {
    throw new UserError(`unknown backend "${backend}" (known: ${Object.keys(BACKEND_PACKAGES).join(', ')})`);
  }
  if (backend === 'cpu') return;
  try {
    await import(pkg);
  } catch (error) {
    throw new UserError(`backend "${backend}" needs ${pkg}, which is not installed or does not load here (npm install ${pkg}): ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Production mode: tfjs skips its debug checks and prints no console
 * warnings (the cpu backend's "Hi, looks like you are running TensorFlow.js
 * in Node.js" banner, once per worker thread). Profiles and validations both
 * run in it, so they time the same code.
 */
function quiet(): void {
  tf.enableProdMode();
}

/** Makes `backend` the active tfjs backend of this thread; a UserError says what to install when its package is missing. */
export async function useBackend(backend: string): Promise<void> {
  quiet();
  await importPackage(backend);
  const name = tfjsName(backend);
  const ok = await tf.setBackend(name);
  if (!ok) throw new UserError(`backend "${backend}" is installed but failed to initialise`);
  await tf.ready();
}

/** Whether `backend` can be loaded here (imports its package, does not switch to it). */
export async function backendAvailable(backend: string): Promise<boolean> {
  try {
    await importPackage(backend);
    return true;
  } catch {
    return false;
  }
}

/**
 * The backend of each type a real run uses (`cpu` when the catalogue names
 * none); fails early, naming devices.csv and the type's row, if one is missing.
 */
export async function checkCatalogueBackends(types: readonly DeviceType[], used?: ReadonlySet<number>, where?: { file: string; rows: readonly number[] }): Promise<void> {
  for (const [k, type] of types.entries()) {
    if (used && !used.has(k)) continue;
    const backend = type.backend ?? 'cpu';
    try {
      await importPackage(backend);
    } catch (error) {
      const place = where ? `${where.file} row ${where.rows[k]}, column backend` : 'devices';
      throw new UserError(`${place}: type "${type.name}": ${(error as Error).message}`);
    }
  }
}
