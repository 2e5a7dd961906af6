/**
 * How fast the exact searcher proves the optimum on every bundled problem,
 * for both objectives: `time` with the problem's budget, and `cost` with a
 * deadline of 1.5 × the time-optimal step and no budget.
 *
 * `npm run bench:exact [-- --limit S] [-- --only a,b]` prints a markdown table and writes
 * experiments/results/exact-bench.md and .json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT, bundledProblem, bundledProblemNames } from '../env/bundled.js';
import { loadProblem } from '../env/load.js';
import type { Settings } from '../env/problem.js';
import { exactSearcher } from './exact.js';

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
}

const args = process.argv.slice(2);
const argOf = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const limitS = Number(argOf('--limit') ?? 60);
const only = argOf('--only')?.split(',');

const rows: Row[] = [];
const cpuSince = (from: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1e6;
};
const fmt = (x: number, digits = 6) => (Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x));

for (const name of bundledProblemNames()) {
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
  const { Simulator } = await import('../env/simulate.js');
  const sim = new Simulator(problem, timeSettings);
  sim.scorePlacement(timed.placement);
  const push = (objective: 'time' | 'cost', settings: Settings, result: typeof timed, s: InstanceType<typeof Simulator>, cpuSeconds: number) => {
    const row: Row = {
      problem: name, layers: problem.layers.length, types: problem.types.length, objective,
      budget: Number.isFinite(settings.budget) ? settings.budget : null,
      deadline: Number.isFinite(settings.deadline) ? settings.deadline : null,
      seconds: result.seconds, cpuSeconds, labels: result.evaluations, optimum: result.feasible ? result.objective : Infinity,
      stepMs: s.stepMs, pricePerHour: s.pricePerHour, proven: result.provenOptimal === true,
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

const lines = [
  `Exact searcher on the bundled problems (one core, time limit ${limitS} s each; seconds = wall clock, cpu s = this process's CPU time, the machine being shared). time: budget of problem.json; cost: deadline 1.5 × the time-optimal step, no budget.`,
  '',
  '| problem | layers | types | objective | constraint | seconds | cpu s | labels | optimum | step ms | $/h | proven |',
  '| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ...rows.map((r) =>
    `| ${r.problem} | ${r.layers} | ${r.types} | ${r.objective} | ${r.objective === 'time' ? `budget ${r.budget ?? '∞'} $/h` : `deadline ${r.deadline === null ? '∞' : fmt(r.deadline, 5)} ms`} | ${r.seconds.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${r.labels} | ${fmt(r.optimum)} | ${fmt(r.stepMs)} | ${fmt(r.pricePerHour)} | ${r.proven ? 'yes' : 'no'} |`),
];
const table = lines.join('\n');
console.log(table);
if (!only) {
  const dir = join(PACKAGE_ROOT, 'experiments', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'exact-bench.md'), `# Exact searcher bench\n\n${table}\n`);
  writeFileSync(join(dir, 'exact-bench.json'), JSON.stringify({ limitS, rows }, null, 2) + '\n');
}
