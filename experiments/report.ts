/**
 * Tables, CSV/JSON and plots from the run files of a sweep, and the results
 * README that gathers every sweep present. Pure aggregation: nothing here
 * searches; numbers come from the run files only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import { maxSyntheticTypes, type SweepConfig, type SweepKind } from './config.js';
import { gapTableMarkdown, readGapFile, withGapBlock } from './gap-table.js';
import { paretoFront } from './pareto.js';
import { writeSvg } from './plot.js';
import type { RunResult } from './run-one.js';
import { sameRun, type RunSpec } from './runs.js';

export interface ReportContext {
  resultsDir: string;
  runsDir: string;
  config: SweepConfig;
  expected: RunSpec[];
  quick: boolean;
  configFile: string;
}

/** Every result file under runs/<sweep>/ (any depth). */
export function readRunResults(runsDir: string, sweep: SweepKind): RunResult[] {
  const dir = join(runsDir, sweep);
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json'));
  return files.sort().map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunResult);
}

// ---------------------------------------------------------------- formatting

export const fmt = (x: number | null | undefined, digits = 4): string => {
  if (x === null || x === undefined || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return '∞';
  return Number(x.toPrecision(digits)).toString();
};
const money = (x: number | null) => (x === null ? '∞' : x.toFixed(2));
const seconds = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));

export function toCsv(rows: Array<Record<string, unknown>>): string {
  if (rows.length === 0) return '';
  const columns = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    const text = v === null || v === undefined ? '' : typeof v === 'number' && !Number.isFinite(v) ? String(v) : String(v);
    return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.join(','), ...rows.map((row) => columns.map((c) => cell(row[c])).join(','))].join('\n') + '\n';
}

function markdownTable(header: string[], rows: string[][], align?: string[]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(align ?? header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

const geometricMean = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const std = (xs: number[]) => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const s = Math.sqrt(xs.reduce((sum, x) => sum + (x - m) ** 2, 0) / (xs.length - 1));
  return s <= 1e-12 * Math.abs(m) ? 0 : s; // equal results up to float rounding of the mean
};

function methodOrder(config: SweepConfig, results: RunResult[]): string[] {
  const present = new Set(results.map((r) => r.method));
  return [...config.methods.filter((m) => present.has(m)), ...[...present].filter((m) => !config.methods.includes(m)).sort()];
}

/** How a group of runs (same problem and budget) is judged: the proven optimum, else the best any method found. */
export interface Reference {
  stepMs: number;
  kind: 'optimum' | 'best known';
  /** Why it is only best known. */
  note?: string;
}

/**
 * `alsoFeasible`: placements found in other runs that satisfy this group's
 * constraints too (in the budget sweep, any placement priced within the
 * budget), so "best known" is the best found anywhere, not just at this budget.
 */
export function referenceOf(group: RunResult[], alsoFeasible: RunResult[] = []): Reference | null {
  const exact = group.find((r) => r.method === 'exact');
  if (exact && exact.provenOptimal && exact.feasible) return { stepMs: exact.stepMs, kind: 'optimum' };
  if (exact && exact.provenOptimal && !exact.feasible) return null; // proven: nothing is feasible
  const feasible = [...group.filter((r) => r.feasible), ...alsoFeasible].map((r) => r.stepMs);
  if (feasible.length === 0) return null;
  const note = `${exact ? `exact not proven within ${exact.exactTimeLimitS} s` : 'exact not run'}${alsoFeasible.length ? '; best placement within this budget from any run' : ''}`;
  return { stepMs: Math.min(...feasible), kind: 'best known', note };
}

const groupBy = <T>(items: T[], key: (item: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = groups.get(k);
    if (list) list.push(item);
    else groups.set(k, [item]);
  }
  return groups;
};

function runRow(r: RunResult, ref: Reference | null): Record<string, unknown> {
  return {
    sweep: r.sweep, problem: r.problemLabel, layers: r.layers, types: r.types, microBatches: r.microBatches,
    budget: r.budget, budgetLabel: r.budgetLabel, method: r.method, seed: r.seed,
    feasible: r.feasible, stepMs: r.stepMs, pricePerHour: r.pricePerHour, costPerStep: r.costPerStep,
    timedOut: r.timedOut === true, provenOptimal: r.provenOptimal, evaluations: r.evaluations, maxEvaluations: r.method === 'exact' ? null : r.maxEvaluations,
    exactTimeLimitS: r.method === 'exact' ? r.exactTimeLimitS : null, seconds: r.seconds,
    stages: r.stages.length, units: r.stages.reduce((s, x) => s + x.replicas, 0),
    referenceStepMs: ref?.stepMs ?? null, referenceKind: ref?.kind ?? null,
    ratioToReference: ref && r.feasible ? r.stepMs / ref.stepMs : null,
  };
}

function machineNote(results: RunResult[]): Record<string, unknown> {
  const nices = [...new Set(results.map((r) => r.machine?.nice).filter((n) => n !== undefined))];
  const loads = results.map((r) => r.machine?.load1).filter((n): n is number => typeof n === 'number');
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    shared: true,
    note: 'timings (seconds) are wall-clock on a shared machine with other engineers working on it; they are indicative, not benchmarks',
    niceValues: nices,
    loadAverage1mWhileRunning: loads.length ? { min: Math.min(...loads), mean: mean(loads), max: Math.max(...loads) } : null,
    loadAverageAtReport: loadavg(),
    workers: [...new Set(results.map((r) => r.machine?.workers).filter((n) => n !== undefined))],
  };
}

/** One line on how the timings were taken, from what the runs recorded. */
function machineLine(results: RunResult[]): string {
  const m = machineNote(results) as { cores: number; niceValues: number[]; workers: number[]; loadAverage1mWhileRunning: { min: number; max: number } | null };
  const load = m.loadAverage1mWhileRunning;
  return `Timings: ${m.cores}-core shared machine, ${m.workers.join('/') || '?'} worker thread(s) at once, nice ${m.niceValues.join('/') || '?'}${load ? `, 1-min load average ${load.min.toFixed(1)}–${load.max.toFixed(1)} while running` : ''}.`;
}

export interface SweepReport {
  sweep: SweepKind;
  /** Markdown for the results README. */
  markdown: string;
  /** Markdown for the project README (headline), when this sweep has one. */
  headline?: string;
}

// ---------------------------------------------------------------- budget

async function budgetReport(ctx: ReportContext, results: RunResult[]): Promise<SweepReport> {
  const { resultsDir, config } = ctx;
  const methods = methodOrder(config, results);
  const rows: Array<Record<string, unknown>> = [];
  const problems = [...groupBy(results, (r) => r.problemLabel).entries()];
  const summary: Record<string, unknown>[] = [];
  const sections: string[] = [];
  const headlineRatios = new Map<string, Map<string, number[]>>(); // problem -> method -> ratios
  const feasibleCounts = new Map<string, Map<string, [number, number]>>();
  const provenCounts = new Map<string, [number, number]>(); // problem -> [budgets with a proven optimum, budgets]
  for (const [problem, runs] of problems) {
    const budgets = [...groupBy(runs, (r) => r.id.split('/').slice(0, 2).join('/')).values()].sort(
      (a, b) => (a[0].budget ?? Infinity) - (b[0].budget ?? Infinity),
    );
    const ratios = new Map<string, number[]>();
    const counts = new Map<string, [number, number]>();
    const tableRows: string[][] = [];
    const references: Record<string, unknown>[] = [];
    for (const group of budgets) {
      // For the time objective a placement found at a smaller budget fits every larger one.
      const budget = group[0].budget ?? Infinity;
      const ref = referenceOf(group, runs.filter((r) => r.feasible && r.pricePerHour <= budget && !group.includes(r)));
      const proven = provenCounts.get(problem) ?? [0, 0];
      provenCounts.set(problem, [proven[0] + (ref?.kind === 'optimum' ? 1 : 0), proven[1] + 1]);
      references.push({ budget: group[0].budget, budgetLabel: group[0].budgetLabel, ...ref });
      for (const r of group) rows.push(runRow(r, ref));
      const cells = methods.map((m) => {
        const r = group.find((x) => x.method === m);
        const c = counts.get(m) ?? [0, 0];
        counts.set(m, c);
        if (!r) return '–';
        c[1]++;
        if (r.timedOut) return `timeout (> ${r.runTimeLimitS} s)`;
        if (!r.feasible) return 'infeasible';
        c[0]++;
        if (ref) ratios.set(m, [...(ratios.get(m) ?? []), r.stepMs / ref.stepMs]);
        return `${fmt(r.stepMs)}${m === 'exact' && r.provenOptimal ? '*' : ''}`;
      });
      tableRows.push([
        `${money(group[0].budget)} (${group[0].budgetLabel})`,
        ...cells,
        ref ? `${ref.kind}${ref.note ? ` (${ref.note})` : ''}` : 'none feasible',
      ]);
    }
    headlineRatios.set(problem, ratios);
    feasibleCounts.set(problem, counts);
    const points = runs
      .filter((r) => r.feasible)
      .map((r) => ({ pricePerHour: r.pricePerHour, stepMs: r.stepMs, method: r.method, budget: r.budget, budgetLabel: r.budgetLabel }));
    const front = paretoFront(points);
    summary.push({ problem, layers: runs[0].layers, types: runs[0].types, references, paretoFront: front });
    const file = `budget-${problem}.svg`;
    await writeSvg(join(resultsDir, file), budgetPlot(problem, runs.filter((r) => r.budget !== null && r.feasible), front));
    sections.push(
      [
        `### ${problem} (${runs[0].layers} layers, ${runs[0].types} types)`,
        '',
        `![${problem}: step time against budget, and the Pareto front](${file})`,
        '',
        'Step ms of the placement each method found at each budget ($/h). `*` = exact proved it optimal.',
        '',
        markdownTable(['budget $/h', ...methods, 'reference'], tableRows, ['---', ...methods.map(() => '---:'), '---']),
        '',
        `Pareto front (all methods, all budgets; price $/h → step ms): ${front.map((p) => `${fmt(p.pricePerHour, 3)} → ${fmt(p.stepMs)} (${p.method})`).join('; ')}`,
      ].join('\n'),
    );
  }
  writeFileAtomic(join(resultsDir, 'budget.csv'), toCsv(rows));
  const headerRows = [...headlineRatios.entries()].map(([problem, ratios]) => [
    problem,
    ...methods.map((m) => {
      const rs = ratios.get(m) ?? [];
      const [ok, n] = feasibleCounts.get(problem)?.get(m) ?? [0, 0];
      return n ? `${fmt(geometricMean(rs), 3)} (${ok}/${n})` : '–';
    }),
    `${provenCounts.get(problem)?.[0] ?? 0}/${provenCounts.get(problem)?.[1] ?? 0}`,
  ]);
  const headlineTable = markdownTable(['problem', ...methods, 'optimum proven'], headerRows);
  const unproven = [...provenCounts.values()].reduce((n, [p, all]) => n + all - p, 0);
  const meta = metaOf(ctx, results);
  writeJsonAtomic(join(resultsDir, 'budget.json'), { ...meta, problems: summary, runs: rows });
  const intro = [
    `Objective: fastest step within the budget. Budgets per problem: ${'budgetPoints' in config ? config.budgetPoints : '?'} points spaced geometrically from the cheapest feasible placement's price to the price of every unit, the problem's bundled budget, and unconstrained (not plotted).`,
    `Sampling methods get ${config.maxEvaluations.toLocaleString('en-US')} simulator evaluations each (seed ${config.seeds[0]}); exact gets ${config.exactTimeLimitS} s of wall clock. Any run still going after ${config.runTimeLimitS} s is stopped and shown as a timeout.`,
    'The reference at a budget is the proven optimum when exact finished, else the best step of any placement found in the sweep (any method, any budget) whose price fits this budget (the table says which).',
    machineLine(results),
  ].join(' ');
  const markdown = [
    '## Budget sweep (`npm run exp:budget`)',
    '',
    intro,
    '',
    'Step time ÷ reference, geometric mean over the budgets where the method found a feasible placement (feasible budgets / budgets). "optimum proven": budgets where exact proved the optimum; at the others the reference is the best step of any placement found that fits the budget, so a ratio there is against a number not proven optimal (and exact itself can score above 1):',
    '',
    headlineTable,
    '',
    'Median search seconds over the budgets (wall clock; see the timing note):',
    '',
    markdownTable(['problem', ...methods], problems.map(([problem, runs]) => [problem, ...methods.map((m) => {
      const xs = runs.filter((r) => r.method === m).map((r) => r.seconds).sort((a, b) => a - b);
      return xs.length ? seconds(xs[Math.floor(xs.length / 2)]) : '–';
    })])),
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
  const headlineProblem = problems.some(([p]) => p === 'bert-base') ? 'bert-base' : problems[0]?.[0];
  const headline = headlineProblem
    ? [
        `![${headlineProblem}: step time against budget per method, and the Pareto front of step time against price](experiments/results/${ctx.quick ? 'quick/' : ''}budget-${headlineProblem}.svg)`,
        '',
        `Step time ÷ reference, geometric mean over each problem's budgets (${'budgetPoints' in config ? config.budgetPoints : ''} from the cheapest feasible to the price of every unit, its bundled budget, unconstrained) (in brackets: budgets where the method found a feasible placement). ${config.maxEvaluations.toLocaleString('en-US')} simulator evaluations per sampling method (seed ${config.seeds[0]}); exact limited to ${config.exactTimeLimitS} s. The reference is the optimum exact proved, or where it did not finish (${unproven} budgets in all, see "optimum proven") the best step of any placement found that fits the budget. Step times are simulator numbers; search seconds are in the results README.`,
        '',
        headlineTable,
      ].join('\n')
    : undefined;
  return { sweep: 'budget', markdown, headline };
}

function budgetPlot(problem: string, runs: RunResult[], front: Array<{ pricePerHour: number; stepMs: number }>): TopLevelSpec {
  const values = runs.map((r) => ({ method: r.method, budget: r.budget, stepMs: r.stepMs, pricePerHour: r.pricePerHour }));
  const log = { type: 'log' as const };
  return {
    title: `${problem}: fastest step within a budget`,
    hconcat: [
      {
        width: 320,
        height: 260,
        title: 'step time against budget',
        data: { values },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'budget', type: 'quantitative', scale: log, title: 'budget ($/h)' },
          y: { field: 'stepMs', type: 'quantitative', scale: log, title: 'step (ms)' },
          color: { field: 'method', type: 'nominal' },
          strokeDash: { field: 'method', type: 'nominal' },
        },
      },
      {
        width: 320,
        height: 260,
        title: 'Pareto front: step time against price',
        layer: [
          {
            data: { values },
            mark: { type: 'point', opacity: 0.6 },
            encoding: {
              x: { field: 'pricePerHour', type: 'quantitative', scale: log, title: 'price of the placement ($/h)' },
              y: { field: 'stepMs', type: 'quantitative', scale: log, title: 'step (ms)' },
              color: { field: 'method', type: 'nominal' },
              shape: { field: 'method', type: 'nominal' },
            },
          },
          {
            data: { values: front.map((p) => ({ pricePerHour: p.pricePerHour, stepMs: p.stepMs })) },
            mark: { type: 'line', interpolate: 'step-after', color: 'black', strokeWidth: 1.5 },
            encoding: {
              x: { field: 'pricePerHour', type: 'quantitative', scale: log },
              y: { field: 'stepMs', type: 'quantitative', scale: log },
            },
          },
        ],
      },
    ],
  } as TopLevelSpec;
}

// ---------------------------------------------------------------- scaling

async function scalingReport(ctx: ReportContext, results: RunResult[]): Promise<SweepReport> {
  const { resultsDir, config } = ctx;
  const methods = methodOrder(config, results);
  const rows: Array<Record<string, unknown>> = [];
  const tableRows: string[][] = [];
  const plotValues: Array<Record<string, unknown>> = [];
  const groups = [...groupBy(results, (r) => r.problemLabel).values()].sort((a, b) => a[0].layers - b[0].layers || a[0].types - b[0].types);
  for (const group of groups) {
    const ref = referenceOf(group);
    for (const r of group) {
      rows.push(runRow(r, ref));
      plotValues.push({
        method: r.method, layers: r.layers, types: `${r.types} types`, seconds: Math.max(r.seconds, 1e-3),
        ratio: ref && r.feasible ? r.stepMs / ref.stepMs : null,
      });
    }
    const exact = group.find((r) => r.method === 'exact');
    tableRows.push([
      `${group[0].layers}`,
      `${group[0].types}`,
      ...methods.map((m) => {
        const r = group.find((x) => x.method === m);
        if (!r) return '–';
        const ratio = r.timedOut ? `timeout (> ${r.runTimeLimitS} s)` : !r.feasible ? 'infeasible' : ref ? fmt(r.stepMs / ref.stepMs, 3) : '–';
        return r.timedOut ? ratio : `${ratio} (${seconds(r.seconds)} s)`;
      }),
      ref ? (ref.kind === 'optimum' ? `optimum (exact, ${seconds(exact!.seconds)} s)` : `**best known** (${ref.note})`) : 'none feasible',
    ]);
  }
  writeFileAtomic(join(resultsDir, 'scaling.csv'), toCsv(rows));
  writeJsonAtomic(join(resultsDir, 'scaling.json'), { ...metaOf(ctx, results), runs: rows });
  const log = { type: 'log' as const };
  const facet = (field: string, title: string, scaleY: boolean): TopLevelSpec =>
    ({
      title,
      data: { values: plotValues.filter((v) => v[field] !== null) },
      facet: { column: { field: 'types', type: 'nominal', title: null } },
      spec: {
        width: 200,
        height: 200,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'layers', type: 'quantitative', scale: log, title: 'layers' },
          y: { field, type: 'quantitative', ...(scaleY ? { scale: log } : { scale: { zero: false } }), title: field === 'seconds' ? 'search seconds' : 'step ÷ reference' },
          color: { field: 'method', type: 'nominal' },
          strokeDash: { field: 'method', type: 'nominal' },
        },
      },
    }) as TopLevelSpec;
  await writeSvg(join(resultsDir, 'scaling-seconds.svg'), facet('seconds', 'Search seconds against chain length (wall clock, shared machine)', true));
  await writeSvg(join(resultsDir, 'scaling-ratio.svg'), facet('ratio', 'Step time ÷ reference (optimum, or best known where exact did not finish)', false));
  const scalingConfig = config as Extract<SweepConfig, { sweep: 'scaling' }>;
  // The gap of every answer, against the lower bounds exp:bounds proved (if it has run).
  const gaps = readGapFile(resultsDir);
  const markdown = [
    '## Scaling sweep (`npm run exp:scaling`)',
    '',
    `Synthetic chains (profiles/synthetic.ts, problem seed ${scalingConfig.problemSeed}) of ${scalingConfig.layers.join(', ')} layers × ${scalingConfig.types.join(', ')} types; budget at position ${scalingConfig.budgetPosition} between the cheapest feasible price (0) and the price of every unit (1), geometrically. Sampling methods get ${config.maxEvaluations.toLocaleString('en-US')} simulator evaluations (seed ${config.seeds[0]}); exact gets ${config.exactTimeLimitS} s; any run still going after ${config.runTimeLimitS} s is stopped (timeout). ${machineLine(results)}`,
    '',
    `The synthetic generator (profiles/synthetic.ts) has ${maxSyntheticTypes()} hardware archetypes, so a chain has at most ${maxSyntheticTypes()} types; the config check rejects more with the generator's message.`,
    '',
    'Cells: step time ÷ reference (search seconds). The reference is the optimum exact proved; where exact did not finish within its limit the reference is the **best known** step (the best any method found, exact\'s incumbent included), so ratios there are ≥ 1 against a number that is not proven optimal.',
    '',
    markdownTable(['layers', 'types', ...methods, 'reference'], tableRows, ['---:', '---:', ...methods.map(() => '---:'), '---']),
    '',
    'How far each answer can be from the optimum (a proven lower bound per cell, and every method\'s gap against it): [scaling-bounds.md](scaling-bounds.md), written by `npm run exp:bounds` from this sweep\'s results.',
    '',
    ...(gaps ? [withGapBlock('', gapTableMarkdown(gaps)).trim(), ''] : []),
    '![search seconds against layers](scaling-seconds.svg)',
    '',
    '![ratio to reference against layers](scaling-ratio.svg)',
  ].join('\n');
  return { sweep: 'scaling', markdown };
}

// ---------------------------------------------------------------- seeds

async function seedsReport(ctx: ReportContext, results: RunResult[]): Promise<SweepReport> {
  const { resultsDir, config } = ctx;
  const methods = methodOrder(config, results).filter((m) => m !== 'exact');
  const rows: Array<Record<string, unknown>> = [];
  const tableRows: string[][] = [];
  const plotValues: Array<Record<string, unknown>> = [];
  const stats: Array<Record<string, unknown>> = [];
  for (const [problem, group] of groupBy(results, (r) => r.problemLabel)) {
    const ref = referenceOf(group);
    for (const r of group) rows.push(runRow(r, ref));
    for (const m of methods) {
      const runs = group.filter((r) => r.method === m);
      if (runs.length === 0) continue;
      const feasible = runs.filter((r) => r.feasible).map((r) => r.stepMs);
      const ratios = ref ? feasible.map((x) => x / ref.stepMs) : [];
      for (const r of runs) if (r.feasible && ref) plotValues.push({ problem, method: m, seed: r.seed, ratio: r.stepMs / ref.stepMs });
      const s = {
        problem, method: m, seeds: runs.length, feasible: feasible.length, timeouts: runs.filter((r) => r.timedOut).length,
        meanStepMs: feasible.length ? mean(feasible) : null, stdStepMs: feasible.length ? std(feasible) : null,
        minStepMs: feasible.length ? Math.min(...feasible) : null, maxStepMs: feasible.length ? Math.max(...feasible) : null,
        meanRatio: ratios.length ? mean(ratios) : null, worstRatio: ratios.length ? Math.max(...ratios) : null,
        referenceKind: ref?.kind ?? null,
      };
      stats.push(s);
      const cv = s.meanStepMs && s.stdStepMs !== null ? (100 * s.stdStepMs) / s.meanStepMs : null;
      tableRows.push([
        problem, m, `${s.feasible}/${s.seeds}${s.timeouts ? ` (${s.timeouts} timed out > ${runs[0].runTimeLimitS} s)` : ''}`, fmt(s.meanStepMs), fmt(s.stdStepMs, 3), cv === null ? '–' : `${cv.toFixed(1)}%`,
        fmt(s.minStepMs), fmt(s.maxStepMs), fmt(s.meanRatio, 3), fmt(s.worstRatio, 3), ref ? `${fmt(ref.stepMs)} (${ref.kind})` : 'none feasible',
      ]);
    }
  }
  writeFileAtomic(join(resultsDir, 'seeds.csv'), toCsv(rows));
  writeJsonAtomic(join(resultsDir, 'seeds.json'), { ...metaOf(ctx, results), stats, runs: rows });
  await writeSvg(join(resultsDir, 'seeds.svg'), {
    title: 'Spread over seeds: step time ÷ reference (1 = optimum)',
    data: { values: plotValues },
    facet: { column: { field: 'problem', type: 'nominal', title: null } },
    spec: {
      width: 90,
      height: 220,
      mark: { type: 'tick', thickness: 2 },
      encoding: {
        x: { field: 'method', type: 'nominal', title: null },
        y: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'step ÷ reference' },
        color: { field: 'method', type: 'nominal' },
      },
    },
  } as TopLevelSpec);
  const markdown = [
    '## Seed sweep (`npm run exp:seeds`)',
    '',
    `Each bundled problem at its own budget (problem.json), seeds ${config.seeds.join(', ')}; ${config.maxEvaluations.toLocaleString('en-US')} simulator evaluations per run; reference = exact's optimum (${config.exactTimeLimitS} s limit; "best known" where it did not finish); runs past ${config.runTimeLimitS} s are stopped (timeout). Only seeded methods are listed (greedy and exact are deterministic). ${machineLine(results)}`,
    '',
    markdownTable(['problem', 'method', 'feasible', 'mean ms', 'std ms', 'cv', 'min ms', 'max ms', 'mean ÷ ref', 'worst ÷ ref', 'reference ms'], tableRows, ['---', '---', ...Array(9).fill('---:')]),
    '',
    '![spread over seeds](seeds.svg)',
  ].join('\n');
  return { sweep: 'seeds', markdown };
}

// ---------------------------------------------------------------- common

function metaOf(ctx: ReportContext, results: RunResult[]): Record<string, unknown> {
  const done = new Set(results.map((r) => r.id));
  const missing = ctx.expected.filter((r) => !done.has(r.id)).map((r) => r.id);
  return {
    sweep: ctx.config.sweep,
    quick: ctx.quick,
    config: ctx.config,
    configFile: relative(join(ctx.resultsDir, '..', '..'), ctx.configFile) || ctx.configFile,
    runsExpected: ctx.expected.length,
    runsPresent: results.length,
    missingRuns: missing,
    machine: machineNote(results),
    generatedAt: new Date().toISOString(),
  };
}

export async function reportSweep(ctx: ReportContext): Promise<SweepReport> {
  const expected = new Map(ctx.expected.map((r) => [r.id, r]));
  // Only the runs of the current config and problem data (a stale run file is ignored, and redone by the next sweep).
  const results = readRunResults(ctx.runsDir, ctx.config.sweep).filter((r) => expected.has(r.id) && sameRun(r, expected.get(r.id)!));
  const report =
    ctx.config.sweep === 'budget' ? await budgetReport(ctx, results)
    : ctx.config.sweep === 'scaling' ? await scalingReport(ctx, results)
    : await seedsReport(ctx, results);
  const missing = ctx.expected.length - results.length;
  const present = new Set(results.map((r) => r.id));
  const missingByMethod = new Map<string, number>();
  for (const run of ctx.expected) if (!present.has(run.id)) missingByMethod.set(run.method, (missingByMethod.get(run.method) ?? 0) + 1);
  const status = missing
    ? `**Incomplete: ${results.length} of ${ctx.expected.length} runs present**; missing: ${[...missingByMethod].map(([m, n]) => `${n} ${m}`).join(', ')}. ` +
      `\`npm run exp:${ctx.config.sweep}${ctx.quick ? ' -- --quick' : ''}\` runs only the missing ones (or merge the other shards).`
    : `Complete: all ${ctx.expected.length} runs.`;
  const [heading, ...body] = report.markdown.split('\n');
  const markdown = [heading, '', status, ...body].join('\n');
  writeFileAtomic(join(ctx.resultsDir, `${ctx.config.sweep}.md`), `${markdown}\n`);
  return { ...report, markdown };
}
