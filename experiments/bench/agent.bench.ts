/**
 * Agent benchmark, two parts (results in experiments/results/agent-bench.md/.json, plot agent-bench.svg):
 *
 * 1. Policy alone: `reinforce` (no exact solver, no heuristic start) with a
 *    wall-time limit, as `placer train --decoder none --time-limit T` runs it,
 *    on bundled problems, several seeds; ratio = objective / proven optimum
 *    (the exact searcher, run here), and the seconds to come within 1 %.
 * 2. Hybrid: `reinforce-dp` (`placer train --decoder dp --time-limit T`,
 *    `--only hybrid --time 10`) on the same problems and seeds, same columns:
 *    issue 10's target is 1 % of the optimum within 10 s.
 * 3. Ablation at equal evaluations (exact labels counted) on synthetic chains
 *    (profiles/synthetic.ts): full (`reinforce-dp`), frozen (learning rate 0),
 *    uniform proposals (no policy), window mode (opt-in), decode only (one batch, then exact decodes),
 *    policy alone (`reinforce`), and genetic, anneal, greedy and the exact
 *    searcher's incumbent (labels counted); then the same arms
 *    at equal wall time (the seconds full used). Ratio = objective / the best
 *    any arm found on that problem (the optimum is not known at this size).
 *
 *   npm run bench:agent                       (full: ~30 min on 2 idle cores)
 *   npm run bench:agent -- --quick            (smoke: small, ~3 min; printed only)
 * Each run writes experiments/results/agent-bench-parts/<--tag>.json (default
 * main), then the report from every part: parts can run side by side, e.g.
 *   npm run bench:agent -- --only policy --problems toy,ctr --tag policy-a
 *   npm run bench:agent -- --only hybrid --time 10 --problems toy,ctr --tag hybrid-a
 *   npm run bench:agent -- --only report
 *   npm run bench:agent -- --seeds 5 --time 60 --problems toy,ctr --sizes 300,1000 --evaluations 200000
 *   npm run bench:agent -- --only ablation --sizes 300 --budgets evaluations   (no equal-time arms)
 *   npm run bench:agent -- --only ablation --sizes 1000 --arms full,frozen,uniform   (some arms only)
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import { bundledProblem, PACKAGE_ROOT } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import { DEFAULT_SETTINGS, type Problem, type Settings } from '../../env/problem.js';
import { selectBackend } from '../../agent/backend.js';
import { exactSearcher } from '../../agent/exact.js';
import { reinforceSearcher, withLearningRate, DEFAULT_REINFORCE_CONFIG } from '../../agent/reinforce.js';
import type { SearchOptions, SearchResult, Searcher } from '../../agent/searcher.js';
import { searcherByName } from '../../agent/searchers.js';
import { syntheticProblem } from '../../profiles/synthetic.js';
import { writeSvg } from '../plot.js';
import { budgetRange } from '../runs.js';
import { newestRows } from './newest-rows.js';

function flag(args: string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface PolicyAloneRow {
  /** The wall-time limit of the run (absent in parts written before the hybrid part existed). */
  timeLimitS?: number;
  problem: string;
  layers: number;
  types: number;
  seed: number;
  optimum: number;
  ratio: number | null;
  feasible: boolean;
  seconds: number;
  cpuSeconds: number;
  evaluations: number;
  secondsTo1pct: number | null;
  /**
   * An upper bound on the CPU seconds to 1 %: this process's CPU seconds at the first progress report within 1 %
   * (every 1,000 evaluations), or at the end of the run when none came after (absent in older parts).
   */
  cpuSecondsTo1pct?: number | null;
}

interface AblationRow {
  problem: string;
  seed: number;
  budget: 'evaluations' | 'time';
  arm: string;
  objective: number | null;
  feasible: boolean;
  evaluations: number;
  seconds: number;
  ratio?: number | null;
}

/** The arms of the ablation, by name. */
const ARMS: Record<string, () => Searcher> = {
  full: () => reinforceSearcher({ decoder: 'dp' }),
  frozen: () => reinforceSearcher(withLearningRate({ ...DEFAULT_REINFORCE_CONFIG, decoder: 'dp' }, 0)),
  uniform: () => reinforceSearcher({ decoder: 'dp', uniformProposals: true }),
  // reinforce-dp in window mode (opt-in, `lnsLayers`): the policy re-draws windows of the best placement.
  window: () => reinforceSearcher({ decoder: 'dp', lnsLayers: 200 }),
  'decode-only': () => decodeOnly(),
  'policy-alone': () => reinforceSearcher({ decoder: 'none' }),
  genetic: () => searcherByName('genetic'),
  anneal: () => searcherByName('anneal'),
  greedy: () => searcherByName('greedy'),
  // The exact searcher's incumbent: its labels count as evaluations (beam warm start, then the DP, cut by the cap);
  // at equal time it runs with the time limit alone (the budget DP first, agent/exact.ts).
  exact: () => searcherByName('exact'),
};

/** One batch of the fresh policy, then every remaining evaluation on exact window decodes. */
function decodeOnly(): Searcher {
  const inner = reinforceSearcher({ decoder: 'dp', refinePasses: 1_000_000, decodeShare: 0.99 });
  return { name: 'decode-only', search: (p: Problem, s: Settings, o: SearchOptions) => inner.search(p, s, { ...o, iterations: 1 } as SearchOptions) };
}

function loadBundled(name: string): { problem: Problem; settings: Settings } {
  const { files, defaults } = bundledProblem(name);
  return { problem: loadProblem(files), settings: { ...DEFAULT_SETTINGS, ...defaults } as Settings };
}

/**
 * Runs the agent with `decoder` under a wall-time limit on bundled problems:
 * ratio to the proven optimum, CPU seconds, and the seconds (wall and CPU) until its best came within 1 %.
 */
async function timedToOptimum(decoder: 'none' | 'dp', problems: string[], seeds: number[], timeS: number): Promise<PolicyAloneRow[]> {
  const label = decoder === 'none' ? 'policy alone' : 'hybrid';
  const rows: PolicyAloneRow[] = [];
  for (const name of problems) {
    const { problem, settings } = loadBundled(name);
    const exact = await exactSearcher.search(problem, settings, { seed: 1 });
    for (const seed of seeds) {
      const cpu = cpuSeconds();
      let cpuTo1pct: number | null = null;
      const onProgress = (p: { bestObjective: number }) => {
        if (cpuTo1pct === null && p.bestObjective <= exact.objective * 1.01) cpuTo1pct = cpuSeconds() - cpu;
      };
      const result = await reinforceSearcher({ decoder }).search(problem, settings, { seed, timeLimitS: timeS, onProgress });
      const within = result.trace.find((p) => p.bestObjective <= exact.objective * 1.01);
      const row: PolicyAloneRow = {
        timeLimitS: timeS,
        problem: name, layers: problem.layers.length, types: problem.types.length, seed,
        optimum: exact.objective,
        ratio: result.feasible ? result.objective / exact.objective : null,
        feasible: result.feasible,
        seconds: result.seconds,
        cpuSeconds: cpuSeconds() - cpu,
        evaluations: result.evaluations,
        secondsTo1pct: within ? within.seconds : null,
        cpuSecondsTo1pct: within ? (cpuTo1pct ?? cpuSeconds() - cpu) : null,
      };
      rows.push(row);
      process.stderr.write(`${label} ${name} seed ${seed}: ratio ${row.ratio?.toFixed(4) ?? 'inf.'} in ${row.seconds.toFixed(1)} s (1 %: ${row.secondsTo1pct?.toFixed(1) ?? '-'} s)\n`);
    }
  }
  return rows;
}

async function ablation(sizes: number[], seeds: number[], evaluations: number, budgets: Array<'evaluations' | 'time'>, only: string[] | null): Promise<AblationRow[]> {
  const rows: AblationRow[] = [];
  for (const layers of sizes) {
    const problem = syntheticProblem({ layers, types: 8, seed: layers });
    // As the scaling sweep (experiments/configs/scaling.json): 8 micro-batches, the budget halfway (geometrically)
    // between the cheapest feasible price and the price of every unit.
    const range = budgetRange(problem, 8);
    if (!range) throw new Error(`synthetic ${layers}x8: nothing fits memory and counts`);
    const settings: Settings = { ...DEFAULT_SETTINGS, microBatches: 8, budget: Math.sqrt(range.cheapest * range.allUnits) };
    const name = `synthetic-${layers}x8`;
    for (const seed of seeds) {
      let fullSeconds = 0;
      for (const budget of budgets) {
        for (const [arm, make] of Object.entries(ARMS)) {
          if (only && !only.includes(arm)) continue;
          const options: SearchOptions = budget === 'evaluations' ? { seed, maxEvaluations: evaluations } : { seed, timeLimitS: Math.max(1, fullSeconds) };
          const result: SearchResult = await make().search(problem, settings, options);
          if (budget === 'evaluations' && arm === 'full') fullSeconds = result.seconds;
          rows.push({
            problem: name, seed, budget, arm,
            objective: result.feasible ? result.objective : null,
            feasible: result.feasible, evaluations: result.evaluations, seconds: result.seconds,
          });
          process.stderr.write(`ablation ${name} seed ${seed} ${budget} ${arm}: ${result.feasible ? result.objective.toFixed(3) : 'infeasible'} (${result.evaluations} evaluations, ${result.seconds.toFixed(1)} s)\n`);
        }
      }
    }
  }
  // Ratio to the best any arm found on the problem.
  for (const row of rows) {
    const best = Math.min(...rows.filter((r) => r.problem === row.problem && r.objective !== null).map((r) => r.objective!));
    row.ratio = row.objective !== null ? row.objective / best : null;
  }
  return rows;
}

const f4 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'inf.' : x.toFixed(4));

function geomean(values: Array<number | null | undefined>): number | null {
  const finite = values.filter((v): v is number => typeof v === 'number');
  if (values.length === 0 || finite.length < values.length) return null;
  return Math.exp(finite.reduce((a, v) => a + Math.log(v), 0) / finite.length);
}

/**
 * One table of timed runs against the proven optimum: a row per problem, a column per seed, the worst ratio and
 * the median seconds to 1 %; `spread` adds the slowest seed's seconds to 1 % and the median CPU seconds of a run.
 */
function timedTable(title: string, rows: PolicyAloneRow[], spread: boolean): string[] {
  const seeds = [...new Set(rows.map((r) => r.seed))];
  const extra = spread ? ['1 % (s, slowest)', '1 % (CPU s, slowest, at most)', 'CPU s of a run (median)'] : [];
  const lines = [`## ${title}`, '',
    'Ratio = objective / proven optimum (exact searcher); "inf." = no feasible placement; blank = seed not run. 1 % = seconds until the best came within 1 % of the optimum ("-": never).', '',
    `| problem | L | K | optimum | ${seeds.map((s) => `seed ${s}`).join(' | ')} | worst | 1 % (s, median) |${extra.map((e) => ` ${e} |`).join('')}`,
    `|---|---|---|---|${seeds.map(() => '---').join('|')}|---|---|${extra.map(() => '---|').join('')}`];
  const median = (values: number[]) => values[Math.floor(values.length / 2)];
  for (const name of [...new Set(rows.map((r) => r.problem))]) {
    const group = rows.filter((r) => r.problem === name);
    const ratios = group.map((r) => r.ratio);
    const worst = ratios.some((r) => r === null) ? null : Math.max(...(ratios as number[]));
    const times = group.map((r) => r.secondsTo1pct).filter((t): t is number => t !== null).sort((a, b) => a - b);
    const reached = times.length === group.length;
    const cells = [
      name, group[0].layers, group[0].types, group[0].optimum.toPrecision(6),
      ...seeds.map((seed) => { const r = group.find((g) => g.seed === seed); return r ? f4(r.ratio) : ' '; }),
      f4(worst), reached ? median(times).toFixed(1) : `${times.length}/${group.length} reached`,
      ...(spread ? [reached ? times[times.length - 1].toFixed(1) : '-',
        reached ? Math.max(...group.map((r) => r.cpuSecondsTo1pct ?? NaN)).toFixed(1) : '-', median(group.map((r) => r.cpuSeconds).sort((a, b) => a - b)).toFixed(1)] : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('');
  return lines;
}

function markdown(policy: PolicyAloneRow[], abl: AblationRow[], metas: Array<Record<string, unknown>>, hybrid: PolicyAloneRow[] = []): string {
  const lines: string[] = ['# Agent benchmark', ''];
  for (const meta of metas) {
    lines.push(`- \`${meta.command}\`: ${meta.cores} cores, shared; load average ${meta.loadStart} at the start, ${meta.loadEnd} at the end; tfjs backend ${meta.backend}.`);
  }
  lines.push('');
  const time = metas.find((m) => m.time !== undefined)?.time;
  const evaluations = metas.find((m) => m.evaluations !== undefined)?.evaluations;
  const meta = { time, evaluations };
  if (policy.length > 0) lines.push(...timedTable(`Policy alone (\`placer train --decoder none --time-limit ${meta.time}\`)`, policy, false));
  if (hybrid.length > 0) {
    const limits = [...new Set(hybrid.map((r) => r.timeLimitS))].join(', ');
    lines.push(...timedTable(`Hybrid (\`placer train --decoder dp --time-limit ${limits}\`)`, hybrid, true));
  }
  if (abl.length > 0) {
    const arms = Object.keys(ARMS);
    lines.push(`## Ablation at equal evaluations (${meta.evaluations}, exact labels counted) and at equal wall time`, '',
      'Synthetic chains × 8 types (profiles/synthetic.ts, problem seed = layers), 8 micro-batches, budget halfway between the cheapest feasible price and the price of every unit (as the scaling sweep). Geometric mean over seeds of objective / the best any arm found on that problem (1 = best). Equal time: every arm gets the seconds `full` took at equal evaluations.', '',
      `| problem | budget | ${arms.join(' | ')} |`, `|---|---|${arms.map(() => '---').join('|')}|`);
    for (const name of [...new Set(abl.map((r) => r.problem))]) {
      for (const budget of (['evaluations', 'time'] as const).filter((b) => abl.some((r) => r.problem === name && r.budget === b))) {
        const rowsOf = (arm: string) => abl.filter((r) => r.problem === name && r.budget === budget && r.arm === arm);
        const most = Math.max(...arms.map((arm) => rowsOf(arm).length));
        // '–': the arm was not run at this budget; a count in brackets: fewer seeds than the other arms.
        const cells = arms.map((arm) => {
          const rows = rowsOf(arm);
          if (rows.length === 0) return '–';
          return `${f4(geomean(rows.map((r) => r.ratio)))}${rows.length < most ? ` (seeds ${rows.map((r) => r.seed).join(', ')})` : ''}`;
        });
        lines.push(`| ${name} | ${budget} | ${cells.join(' | ')} |`);
      }
    }
    lines.push('', 'Per seed (objective / the best any arm found on the problem; –: not run):', '',
      `| problem | budget | seed | ${arms.join(' | ')} |`, `|---|---|---|${arms.map(() => '---').join('|')}|`);
    for (const name of [...new Set(abl.map((r) => r.problem))]) {
      for (const budget of ['evaluations', 'time'] as const) {
        const seeds = [...new Set(abl.filter((r) => r.problem === name && r.budget === budget).map((r) => r.seed))].sort((a, b) => a - b);
        for (const seed of seeds) {
          const cells = arms.map((arm) => {
            const row = abl.find((r) => r.problem === name && r.budget === budget && r.arm === arm && r.seed === seed);
            return row ? f4(row.ratio) : '–';
          });
          lines.push(`| ${name} | ${budget} | ${seed} | ${cells.join(' | ')} |`);
        }
      }
    }
    lines.push('', 'full = `reinforce-dp`; frozen = the same with `--learning-rate 0`; uniform = uniform proposals instead of the policy; window = `reinforce-dp` in window mode (`lnsLayers` 200: after one batch the policy re-draws windows of 5 % of the best placement; opt-in); decode-only = one batch of the fresh policy, then exact decodes only; policy-alone = `reinforce`; exact = the exact searcher cut by the same cap (its labels are its evaluations; at equal time it runs with the time limit alone, so it starts with the budget DP, whose work is not counted in evaluations).', '');
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const dir = join(PACKAGE_ROOT, 'experiments', 'results', 'agent-bench-parts');
  mkdirSync(dir, { recursive: true });
  const only = flag(args, 'only', 'both');
  if (only !== 'report') {
    const seeds = Array.from({ length: Number(flag(args, 'seeds', quick ? '2' : '5')) }, (_, i) => i + 1);
    const time = Number(flag(args, 'time', quick || only === 'hybrid' ? '10' : '60'));
    // The hybrid's limit: --time with --only hybrid, else --hybrid-time (issue 10's target: 1 % within 10 s).
    const hybridTime = only === 'hybrid' ? time : Number(flag(args, 'hybrid-time', '10'));
    const problems = flag(args, 'problems', quick ? 'toy,ctr,vgg16' : 'toy,local-mlp,local-cnn,synthetic-small,ctr,vgg16,bert-base,resnet50,synthetic-60,gpt2-medium').split(',').filter(Boolean);
    const sizes = flag(args, 'sizes', quick ? '300' : '300,1000').split(',').filter(Boolean).map(Number);
    const evaluations = Number(flag(args, 'evaluations', quick ? '20000' : '100000'));
    const tag = flag(args, 'tag', quick ? 'quick' : 'main');
    const backend = await selectBackend('auto');
    const loadStart = loadavg().map((x) => x.toFixed(2)).join(', ');
    const runs = (part: string) => only === 'both' || only === part;
    const policy = runs('policy') ? await timedToOptimum('none', problems, seeds, time) : [];
    const hybrid = runs('hybrid') ? await timedToOptimum('dp', problems, seeds, hybridTime) : [];
    // --budgets evaluations: the ablation at equal evaluations only (equal time re-runs every arm for full's seconds).
    const budgets = flag(args, 'budgets', 'evaluations,time').split(',').filter((b): b is 'evaluations' | 'time' => b === 'evaluations' || b === 'time');
    // --arms full,frozen,...: re-run some arms only (a part of its own; equal time needs `full`).
    const armList = flag(args, 'arms', '');
    const armsOnly = armList ? armList.split(',') : null;
    for (const arm of armsOnly ?? []) if (!(arm in ARMS)) throw new Error(`--arms: unknown arm ${arm} (${Object.keys(ARMS).join(', ')})`);
    const abl = runs('ablation') ? await ablation(sizes, quick ? [1] : seeds, evaluations, budgets, armsOnly) : [];
    const meta = {
      command: `npm run bench:agent -- ${args.join(' ')}`.trim(), cores: cpus().length, backend,
      ...(runs('policy') ? { time } : {}),
      ...(runs('hybrid') ? { hybridTime } : {}),
      ...(runs('ablation') ? { evaluations } : {}),
      loadStart, loadEnd: loadavg().map((x) => x.toFixed(2)).join(', '),
      generatedAt: new Date().toISOString(),
    };
    writeJsonAtomic(join(dir, `${tag}.json`), { meta, policyAlone: policy, ablation: abl, hybrid });
    if (quick) {
      process.stdout.write(markdown(policy, abl, [meta], hybrid) + '\n');
      return;
    }
  }
  // The report: every part run so far (experiments/results/agent-bench-parts/*.json, quick runs aside).
  // Oldest first (parts written before `generatedAt` existed count as oldest, in name order), so that a newer part's row
  // replaces an older one for the same problem, seed, budget and arm (a re-run arm supersedes, never averages in).
  const parts = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'quick.json').sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { meta: Record<string, unknown>; policyAlone: PolicyAloneRow[]; ablation: AblationRow[]; hybrid?: PolicyAloneRow[] })
    .map((part, order) => ({ part, order, at: String(part.meta.generatedAt ?? '') }))
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order))
    .map(({ part }) => part);
  const policy = parts.flatMap((p) => p.policyAlone);
  const abl = newestRows(parts.flatMap((p) => p.ablation), (r) => `${r.problem}|${r.seed}|${r.budget}|${r.arm}`);
  // Ratios against the best any merged row found on the problem (a part alone knows only its own arms' best).
  for (const row of abl) {
    const best = Math.min(...abl.filter((r) => r.problem === row.problem && r.objective !== null).map((r) => r.objective!));
    row.ratio = row.objective !== null ? row.objective / best : null;
  }
  const hybrid = parts.flatMap((p) => p.hybrid ?? []);
  const metas = parts.map((p) => p.meta);
  const results = join(PACKAGE_ROOT, 'experiments', 'results');
  writeJsonAtomic(join(results, 'agent-bench.json'), { runs: metas, policyAlone: policy, ablation: abl, hybrid });
  const md = markdown(policy, abl, metas, hybrid);
  writeFileAtomic(join(results, 'agent-bench.md'), md + '\n');
  if (policy.length > 0) await writeSvg(join(results, 'agent-bench.svg'), plotSpec(policy));
  updateReadme(join(PACKAGE_ROOT, 'README.md'), md);
  process.stdout.write(md + '\n');
}

/** Replaces the README's generated block (between the agent-bench markers) with the tables, headings one level down. */
function updateReadme(file: string, md: string): void {
  const start = '<!-- agent-bench:start -->';
  const end = '<!-- agent-bench:end -->';
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  const body = md.split('\n').filter((line) => !line.startsWith('# ')).map((line) => (line.startsWith('## ') ? `#### ${line.slice(3)}` : line)).join('\n').trim();
  writeFileAtomic(file, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
}

function plotSpec(rows: PolicyAloneRow[]): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Policy alone: objective / optimum per seed',
    data: { values: rows.map((r) => ({ problem: r.problem, seed: String(r.seed), ratio: r.ratio ?? null })) },
    mark: { type: 'point', filled: true },
    encoding: {
      x: { field: 'problem', type: 'nominal', sort: null },
      y: { field: 'ratio', type: 'quantitative', scale: { zero: false }, title: 'objective / optimum' },
      color: { field: 'seed', type: 'nominal' },
    },
    width: 480,
    height: 240,
  };
}

await main();
