/**
 * `npm run bench`: simulator throughput on the bundled 60-layer, 4-type problem
 * (assignment-form placements with a type change every ~4 layers), one core.
 * Measures, interleaved in one run so the machine's load hits each alike:
 *  - layer order: the model's sums layer by layer (the simulator before prefix sums,
 *    still the path of reports and placement.json);
 *  - prefix sums: `scoreAssignment`, one assignment per call;
 *  - batch in JS: `scoreBatchInJs`, scoreAssignment's loop row by row over a batch in one call
 *    (the batch path before the WebAssembly kernel);
 *  - batch: `scoreBatch`, every assignment of a batch in one call, scored by the WebAssembly kernel
 *    (env/kernel/assignment-kernel.wat), copies in and out and the last row's re-score in JS included;
 *  - batch without one part of the kernel (ablations, each a build of assignment-kernel.wat with that
 *    part left out, assembled here with wabt): without SIMD (stage ends one layer per step), with
 *    float maxima (compares V8 turns into branches);
 *  - local move: `scoreMove`, the neighbour of a current assignment with one layer's type
 *    changed (what local search scores), MOVES neighbours per `setCurrent`, whose O(layers)
 *    cost is included.
 * Rates are per CPU second of this process (the machine may be shared, which inflates wall time).
 * Prints evaluations per second, writes experiments/results/simulator-bench.json and the figures of
 * the README (between its simulator-bench markers).
 */
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { PACKAGE_ROOT, bundledProblem } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import { DEFAULT_SETTINGS } from '../../env/problem.js';
import { Simulator } from '../../env/simulate.js';
import { ALL_PARTS, assembleKernel, type KernelParts } from '../../env/kernel/build-kernel.js';
import { writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';

const loadAtStart = loadavg()[0];
const PROBLEM = 'synthetic-60';
const ASSIGNMENTS = 4096;
const ROUNDS = 7;
const ROUND_MS = 400;

const { files, defaults } = bundledProblem(PROBLEM);
const problem = loadProblem(files);
const L = problem.layers.length;
const K = problem.types.length;
const settings = { ...DEFAULT_SETTINGS, microBatches: defaults.microBatches ?? 8, budget: defaults.budget ?? Infinity };
const sim = new Simulator(problem, settings);

const rng = seedrandom.alea('bench');
const batch = new Int32Array(ASSIGNMENTS * L);
for (let i = 0; i < ASSIGNMENTS; i++) {
  let type = 0;
  for (let l = 0; l < L; l++) {
    if (l === 0 || rng() < 0.25) type = Math.floor(rng() * K);
    let t = type;
    while (Number.isNaN(problem.forwardMs[l * K + t])) t = (t + 1) % K;
    batch[i * L + l] = t;
  }
}
const rows = Array.from({ length: ASSIGNMENTS }, (_, i) => batch.subarray(i * L, (i + 1) * L));
const MOVES = 16;
const moveLayer = Int32Array.from({ length: ASSIGNMENTS * MOVES }, () => Math.floor(rng() * L));
const moveType = Int32Array.from(moveLayer, (l) => {
  let t = Math.floor(rng() * K);
  while (Number.isNaN(problem.forwardMs[l * K + t])) t = (t + 1) % K;
  return t;
});
/** Simulators whose scoreBatch runs the kernel without one part. */
const ablations: [string, Partial<KernelParts>][] = [
  ['batch, no SIMD', { simd: false }],
  ['batch, float maxima', { integerMaxima: false }],
];
const ablated: Record<string, Simulator> = {};
for (const [name, off] of ablations) {
  const other = new Simulator(problem, settings);
  if (!other.useKernelModule(new WebAssembly.Module(await assembleKernel({ ...ALL_PARTS, ...off })))) throw new Error(`${name}: the kernel does not take ${PROBLEM}`);
  ablated[name] = other;
}
const objectives = new Float64Array(ASSIGNMENTS);
const violations = new Float64Array(ASSIGNMENTS);

// The fast paths must give the layer-order numbers (to 1e-9 relative): checked on every assignment here.
let worst = 0;
for (const row of rows) {
  const fast = sim.scoreAssignment(row);
  sim.loadAssignment(row);
  const exact = sim.scoreInLayerOrder();
  worst = Math.max(worst, Math.abs(fast - exact) / exact);
}
for (let i = 0; i < 256; i++) {
  sim.setCurrent(rows[i]);
  const moved = Int32Array.from(rows[i]);
  for (let m = 0; m < MOVES; m++) {
    const fast = sim.scoreMove(moveLayer[i * MOVES + m], moveType[i * MOVES + m]);
    moved.set(rows[i]);
    moved[moveLayer[i * MOVES + m]] = moveType[i * MOVES + m];
    sim.loadAssignment(moved);
    const exact = sim.scoreInLayerOrder();
    worst = Math.max(worst, Math.abs(fast - exact) / exact);
  }
}
if (!(worst <= 1e-9)) throw new Error(`prefix sums differ from layer order by ${worst} relative`);
// The WebAssembly batch must give scoreAssignment's numbers bit for bit (objective and violation).
sim.scoreBatch(batch, ASSIGNMENTS, objectives, violations);
let kernelMismatches = 0;
rows.forEach((row, i) => {
  const objective = sim.scoreAssignment(row);
  if (!Object.is(objective, objectives[i]) || !Object.is(sim.violation, violations[i])) kernelMismatches++;
});
if (kernelMismatches > 0) throw new Error(`scoreBatch differs from scoreAssignment on ${kernelMismatches} of ${ASSIGNMENTS} assignments`);
const feasibleRows = violations.reduce((n, v) => n + (v === 0 ? 1 : 0), 0);
// And so must every ablated build (each part changes how, not what, the kernel computes).
const check = { objectives: new Float64Array(ASSIGNMENTS), violations: new Float64Array(ASSIGNMENTS) };
for (const [name, other] of Object.entries(ablated)) {
  other.scoreBatch(batch, ASSIGNMENTS, check.objectives, check.violations);
  for (let i = 0; i < ASSIGNMENTS; i++) {
    if (!Object.is(check.objectives[i], objectives[i]) || !Object.is(check.violations[i], violations[i])) throw new Error(`${name} differs from scoreBatch on assignment ${i}`);
  }
}

const variants: Record<string, () => number> = {
  'layer order': () => {
    let checksum = 0;
    for (const row of rows) {
      sim.loadAssignment(row);
      checksum += sim.scoreInLayerOrder();
    }
    return checksum;
  },
  'prefix sums': () => {
    let checksum = 0;
    for (const row of rows) checksum += sim.scoreAssignment(row);
    return checksum;
  },
  'batch in JS': () => {
    sim.scoreBatchInJs(batch, ASSIGNMENTS, objectives, violations);
    return objectives[ASSIGNMENTS - 1];
  },
  batch: () => {
    sim.scoreBatch(batch, ASSIGNMENTS, objectives, violations);
    return objectives[ASSIGNMENTS - 1];
  },
  ...Object.fromEntries(
    Object.entries(ablated).map(([name, other]) => [
      name,
      () => {
        other.scoreBatch(batch, ASSIGNMENTS, objectives, violations);
        return objectives[ASSIGNMENTS - 1];
      },
    ]),
  ),
  'local move': () => {
    let checksum = 0;
    for (let i = 0; i < ASSIGNMENTS / MOVES; i++) {
      sim.setCurrent(rows[i]);
      for (let m = i * MOVES; m < (i + 1) * MOVES; m++) checksum += sim.scoreMove(moveLayer[m], moveType[m]);
    }
    return checksum;
  },
};
const rates: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
let checksum = 0;
const cpuStarted = process.cpuUsage();
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, run] of Object.entries(variants)) {
    const started = process.cpuUsage();
    let evaluations = 0;
    let cpuMs = 0;
    while (cpuMs < ROUND_MS) {
      checksum += run();
      evaluations += ASSIGNMENTS;
      const used = process.cpuUsage(started);
      cpuMs = (used.user + used.system) / 1000;
    }
    rates[name].push(evaluations / (cpuMs / 1000));
  }
}
const cpu = process.cpuUsage(cpuStarted);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const summary = Object.fromEntries(
  Object.entries(rates).map(([name, xs]) => [name, { median: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) }]),
);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/**
 * The same comparison (the JavaScript batch against the kernel) on other inputs, so the figure is not
 * one input's: the same problem with a new type drawn at every layer (about 3 in 4 layers end a stage),
 * and the bundled 123-layer gpt2-medium. Fewer, shorter rounds.
 */
interface OtherInput {
  label: string;
  layers: number;
  types: number;
  meanStages: number;
  batchInJs: number;
  batch: number;
}
function otherInput(label: string, name: string, newTypeRate: number): OtherInput {
  const { files: otherFiles, defaults: otherDefaults } = bundledProblem(name);
  const other = loadProblem(otherFiles);
  const [OL, OK] = [other.layers.length, other.types.length];
  const otherSim = new Simulator(other, { ...DEFAULT_SETTINGS, microBatches: otherDefaults.microBatches ?? 8, budget: otherDefaults.budget ?? Infinity });
  const draw = seedrandom.alea(`bench ${label}`);
  const count = 1024;
  const otherRows = new Int32Array(count * OL);
  for (let i = 0; i < count; i++) {
    let type = 0;
    for (let l = 0; l < OL; l++) {
      if (l === 0 || draw() < newTypeRate) type = Math.floor(draw() * OK);
      let t = type;
      for (let tries = 0; tries < OK && Number.isNaN(other.forwardMs[l * OK + t]); tries++) t = (t + 1) % OK;
      otherRows[i * OL + l] = t;
    }
  }
  const o = [new Float64Array(count), new Float64Array(count)];
  const v = [new Float64Array(count), new Float64Array(count)];
  otherSim.scoreBatchInJs(otherRows, count, o[0], v[0]);
  otherSim.scoreBatch(otherRows, count, o[1], v[1]);
  for (let i = 0; i < count; i++) {
    if (!Object.is(o[0][i], o[1][i]) || !Object.is(v[0][i], v[1][i])) throw new Error(`${label}: scoreBatch differs from scoreBatchInJs on assignment ${i}`);
  }
  let stages = 0;
  for (let i = 0; i < count; i++) for (let l = 0; l < OL; l++) if (l === 0 || otherRows[i * OL + l] !== otherRows[i * OL + l - 1]) stages++;
  const timed = { batchInJs: [] as number[], batch: [] as number[] };
  for (let round = 0; round < 3; round++) {
    for (const which of ['batchInJs', 'batch'] as const) {
      const started = process.cpuUsage();
      let evaluations = 0;
      let cpuMs = 0;
      while (cpuMs < ROUND_MS / 2) {
        if (which === 'batch') otherSim.scoreBatch(otherRows, count, o[1], v[1]);
        else otherSim.scoreBatchInJs(otherRows, count, o[0], v[0]);
        evaluations += count;
        const used = process.cpuUsage(started);
        cpuMs = (used.user + used.system) / 1000;
      }
      timed[which].push(evaluations / (cpuMs / 1000));
    }
  }
  return { label, layers: OL, types: OK, meanStages: Number((stages / count).toFixed(1)), batchInJs: Math.round(median(timed.batchInJs)), batch: Math.round(median(timed.batch)) };
}
const otherInputs = [otherInput(`${PROBLEM}, a new type at every layer`, PROBLEM, 1), otherInput('gpt2-medium', 'gpt2-medium', 0.25)];
console.log(`simulator: ${PROBLEM} (${L} layers, ${K} types), assignment form, one core, ${ROUNDS} interleaved rounds of ${ROUND_MS / 1000} CPU s each`);
for (const [name, s] of Object.entries(summary)) {
  console.log(`  ${name.padEnd(20)} ${fmt(s.median).padStart(11)} evaluations per CPU s (min ${fmt(s.min)}, max ${fmt(s.max)}), ${(1e6 / s.median).toFixed(3)} µs each`);
}
const ratio = (a: string, b: string) => summary[a].median / summary[b].median;
const speedup = ratio('prefix sums', 'layer order');
const batchSpeedup = ratio('batch', 'layer order');
const kernelSpeedup = ratio('batch', 'batch in JS');
const moveSpeedup = ratio('local move', 'layer order');
console.log(`  prefix sums ÷ layer order: ${speedup.toFixed(2)}×; batch ÷ layer order: ${batchSpeedup.toFixed(2)}×; batch ÷ batch in JS: ${kernelSpeedup.toFixed(2)}×; local move ÷ layer order: ${moveSpeedup.toFixed(2)}×`);
const partGains = Object.fromEntries(ablations.map(([name]) => [name, Number(ratio('batch', name).toFixed(3))]));
console.log(`  batch ÷ batch without a part: ${Object.entries(partGains).map(([name, x]) => `${name.replace('batch, ', '')} ${x.toFixed(2)}×`).join('; ')}`);
console.log(`  largest relative difference from layer order ${worst.toExponential(2)}; batch equal to scoreAssignment bit for bit on all ${ASSIGNMENTS} assignments (${feasibleRows} feasible)`);
console.log(`  recomputed in layer order: ${sim.recomputed} scores; cpu ${(cpu.user / 1e6).toFixed(1)} s user; load average ${loadAtStart.toFixed(2)} at the start, ${loadavg()[0].toFixed(2)} at the end (checksum ${checksum.toExponential(3)})`);
for (const x of otherInputs) {
  console.log(`  other input: ${x.label} (${x.layers} layers, ${x.types} types, ${x.meanStages} stages on average): batch ${fmt(x.batch)}, batch in JS ${fmt(x.batchInJs)} evaluations per CPU s (${(x.batch / x.batchInJs).toFixed(2)}×)`);
}
const file = join(PACKAGE_ROOT, 'experiments', 'results', 'simulator-bench.json');
writeJsonAtomic(file, {
  problem: PROBLEM, layers: L, types: K, roundCpuSeconds: ROUND_MS / 1000, rates: 'evaluations per CPU second', rounds: ROUNDS,
  evaluationsPerSecond: summary, prefixOverLayerOrder: Number(speedup.toFixed(3)), batchOverLayerOrder: Number(batchSpeedup.toFixed(3)), batchOverBatchInJs: Number(kernelSpeedup.toFixed(3)), batchOverAblated: partGains, localMoveOverLayerOrder: Number(moveSpeedup.toFixed(3)),
  largestRelativeDifference: worst, cpuUserSeconds: Number((cpu.user / 1e6).toFixed(2)),
  loadAverage1m: Number(loadavg()[0].toFixed(2)),
  loadAverage1mAtStart: Number(loadAtStart.toFixed(2)),
  otherInputs,
});
console.log(`wrote ${file}`);

// The README's figures, generated from this run (between the simulator-bench markers, inside a list item).
const M = (name: string) => `${(summary[name].median / 1e6).toFixed(2)} M/s`;
const readmeFigures = [
  `One run of \`npm run bench\`, load average ${loadAtStart.toFixed(1)} at the start and ${loadavg()[0].toFixed(1)} at the end on the 2 cores:`,
  `the model's sums layer by layer (what reports and \`placement.json\` use) **${M('layer order')}**;`,
  `prefix sums in JavaScript, one assignment per call (\`scoreAssignment\`) **${M('prefix sums')}** (${speedup.toFixed(1)}×),`,
  `and over a batch (\`scoreBatchInJs\`) **${M('batch in JS')}**; \`scoreBatch\`, the WebAssembly kernel, copies in and out included,`,
  `**${M('batch')}** (${batchSpeedup.toFixed(1)}× layer order, ${kernelSpeedup.toFixed(1)}× the JavaScript batch); the kernel without SIMD`,
  `**${M('batch, no SIMD')}** (SIMD: ${partGains['batch, no SIMD'].toFixed(2)}×), with float maxima **${M('batch, float maxima')}**`,
  `(integer maxima: ${partGains['batch, float maxima'].toFixed(2)}×); a local move (\`scoreMove\`: one layer's type changed, only the stages`,
  `around it re-scored, 16 moves per \`setCurrent\`, whose cost is included) **${M('local move')}**. Largest difference from the`,
  `layer-order sums ${worst.toExponential(1)} relative; \`scoreBatch\` equal to \`scoreAssignment\` bit for bit on all ${ASSIGNMENTS.toLocaleString('en-US')} assignments.`,
  ...otherInputs.map(
    (x) => `Other input, ${x.label} (${x.layers} layers, ${x.types} types, ${x.meanStages} stages on average): \`scoreBatch\` **${(x.batch / 1e6).toFixed(2)} M/s**, \`scoreBatchInJs\` ${(x.batchInJs / 1e6).toFixed(2)} M/s (${(x.batch / x.batchInJs).toFixed(1)}×).`,
  ),
].map((line) => `  ${line}`).join('\n');
const readme = join(PACKAGE_ROOT, 'README.md');
const text = readFileSync(readme, 'utf8');
const [start, end] = ['<!-- simulator-bench:start -->', '<!-- simulator-bench:end -->'];
const a = text.indexOf(start);
const b = text.indexOf(end);
if (a >= 0 && b > a) {
  writeFileAtomic(readme, `${text.slice(0, a + start.length)}\n${readmeFigures}\n  ${text.slice(b)}`);
  console.log(`updated ${readme} (simulator-bench block)`);
}
