/** The tfjs backends a devices.csv `backend` cell may name, and the package each needs (loaded by env/real/backends.ts). */
export const BACKEND_PACKAGES: Record<string, string> = {
  cpu: '@tensorflow/tfjs',
  wasm: '@tensorflow/tfjs-backend-wasm',
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  cuda: '@tensorflow/tfjs-node-gpu',
};

export const BACKEND_NAMES = Object.keys(BACKEND_PACKAGES);
