/**
 * How fast the exact searcher proves the optimum on every bundled problem,
 * for both objectives: `time` with the problem's budget, and `cost` with a
 * deadline of 1.5 × the time-optimal step and no budget.
 *
 * `npm run bench:exact [-- --limit S] [-- --only a,b]` prints a markdown table and writes
 * experiments/results/exact-bench.md and .json.
 *
 * `--sweep` instead runs, per problem, the objective time at budgets of
 * {1, 1.5, 2, 4} × the cheapest feasible budget, the bundled budget and no
 * budget, and the objective cost at deadlines of {1.1, 1.5, 3} × the fastest
 * step (no budget); it writes experiments/results/exact-bench.sweep.md/.json.
 * `--synthetic N` adds N random 100-layer, 4-type problems (profiles/synthetic.ts) to the sweep.
 */
import { writeFileAtomic } from '../../env/atomic-write.js';
import { join } from 'node:path';
import { PACKAGE_ROOT, bundledProblem, bundledProblemNames } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import type { Settings } from '../../env/problem.js';
import { exactSearcher, smallestFeasibleConstraint } from '../../agent/exact.js';
import { Simulator } from '../../env/simulate.js';
import type { Problem } from '../../env/problem.js';
import { syntheticProblem } from '../../profiles/synthetic.js';

interface Row {
  problem: string;
  layers: number;
  types: number;
  objective: 'time' | 'cost';
  budget: number | null;
  deadline: number | null;
  seconds: number;
  /** CPU seconds of this process (the machine is shared: wall time can be inflated by others). */
  cpuSeconds: number;
  labels: number;
  optimum: number;
  stepMs: number;
  pricePerHour: number;
  proven: boolean;
  /** The searcher's own lower bound on the optimum, and (optimum − bound) / optimum. */
  lowerBound: number | null;
  gap: number | null;
}

const args = process.argv.slice(2);
const argOf = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const limitS = Number(argOf('--limit') ?? 60);
const only = argOf('--only')?.split(',');

const sweep = args.includes('--sweep');
const syntheticCount = Number(argOf('--synthetic') ?? 0);

const rows: Row[] = [];
const cpuSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};
const fmt = (x: number, digits = 6) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x));

if (sweep) await runSweep();
else for (const name of bundledProblemNames()) {
  if (only && !only.includes(name)) continue;
  const { files, defaults } = bundledProblem(name);
  const problem = loadProblem(files);
  const timeSettings: Settings = {
    microBatches: defaults.microBatches ?? 8,
    objective: 'time',
    budget: defaults.budget ?? Infinity,
    deadline: Infinity,
  };
  let cpu = process.cpuUsage();
  const timed = await exactSearcher.search(problem, timeSettings, { seed: 1, timeLimitS: limitS });
  const timedCpu = cpuSince(cpu);
  const sim = new Simulator(problem, timeSettings);
  sim.scorePlacement(timed.placement);
  const push = (objective: 'time' | 'cost', settings: Settings, result: typeof timed, s: InstanceType<typeof Simulator>, cpuSeconds: number) => {
    const row: Row = {
      problem: name, layers: problem.layers.length, types: problem.types.length, objective,
      budget: Number.isFinite(settings.budget) ? settings.budget : null,
      deadline: Number.isFinite(settings.deadline) ? settings.deadline : null,
      seconds: result.seconds, cpuSeconds, labels: result.evaluations, optimum: result.feasible ? result.objective : Infinity,
      stepMs: s.stepMs, pricePerHour: s.pricePerHour, proven: result.provenOptimal === true,
      lowerBound: result.feasible && result.lowerBound !== undefined ? result.lowerBound : null,
      gap: result.feasible && result.lowerBound !== undefined && result.objective > 0 ? (result.objective - result.lowerBound) / result.objective : null,
    };
    rows.push(row);
    console.error(`${name} ${objective}: ${row.seconds.toFixed(2)} s (cpu ${row.cpuSeconds.toFixed(2)} s), ${row.labels} labels, optimum ${fmt(row.optimum)}, proven ${row.proven}`);
  };
  push('time', timeSettings, timed, sim, timedCpu);
  const costSettings: Settings = {
    microBatches: timeSettings.microBatches, objective: 'cost', budget: Infinity,
    deadline: timed.feasible ? 1.5 * sim.stepMs : Infinity,
  };
  cpu = process.cpuUsage();
  const costed = await exactSearcher.search(problem, costSettings, { seed: 1, timeLimitS: limitS });
  const costedCpu = cpuSince(cpu);
  const sim2 = new Simulator(problem, costSettings);
  sim2.scorePlacement(costed.placement);
  push('cost', costSettings, costed, sim2, costedCpu);
}

if (!sweep) {
const lines = [
  `Exact searcher on the bundled problems (one core, time limit ${limitS} s each; seconds = wall clock, cpu s = this process's CPU time, the machine being shared). time: budget of problem.json; cost: deadline 1.5 × the time-optimal step, no budget.`,
  '',
  '| problem | layers | types | objective | constraint | seconds | cpu s | labels | optimum | step ms | $/h | proven | gap |',
  '| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
  ...rows.map((r) =>
    `| ${r.problem} | ${r.layers} | ${r.types} | ${r.objective} | ${r.objective === 'time' ? `budget ${r.budget ?? '∞'} $/h` : `deadline ${r.deadline === null ? '∞' : fmt(r.deadline, 5)} ms`} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.labels} | ${fmt(r.optimum)} | ${fmt(r.stepMs)} | ${fmt(r.pricePerHour)} | ${r.proven ? 'yes' : 'no'} | ${r.gap === null ? '–' : `${(r.gap * 100).toFixed(2)}%`} |`),
];
const table = lines.join('\n');
console.log(table);
if (!only) {
  const dir = join(PACKAGE_ROOT, 'experiments', 'results');
  writeFileAtomic(join(dir, 'exact-bench.md'), `# Exact searcher bench\n\n${table}\n`);
  writeFileAtomic(join(dir, 'exact-bench.json'), JSON.stringify({ limitS, rows }, null, 2) + '\n');
}
}

interface SweepRow {
  problem: string;
  layers: number;
  types: number;
  objective: 'time' | 'cost';
  /** How the constraint was chosen, e.g. `1.5 × cheapest`, `bundled`, `∞`, `1.1 × fastest`. */
  case: string;
  constraint: number | null;
  seconds: number;
  cpuSeconds: number;
  labels: number;
  optimum: number;
  proven: boolean;
}

async function runSweep(): Promise<void> {
  const sweepRows: SweepRow[] = [];
  const problems: { name: string; problem: Problem; microBatches: number; budget: number }[] = [];
  for (const name of bundledProblemNames()) {
    if (only && !only.includes(name)) continue;
    const { files, defaults } = bundledProblem(name);
    problems.push({ name, problem: loadProblem(files), microBatches: defaults.microBatches ?? 8, budget: defaults.budget ?? Infinity });
  }
  for (let seed = 1; seed <= syntheticCount; seed++) {
    const name = `synthetic100-s${seed}`;
    if (only && !only.includes(name) && !only.includes('synthetic100')) continue;
    problems.push({ name, problem: syntheticProblem({ layers: 100, types: 4, seed }), microBatches: 8, budget: 8 });
  }
  const run = async (name: string, problem: Problem, settings: Settings, label: string) => {
    const cpu = process.cpuUsage();
    const result = await exactSearcher.search(problem, settings, { seed: 1, timeLimitS: limitS });
    const row: SweepRow = {
      problem: name, layers: problem.layers.length, types: problem.types.length, objective: settings.objective, case: label,
      constraint: settings.objective === 'time' ? (Number.isFinite(settings.budget) ? settings.budget : null)
        : (Number.isFinite(settings.deadline) ? settings.deadline : null),
      seconds: result.seconds, cpuSeconds: cpuSince(cpu), labels: result.evaluations,
      optimum: result.feasible ? result.objective : Infinity, proven: result.provenOptimal === true,
    };
    sweepRows.push(row);
    console.error(`${name} ${row.objective} ${label} (${fmt(row.constraint ?? Infinity, 5)}): ${row.seconds.toFixed(2)} s (cpu ${row.cpuSeconds.toFixed(2)} s), ${row.labels} labels, optimum ${fmt(row.optimum)}, proven ${row.proven}`);
    return result;
  };
  for (const { name, problem, microBatches, budget } of problems) {
    const base: Settings = { microBatches, objective: 'time', budget: Infinity, deadline: Infinity };
    const cheapest = smallestFeasibleConstraint(problem, { ...base, budget: 0 });
    if (cheapest === null) continue;
    for (const factor of [1, 1.5, 2, 4]) await run(name, problem, { ...base, budget: cheapest * factor }, `${factor} × cheapest`);
    if (Number.isFinite(budget)) await run(name, problem, { ...base, budget }, 'bundled');
    const fastest = await run(name, problem, base, '∞');
    const sim = new Simulator(problem, base);
    sim.scorePlacement(fastest.placement);
    for (const factor of [1.1, 1.5, 3]) {
      await run(name, problem, { ...base, objective: 'cost', deadline: factor * sim.stepMs }, `${factor} × fastest`);
    }
  }
  const proven = sweepRows.filter((r) => r.proven).length;
  const lines = [
    `Exact searcher over budgets and deadlines (time limit ${limitS} s each; seconds = wall clock, cpu s = this process's CPU time, the machine being shared). time: budgets {1, 1.5, 2, 4} × the cheapest feasible one, the bundled one, none; cost: deadlines {1.1, 1.5, 3} × the fastest step, no budget. Proven: ${proven} of ${sweepRows.length}; total cpu ${sweepRows.reduce((t, r) => t + r.cpuSeconds, 0).toFixed(1)} s.`,
    '',
    '| problem | layers | types | objective | case | constraint | seconds | cpu s | labels | optimum | proven |',
    '| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...sweepRows.map((r) =>
      `| ${r.problem} | ${r.layers} | ${r.types} | ${r.objective} | ${r.case} | ${r.constraint === null ? '∞' : fmt(r.constraint, 5)} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.labels} | ${fmt(r.optimum)} | ${r.proven ? 'yes' : '**no**'} |`),
  ];
  const table = lines.join('\n');
  console.log(table);
  if (!only || args.includes('--write')) {
    const dir = join(PACKAGE_ROOT, 'experiments', 'results');
      writeFileAtomic(join(dir, 'exact-bench.sweep.md'), `# Exact searcher sweep over budgets and deadlines\n\n${table}\n`);
    writeFileAtomic(join(dir, 'exact-bench.sweep.json'), JSON.stringify({ limitS, rows: sweepRows }, null, 2) + '\n');
  }
}
