/**
 * `npm run exp:bounds [-- --limit S] [-- --only 300x8,1000x8] [-- --extra 120x4]`:
 * the gap every method's answer in the scaling sweep is known to be within.
 *
 * For each cell (layers × types) of experiments/results/scaling.json, the
 * exact searcher runs with a time limit of S seconds (default 60, what
 * `placer solve --method exact --time-limit 60` does) and gives its placement
 * and its proven lower bound (the budget DP's among them:
 * agent/bounds/budget-dp.ts); the load bound (agent/load-bound.ts) is tried
 * too and the larger kept. Every method's recorded step time in the sweep is
 * then set against that bound: gap = (step − bound) / step, the most its
 * answer can be above the optimum. `--extra LxK` adds synthetic cells of the
 * same kind (budget at the sweep's position) that the sweep does not have
 * (default: 120x4, the issue's "120 layers × 4 types proven in 2 s").
 *
 * Writes experiments/results/scaling-bounds.json and .md, the gap table into
 * scaling.md (and so experiments/results/README.md) and into the project
 * README (between the gaps markers), unless --only is given.
 *
 * `--reuse-bounds`: no exact run; the lower bounds (and exact's answer) of
 * experiments/results/scaling-bounds.json are kept and every method's gap is
 * set again against them from today's scaling.json (after a re-run of the
 * sweep: a bound is a proof about the problem, whatever the methods did).
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../env/bundled.js';
import { writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import type { Settings } from '../env/problem.js';
import { syntheticProblem } from '../profiles/synthetic.js';
import { exactSearcher } from '../agent/exact.js';
import { loadBound } from '../agent/load-bound.js';
import { budgetRange } from './runs.js';
import { type GapCell, type GapFile, type GapRun, gapsAgainst, gapTableMarkdown, percent, readGapFile, withGapBlock } from './gap-table.js';
import { writeResultsReadme } from './readme.js';

interface SweepRun extends GapRun {
  layers: number; types: number; microBatches: number; budget: number | null; timedOut: boolean;
}


const args = process.argv.slice(2);
const argOf = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const limitS = Number(argOf('--limit') ?? 60);
const only = argOf('--only')?.split(',');
const reuseBounds = args.includes('--reuse-bounds');
const extra = (argOf('--extra')?.split(',') ?? ['120x4']).map((cell) => cell.split('x').map(Number) as [number, number]);

const scaling = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'experiments', 'results', 'scaling.json'), 'utf8'));
const runs = scaling.runs as SweepRun[];
const problemSeed: number = scaling.config.problemSeed;
const position: number = scaling.config.budgetPosition;
const microBatches: number = scaling.config.microBatches;
const methods = [...new Set(runs.map((r) => r.method))];
const sweepKeys = new Set(runs.map((r) => `${r.layers}x${r.types}`));
const keys = [...sweepKeys, ...extra.map(([l, k]) => `${l}x${k}`).filter((key) => !sweepKeys.has(key))];

const sweepGaps = (sweep: SweepRun[], lowerBound: number, exactStepMs: number | null) => gapsAgainst(sweep, methods, lowerBound, exactStepMs);

const previous = reuseBounds ? readGapFile(join(PACKAGE_ROOT, 'experiments', 'results')) : null;
if (reuseBounds && !previous) {
  console.error('--reuse-bounds: no experiments/results/scaling-bounds.json to reuse; run npm run exp:bounds first');
  process.exit(1);
}
const cells: GapCell[] = [];
for (const stored of previous?.cells ?? []) {
  if (only && !only.includes(`${stored.layers}x${stored.types}`)) continue;
  const sweep = runs.filter((r) => r.layers === stored.layers && r.types === stored.types);
  cells.push({ ...stored, ...sweepGaps(sweep, stored.lowerBound, stored.exactStepMs) });
}
for (const key of previous ? [] : keys) {
  if (only && !only.includes(key)) continue;
  const [layers, types] = key.split('x').map(Number);
  const problem = syntheticProblem({ layers, types, seed: problemSeed });
  const sweep = runs.filter((r) => r.layers === layers && r.types === types);
  let budget = sweep[0]?.budget ?? null;
  if (sweep.length === 0) {
    const range = budgetRange(problem, microBatches);
    budget = range ? range.cheapest * (range.allUnits / range.cheapest) ** position : null;
  }
  const settings: Settings = { microBatches, objective: 'time', budget: budget ?? Infinity, deadline: Infinity };
  const cpu = process.cpuUsage();
  const exact = await exactSearcher.search(problem, settings, { seed: 1, timeLimitS: limitS });
  const used = process.cpuUsage(cpu);
  const load = loadBound(problem, settings);
  const exactBound = exact.lowerBound ?? 0;
  const lowerBound = Math.max(exactBound, load);
  const gapOf = (step: number) => (step > 0 ? Math.max(0, (step - lowerBound) / step) : 0);
  const cell: GapCell = {
    layers, types, budget, inSweep: sweepKeys.has(key),
    exactStepMs: exact.feasible ? exact.objective : null,
    exactProven: exact.provenOptimal === true,
    exactSeconds: Number(exact.seconds.toFixed(2)),
    exactCpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
    loadAverage: Number(loadavg()[0].toFixed(2)),
    lowerBound, boundBy: load > exactBound ? 'load' : 'exact',
    exactGap: exact.feasible ? gapOf(exact.objective) : null,
    ...sweepGaps(sweep, lowerBound, exact.feasible ? exact.objective : null),
  };
  cells.push(cell);
  console.error(`${key}: exact ${cell.exactStepMs} (${cell.exactProven ? 'proven' : 'not proven'}, ${cell.exactSeconds} s, ${cell.exactCpuSeconds} CPU s, load ${cell.loadAverage}), bound ${lowerBound} (${cell.boundBy}), exact gap ${percent(cell.exactGap)}, best known gap ${percent(cell.bestKnownGap)}`);
}

const lines = [
  `For each cell, \`exact\` with a ${limitS} s limit (\`placer solve --method exact --time-limit ${limitS}\`: one core of a 2-core machine shared with other jobs, so "exact s" is wall clock, "CPU s" what it got, "load" the 1-minute load average when it ended) gives a placement and a proven lower bound on the optimum (the larger of its own and the load bound; its own comes from the budget DP of agent/bounds/budget-dp.ts, whose tables also bound every label of its search, or from the search itself when it finishes). Every method's step time from experiments/results/scaling.json (columns "sweep …"; ${previous ? `re-run on ${String(scaling.generatedAt).slice(0, 10)}, after the bounds, and set against them by \`--reuse-bounds\`; exact there is the sweep's own run` : "exact there is the sweep's own, older run"}) is set against it: gap = (step − bound) / step, the most that answer can be above the optimum; 0 = proven optimal. "best known" is the best step any method found (exact's answer in this table included). Rows marked * are not in the sweep (no sweep columns).`,
  '',
  `| layers | types | exact step ms | proven | exact s | CPU s | load | lower bound | exact gap | best known gap | ${methods.map((m) => `sweep ${m}`).join(' | ')} |`,
  `| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ${methods.map(() => '---:').join(' | ')} |`,
  ...cells.map((c) =>
    `| ${c.layers}${c.inSweep ? '' : '*'} | ${c.types} | ${c.exactStepMs === null ? 'none' : Number(c.exactStepMs.toPrecision(6))} | ${c.exactProven ? 'yes' : 'no'} | ${c.exactSeconds.toFixed(2)} | ${c.exactCpuSeconds.toFixed(2)} | ${c.loadAverage.toFixed(1)} | ${Number(c.lowerBound.toPrecision(6))} | ${percent(c.exactGap)} | ${percent(c.bestKnownGap)} | ${methods.map((m) => (m in c.methodGaps ? percent(c.methodGaps[m]) : '–')).join(' | ')} |`),
];
const table = lines.join('\n');
console.log(table);
if (!only) {
  const dir = join(PACKAGE_ROOT, 'experiments', 'results');
  const today = new Date().toISOString().slice(0, 10);
  const gaps: GapFile = previous
    ? { ...previous, methods, cells, sweepAt: String(scaling.generatedAt ?? today).slice(0, 10) }
    : { limitS, measuredAt: today, methods, cells };
  writeJsonAtomic(join(dir, 'scaling-bounds.json'), gaps);
  writeFileAtomic(join(dir, 'scaling-bounds.md'), `# Scaling sweep: the gap of every answer\n\n${table}\n`);
  // The per-method table where the sweep's results are read: its section, the results README, the project README.
  const block = gapTableMarkdown(gaps);
  const scalingMd = join(dir, 'scaling.md');
  if (existsSync(scalingMd)) {
    writeFileAtomic(scalingMd, withGapBlock(readFileSync(scalingMd, 'utf8'), block));
    writeResultsReadme(dir, false);
  }
  const readme = join(PACKAGE_ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  if (text.includes('<!-- gaps:start')) writeFileAtomic(readme, withGapBlock(text, block.replaceAll('](scaling-bounds.md)', '](experiments/results/scaling-bounds.md)')));
}
