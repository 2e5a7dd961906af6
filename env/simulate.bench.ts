/**
 * `npm run bench`: simulator throughput, assignment-form placements of the
 * bundled 60-layer, 4-type problem, on one core. Prints evaluations per second.
 */
import seedrandom from 'seedrandom';
import { bundledProblem } from './bundled.js';
import { loadProblem } from './load.js';
import { DEFAULT_SETTINGS } from './problem.js';
import { Simulator } from './simulate.js';

const PROBLEM = 'synthetic-60';
const ASSIGNMENTS = 4096;
const ROUNDS = 7;

const { files, defaults } = bundledProblem(PROBLEM);
const problem = loadProblem(files);
const L = problem.layers.length;
const K = problem.types.length;
const sim = new Simulator(problem, { ...DEFAULT_SETTINGS, microBatches: defaults.microBatches ?? 8, budget: defaults.budget ?? Infinity });

// Random runnable assignments with realistic run structure (a type change every ~4 layers).
const rng = seedrandom.alea('bench');
const assignments = Array.from({ length: ASSIGNMENTS }, () => {
  const a = new Int32Array(L);
  let type = 0;
  for (let l = 0; l < L; l++) {
    if (l === 0 || rng() < 0.25) type = Math.floor(rng() * K);
    let t = type;
    while (Number.isNaN(problem.forwardMs[l * K + t])) t = (t + 1) % K;
    a[l] = t;
  }
  return a;
});

let checksum = 0;
const rates: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const started = performance.now();
  let evaluations = 0;
  while (performance.now() - started < 500) {
    for (let i = 0; i < ASSIGNMENTS; i++) checksum += sim.scoreAssignment(assignments[i]);
    evaluations += ASSIGNMENTS;
  }
  rates.push(evaluations / ((performance.now() - started) / 1000));
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)];
console.log(`simulator: ${PROBLEM} (${L} layers, ${K} types), assignment form, one core`);
console.log(`evaluations per second: median ${Math.round(median).toLocaleString('en-US')} (min ${Math.round(rates[0]).toLocaleString('en-US')}, max ${Math.round(rates[rates.length - 1]).toLocaleString('en-US')}) over ${ROUNDS} rounds of 0.5 s`);
console.log(`microseconds per evaluation: ${(1e6 / median).toFixed(3)}   (checksum ${checksum.toExponential(3)})`);
