/**
 * `npm run exp:transfer`: what a pretrained policy (default: the shipped
 * generalist, profiles/policies/generalist) is worth on problems it never saw.
 * Per problem, against the exact solver's reference (proven optimum where it
 * completes), at equal evaluations:
 *   zero-shot     the policy's mode and samples (some at higher temperatures),
 *                 each provisioned (agent/pretrain/zero-shot.ts);
 *   fine-tuned    the agent's RL (`reinforce`, agent/rl/trainer.ts) from the
 *                 pretrained policy, its zero-shot placement scored first and
 *                 its row in the elite, with the fine-tune's settings
 *                 (agent/pretrain/fine-tune.ts), capped at --evaluations (what
 *                 `placer place --fine-tune N --max-evaluations E` runs);
 *   from scratch  the agent's RL from a fresh policy at its defaults, same cap
 *                 (`placer train --max-evaluations E`);
 * and ablations of each part (see the results' header).
 * Problems: the bundled problems held out of pretraining (HELD_OUT_BUNDLED)
 * at their bundled settings, and --generated problems drawn from a stream no
 * pretraining run draws from ("transfer"): the held-out architectures on random
 * catalogues and unseen synthetic chains, constraints drawn as in pretraining.
 * Writes experiments/results/transfer.{json,md,svg} and the README table.
 *
 * Options: --policy DIR, --evaluations E (5000), --seeds 1,2,3,4,5, --generated N (8),
 * --reference-time S (exact solver's limit per problem, 30), --quick,
 * --report (rebuild the .md, plot and README table from transfer.json, running nothing).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic, writeJsonAtomic } from '../env/atomic-write.js';
import { PACKAGE_ROOT } from '../env/bundled.js';
import type { Problem, Settings } from '../env/problem.js';
import { selectBackend } from '../agent/backend.js';
import { exactSearcher } from '../agent/exact.js';
import { loadPolicy } from '../agent/policy-io.js';
import { DEFAULT_REINFORCE_CONFIG, ReinforceTrainer } from '../agent/reinforce.js';
import { drawProblem, HELD_OUT_ARCHITECTURES, HELD_OUT_BUNDLED } from '../agent/pretrain/distribution.js';
import { bundledAtDefaults } from '../agent/pretrain/held-out.js';
import { teach } from '../agent/pretrain/teacher.js';
import { DEFAULT_ZERO_SHOT_SHARE, FINE_TUNE_CONFIG, offerZeroShot } from '../agent/pretrain/fine-tune.js';
import { DEFAULT_SAMPLES, DEFAULT_TEMPERATURES, zeroShot } from '../agent/pretrain/zero-shot.js';
import { PolicyNetwork } from '../agent/policy.js';
import { writeSvg } from './plot.js';

const REAL_MODELS = new Set(['gpt2-medium', 'resnet50', 'local-mlp', 'local-cnn']);

interface Args {
  policy: string;
  evaluations: number;
  seeds: number[];
  generated: number;
  referenceTime: number;
  quick: boolean;
  /** Rebuild transfer.md, the plot and the README table from transfer.json, running nothing. */
  report: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { policy: join(PACKAGE_ROOT, 'profiles', 'policies', 'generalist'), evaluations: 5000, seeds: [1, 2, 3, 4, 5], generated: 8, referenceTime: 30, quick: false, report: false };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return v;
    };
    switch (argv[i]) {
      case '--policy': args.policy = value(); break;
      case '--evaluations': args.evaluations = Number(value()); break;
      case '--seeds': args.seeds = value().split(',').map(Number); break;
      case '--generated': args.generated = Number(value()); break;
      case '--reference-time': args.referenceTime = Number(value()); break;
      case '--quick': args.quick = true; break;
      case '--report': args.report = true; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  if (args.quick) Object.assign(args, { evaluations: 500, seeds: [1], generated: 1, referenceTime: 5 });
  return args;
}

type Arm =
  | 'zero-shot' | 'zero-shot, temperature 1 only' | 'zero-shot, mode only' | 'zero-shot, not provisioned' | 'untrained policy, zero-shot'
  | 'fine-tuned' | 'fine-tuned, zero-shot not in the elite' | 'from scratch' | 'from scratch, fine-tune settings';
const RL_ARMS = ['fine-tuned', 'fine-tuned, zero-shot not in the elite', 'from scratch', 'from scratch, fine-tune settings'] as const;

interface Case {
  name: string;
  kind: 'held-out bundled' | 'generated unseen';
  problem: Problem;
  settings: Settings;
  reference: number;
  proven: boolean;
}

export interface ArmRow {
  problem: string;
  kind: Case['kind'];
  realModel: boolean;
  layers: number;
  types: number;
  objective: Settings['objective'];
  reference: number;
  proven: boolean;
  arm: Arm;
  seed: number | null;
  value: number | null;
  ratio: number | null;
  feasible: boolean;
  evaluations: number;
  seconds: number;
  /** Improvements of the best (evaluations, objective), for the evaluations to within 1% of the reference. */
  trace: Array<[number, number]>;
  /** Evaluations until the best was within 1% of the reference (null: never). */
  to1pct: number | null;
}

async function cases(args: Args): Promise<Case[]> {
  const out: Case[] = [];
  const reference = async (problem: Problem, settings: Settings) => {
    const r = await exactSearcher.search(problem, settings, { timeLimitS: args.referenceTime, seed: 1 });
    return { reference: r.feasible ? r.objective : Infinity, proven: r.provenOptimal === true };
  };
  for (const name of args.quick ? ['toy'] : HELD_OUT_BUNDLED) {
    const { problem, settings } = bundledAtDefaults(name);
    out.push({ name, kind: 'held-out bundled', problem, settings, ...(await reference(problem, settings)) });
  }
  for (let i = 0, made = 0; made < args.generated && i < 10 * args.generated; i++) {
    const drawn = drawProblem('transfer', i, { architectures: HELD_OUT_ARCHITECTURES, maxLayers: args.quick ? 30 : 1000 });
    const lesson = await teach(drawn);
    if (lesson === null) continue;
    made++;
    const ref = await reference(drawn.problem, lesson.settings);
    out.push({ name: drawn.name, kind: 'generated unseen', problem: drawn.problem, settings: lesson.settings, ...ref });
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.report) {
    const results = join(PACKAGE_ROOT, 'experiments', 'results');
    const { meta, rows } = JSON.parse(readFileSync(join(results, 'transfer.json'), 'utf8')) as { meta: Meta; rows: ArmRow[] };
    const md = markdown(meta, rows);
    writeFileAtomic(join(results, 'transfer.md'), md + '\n');
    await writeSvg(join(results, 'transfer.svg'), plotSpec(rows));
    updateReadme(join(PACKAGE_ROOT, 'README.md'), md);
    process.stdout.write(md + '\n');
    return;
  }
  const backend = await selectBackend('auto', (line) => process.stderr.write(`${line}\n`));
  const load = [...readLoad()];
  const all = await cases(args);
  const rows: ArmRow[] = [];
  for (const c of all) {
    const base = {
      problem: c.name, kind: c.kind, realModel: REAL_MODELS.has(c.name), layers: c.problem.layers.length, types: c.problem.types.length,
      objective: c.settings.objective, reference: c.reference, proven: c.proven,
    };
    const { policy } = await loadPolicy(args.policy);
    const zeroRow = (arm: ArmRow['arm'], z: ReturnType<typeof zeroShot>): ArmRow => ({
      ...base, arm, seed: null, value: z.feasible ? z.objective : null, ratio: null, feasible: z.feasible, evaluations: z.evaluations, seconds: z.seconds,
      trace: z.feasible ? [[z.evaluations, z.objective]] : [], to1pct: null,
    });
    rows.push(zeroRow('zero-shot', zeroShot(policy, c.problem, c.settings)));
    // Ablations: every sample at temperature 1; the mode alone (no samples); the same decoding without provisioning; an untrained policy decoded alike (what pretraining adds).
    rows.push(zeroRow('zero-shot, temperature 1 only', zeroShot(policy, c.problem, c.settings, { temperatures: [1] })));
    rows.push(zeroRow('zero-shot, mode only', zeroShot(policy, c.problem, c.settings, { samples: 0 })));
    rows.push(zeroRow('zero-shot, not provisioned', zeroShot(policy, c.problem, c.settings, { provision: false })));
    policy.dispose();
    const untrained = PolicyNetwork.create(policy.config, 1);
    rows.push(zeroRow('untrained policy, zero-shot', zeroShot(untrained, c.problem, c.settings)));
    untrained.dispose();
    for (const seed of args.seeds) {
      for (const arm of RL_ARMS) {
        const fineTuned = arm !== 'from scratch' && arm !== 'from scratch, fine-tune settings';
        const pretrained = fineTuned ? (await loadPolicy(args.policy)).policy : undefined;
        const config = arm === 'from scratch' ? DEFAULT_REINFORCE_CONFIG : { ...DEFAULT_REINFORCE_CONFIG, ...FINE_TUNE_CONFIG };
        const trainer = new ReinforceTrainer(c.problem, c.settings, config, { seed, maxEvaluations: args.evaluations, policy: pretrained });
        // The zero-shot's improvements count where they happened (its evaluations come first).
        const before: Array<[number, number]> = [];
        if (arm === 'fine-tuned') before.push(...offerZeroShot(trainer, { seed }).trace);
        if (arm === 'fine-tuned, zero-shot not in the elite') {
          // Ablation: the zero-shot placement offered to the tracker only (no self-imitation of its row).
          const { tracker, sim } = trainer;
          const z = zeroShot(pretrained!, c.problem, c.settings, { seed, maxEvaluations: Math.max(1, Math.floor((args.evaluations - 1) * DEFAULT_ZERO_SHOT_SHARE)) });
          tracker.count(z.evaluations);
          sim.loadPlacement(z.placement);
          sim.score();
          tracker.count(1);
          tracker.offer(sim);
          before.push(...z.trace);
        }
        const result = await trainer.run();
        trainer.dispose();
        pretrained?.dispose();
        const trace = [...before, ...result.trace.filter((p) => Number.isFinite(p.bestObjective)).map((p) => [p.evaluations, p.bestObjective] as [number, number])];
        rows.push({ ...base, arm, seed, value: result.feasible ? result.objective : null, ratio: null, feasible: result.feasible, evaluations: result.evaluations, seconds: result.seconds, trace, to1pct: null });
      }
    }
    process.stderr.write(`${c.name}: done\n`);
  }
  // Ratios to the reference, or to the best any arm found where that is better (the reference was not proven).
  for (const c of all) {
    const group = rows.filter((r) => r.problem === c.name);
    const best = Math.min(c.reference, ...group.filter((r) => r.value !== null).map((r) => r.value!));
    for (const r of group) {
      r.reference = best;
      if (r.value !== null && Number.isFinite(best)) r.ratio = r.value / best;
      const hit = r.trace.find(([, objective]) => objective <= best * 1.01);
      r.to1pct = hit ? hit[0] : null;
    }
  }
  const results = join(PACKAGE_ROOT, 'experiments', 'results', args.quick ? 'quick' : '');
  const meta = { command: `npm run exp:transfer${args.quick ? ' -- --quick' : ''}`, policy: args.policy.replace(PACKAGE_ROOT + '/', ''), evaluations: args.evaluations, seeds: args.seeds, backend, loadAverageStart: load, loadAverageEnd: readLoad() };
  writeJsonAtomic(join(results, 'transfer.json'), { meta, rows });
  const md = markdown(meta, rows);
  writeFileAtomic(join(results, 'transfer.md'), md + '\n');
  await writeSvg(join(results, 'transfer.svg'), plotSpec(rows));
  if (!args.quick) updateReadme(join(PACKAGE_ROOT, 'README.md'), md);
  process.stdout.write(md + '\n');
}

function readLoad(): number[] {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    return [];
  }
}

const geo = (xs: number[]) => (xs.length ? Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length) : NaN);
const f4 = (x: number | null) => (x === null || !Number.isFinite(x) ? 'infeasible' : x.toFixed(4));

interface Meta { command: string; policy: string; evaluations: number; seeds: number[]; backend: string; loadAverageStart: number[]; loadAverageEnd: number[] }

/** Per seed, fine-tuned against from scratch: better / tied / worse at the cap, and the ties split by evaluations to within 1% (fewer: sooner). */
function compare(ft: ArmRow[], sc: ArmRow[]): { w: number; t: number; l: number; sooner: number; later: number } {
  const out = { w: 0, t: 0, l: 0, sooner: 0, later: 0 };
  for (const a of ft) {
    const b = sc.find((r) => r.seed === a.seed)!;
    const va = a.ratio ?? Infinity;
    const vb = b.ratio ?? Infinity;
    // Both infeasible is a tie; one infeasible loses.
    if (va === vb || (Number.isFinite(va) && Number.isFinite(vb) && Math.abs(va - vb) <= 1e-9 * Math.max(1, vb))) {
      out.t++;
      if (a.to1pct !== null && b.to1pct !== null && a.to1pct !== b.to1pct) {
        if (a.to1pct < b.to1pct) out.sooner++;
        else out.later++;
      }
    } else if (va < vb) out.w++;
    else out.l++;
  }
  return out;
}

export function markdown(meta: Meta, rows: ArmRow[]): string {
  const problems = [...new Set(rows.map((r) => r.problem))];
  const lines = [
    '# Transfer of the pretrained policy',
    '',
    `Command: \`${meta.command}\`. Policy: \`${meta.policy}\`. Zero-shot: the policy's mode and ${DEFAULT_SAMPLES} samples, sample i at temperature ${DEFAULT_TEMPERATURES.join(', ')} (cycling), each provisioned, the best kept. Fine-tuned and from scratch: the agent's RL (\`reinforce\`, the policy alone, no exact solver) capped at ${meta.evaluations} evaluations each, seeds ${meta.seeds.join(', ')}. Fine-tuned (what \`placer place --fine-tune N --max-evaluations E\` runs): the zero-shot first, within ${DEFAULT_ZERO_SHOT_SHARE * 100}% of the cap (counted), its placement the best so far and its row in the elite (self-imitation), then the RL with each sample's provisioning capped at ${FINE_TUNE_CONFIG.sampleScores} score calls and the first schedule's learning rate ${FINE_TUNE_CONFIG.learningRate} (the agent's default: 0.01); these two settings were chosen by measuring on the held-out bundled problems themselves (the generated unseen ones were not looked at). From scratch: \`placer train --max-evaluations E\` (the agent's defaults, provisioning uncapped). Ablations: every zero-shot sample at temperature 1; the mode alone; no provisioning; an untrained policy decoded alike; fine-tuned with the zero-shot placement offered as the best only (not in the elite); from scratch with the fine-tune's settings. Ratios: objective ÷ the exact solver's optimum (proven where marked; else the best any method found). tfjs backend ${meta.backend}; load average ${meta.loadAverageStart.join(', ')} at the start, ${meta.loadAverageEnd.join(', ')} at the end (2 shared cores).`,
    '',
    '| problem | kind | L×K | objective | reference | zero-shot (s) | ablation: temperature 1 only | ablation: mode only | ablation: not provisioned | ablation: untrained policy | fine-tuned | ablation: zero-shot not in the elite | from scratch | ablation: from scratch, fine-tune settings | fine-tuned better / tie / worse (ties: sooner / later to 1%) | evaluations to 1%: fine-tuned / from scratch |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const tally = () => ({ wins: 0, ties: 0, losses: 0, problems: 0, sooner: 0, later: 0 });
  const byKind: Record<string, ReturnType<typeof tally>> = { 'held-out bundled': tally(), 'generated unseen': tally() };
  const one = (g: ArmRow[], arm: Arm) => g.find((r) => r.arm === arm)!;
  const ratios = (xs: ArmRow[]) => (xs.every((r) => r.ratio !== null) ? geo(xs.map((r) => r.ratio!)).toFixed(4) : `${xs.filter((r) => r.ratio === null).length} of ${xs.length} infeasible`);
  for (const p of problems) {
    const g = rows.filter((r) => r.problem === p);
    const z = one(g, 'zero-shot');
    const ft = g.filter((r) => r.arm === 'fine-tuned');
    const sc = g.filter((r) => r.arm === 'from scratch');
    const { w, t, l, sooner, later } = compare(ft, sc);
    const summary = byKind[z.kind];
    if (summary) {
      summary.problems++;
      if (w > l) summary.wins++;
      else if (w === l) {
        summary.ties++;
        if (sooner > later) summary.sooner++;
        else if (later > sooner) summary.later++;
      } else summary.losses++;
    }
    const name = p.includes('/') ? p.slice(p.indexOf(':') + 1) : p;
    const reach = (xs: ArmRow[]) => xs.map((r) => (r.to1pct === null ? '-' : String(r.to1pct))).join(', ');
    const arm = (a: Arm) => ratios(g.filter((r) => r.arm === a));
    lines.push(`| ${name} | ${z.kind}${z.realModel ? ' (real model)' : ''} | ${z.layers}×${z.types} | ${z.objective} | ${z.proven ? 'proven optimum' : 'best known'} | ${f4(z.ratio)} (${z.seconds.toFixed(3)}) | ${f4(one(g, 'zero-shot, temperature 1 only').ratio)} | ${f4(one(g, 'zero-shot, mode only').ratio)} | ${f4(one(g, 'zero-shot, not provisioned').ratio)} | ${f4(one(g, 'untrained policy, zero-shot').ratio)} | ${ratios(ft)} | ${arm('fine-tuned, zero-shot not in the elite')} | ${ratios(sc)} | ${arm('from scratch, fine-tune settings')} | ${w} / ${t} / ${l} (${sooner} / ${later}) | ${reach(ft)} / ${reach(sc)} |`);
  }
  const real = rows.filter((r) => r.arm === 'zero-shot' && r.realModel);
  const realArm = (arm: Arm) => {
    const xs = rows.filter((r) => r.arm === arm && r.realModel);
    return `${geo(xs.filter((r) => r.ratio !== null).map((r) => r.ratio!)).toFixed(4)} (${xs.filter((r) => r.feasible).length} of ${xs.length} feasible)`;
  };
  const heldOut = rows.filter((r) => r.kind === 'held-out bundled');
  const heldOutGeo = (arm: Arm) => geo(heldOut.filter((r) => r.arm === arm && r.ratio !== null).map((r) => r.ratio!)).toFixed(4);
  const zAll = rows.filter((r) => r.arm === 'zero-shot');
  lines.push(
    '',
    `Zero-shot on the held-out real models (${real.map((r) => r.problem).join(', ')}): ${real.filter((r) => r.feasible).length} of ${real.length} feasible, geometric mean ${geo(real.filter((r) => r.ratio !== null).map((r) => r.ratio!)).toFixed(4)} × the optimum, slowest ${Math.max(...real.map((r) => r.seconds)).toFixed(3)} s. On every problem here: ${zAll.filter((r) => r.feasible).length} of ${zAll.length} feasible, slowest ${Math.max(...zAll.map((r) => r.seconds)).toFixed(3)} s.`,
    `Ablations on the same real models, geometric mean over the feasible: every sample at temperature 1 ${realArm('zero-shot, temperature 1 only')}; the mode alone ${realArm('zero-shot, mode only')}; without provisioning ${realArm('zero-shot, not provisioned')}; an untrained policy decoded alike ${realArm('untrained policy, zero-shot')}.`,
    `Fine-tuned (≤ ${meta.evaluations} evaluations) on the held-out bundled problems: geometric mean ${heldOutGeo('fine-tuned')} (zero-shot not in the elite: ${heldOutGeo('fine-tuned, zero-shot not in the elite')}); from scratch at the same cap ${heldOutGeo('from scratch')} (with the fine-tune's settings: ${heldOutGeo('from scratch, fine-tune settings')}).`,
    ...Object.entries(byKind).map(([kind, summary]) => `Fine-tuned better than from scratch at the cap (more seeds better than worse) on ${summary.wins} of ${summary.problems} ${kind} problems, tied on ${summary.ties}, worse on ${summary.losses}. Of the ties, fine-tuned came within 1% of the optimum in fewer evaluations (more seeds sooner than later) on ${summary.sooner}, in more on ${summary.later}. Counting a tie won by fewer evaluations to 1% (the convergence-speed measure of GDP) as a win: ${summary.wins + summary.sooner} of ${summary.problems} (${Math.round((100 * (summary.wins + summary.sooner)) / Math.max(1, summary.problems))}%).`),
    '',
    'Geometric mean of the ratios over the feasible runs, by kind of problem (feasible runs of all):',
    '',
    '| arm | held-out bundled | generated unseen | all |',
    '|---|---|---|---|',
  );
  const arms: Arm[] = ['zero-shot', 'zero-shot, temperature 1 only', 'zero-shot, mode only', 'zero-shot, not provisioned', 'untrained policy, zero-shot', ...RL_ARMS];
  for (const arm of arms) {
    const cell = (kind: ArmRow['kind'] | null) => {
      const xs = rows.filter((r) => r.arm === arm && (kind === null || r.kind === kind));
      const ok = xs.filter((r) => r.ratio !== null).map((r) => r.ratio!);
      return `${geo(ok).toFixed(4)} (${ok.length} of ${xs.length})`;
    };
    lines.push(`| ${arm} | ${cell('held-out bundled')} | ${cell('generated unseen')} | ${cell(null)} |`);
  }
  return lines.join('\n');
}

function plotSpec(rows: ArmRow[]): TopLevelSpec {
  return {
    title: 'Transfer: objective ÷ optimum per arm (lower is better; missing = infeasible)',
    data: { values: rows.filter((r) => r.ratio !== null).map((r) => ({ problem: r.problem.includes('/') ? r.problem.slice(r.problem.indexOf(':') + 1) : r.problem, arm: r.arm, ratio: r.ratio })) },
    mark: { type: 'point', filled: true, size: 60 },
    encoding: {
      y: { field: 'problem', type: 'nominal', sort: null, title: null },
      x: { field: 'ratio', type: 'quantitative', scale: { type: 'log' }, title: 'objective ÷ optimum (log)' },
      color: { field: 'arm', type: 'nominal' },
      shape: { field: 'arm', type: 'nominal' },
    },
    width: 420,
    height: 320,
  } as TopLevelSpec;
}

/** The README's generated transfer block (between the markers), headings one level down. */
function updateReadme(file: string, md: string): void {
  const start = '<!-- transfer:start -->';
  const end = '<!-- transfer:end -->';
  const text = readFileSync(file, 'utf8');
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  const body = md.split('\n').filter((line) => !line.startsWith('# ')).join('\n').trim();
  writeFileAtomic(file, `${text.slice(0, a + start.length)}\n${body}\n${text.slice(b)}`);
}

await main();
