/**
 * `placer plan`: model file → import → estimated profile → search → a problem
 * folder, placement.json and plan-report.md. The search is the exact searcher
 * with a time limit; when it does not prove its optimum in time, the genetic
 * searcher gets the rest of the time and the better of the two is kept. Both
 * runs count against the one `timeLimitS`.
 */
import { join } from 'node:path';
import { placementJson, type PlacementJson } from '../../agent/export.js';
import { smallestFeasibleConstraintWithProof } from '../../agent/exact.js';
import { searcherByName } from '../../agent/searchers.js';
import type { SearchResult } from '../../agent/searcher.js';
import { writeFileAtomic, writeJsonAtomic } from '../../env/atomic-write.js';
import type { Problem, Settings } from '../../env/problem.js';
import { evaluate, type Evaluation } from '../../env/simulate.js';
import { importModel, layersCsv, kindsOf, kernelsOf, type ImportResult } from '../import/import-model.js';
import type { ImportOptions } from '../import/onnx.js';
import { devicesCsv, estimateProfile, profileCsv, type Catalogue, type EstimatedProfile, type Precision } from '../estimate/roofline.js';

export interface PlanOptions extends ImportOptions {
  maxLayers?: number;
  catalogue: Catalogue;
  precision: Precision;
  settings: Settings;
  /** Seconds for the whole search (exact, then the fallback). */
  timeLimitS: number;
  /** Share of timeLimitS the exact searcher gets before the fallback starts. */
  exactShare: number;
  fallback: string;
  seed: number;
  out: string;
}

export interface PlanResult {
  imported: ImportResult;
  estimate: EstimatedProfile;
  problem: Problem;
  result: SearchResult;
  runs: { method: string; seconds: number; feasible: boolean; objective: number; provenOptimal?: boolean }[];
  json: PlacementJson;
  evaluation: Evaluation;
  seconds: { import: number; estimate: number; search: number; total: number };
  files: string[];
}

const now = () => performance.now() / 1000;

export async function plan(model: string, options: PlanOptions): Promise<PlanResult> {
  const t0 = now();
  const imported = importModel(model, options);
  const t1 = now();
  const work = imported.rows.map((r) => ({ name: r.name, flops: r.flops, bytesTouched: r.bytesTouched, kinds: kindsOf(r.kinds), kernels: kernelsOf(r) }));
  const estimate = estimateProfile(work, options.catalogue, options.precision);
  const problem: Problem = {
    layers: imported.rows.map((r) => ({ name: r.name, paramBytes: r.paramBytes, activationBytes: r.activationBytes })),
    types: options.catalogue.types,
    forwardMs: estimate.forwardMs,
    backwardMs: estimate.backwardMs,
  };
  const t2 = now();

  const runs: PlanResult['runs'] = [];
  const exactBudget = options.timeLimitS * options.exactShare;
  const exact = await searcherByName('exact').search(problem, options.settings, { seed: options.seed, timeLimitS: exactBudget });
  runs.push({ method: 'exact', seconds: exact.seconds, feasible: exact.feasible, objective: exact.objective, provenOptimal: exact.provenOptimal });
  let result = exact;
  if (exact.provenOptimal !== true) {
    const left = Math.max(1, options.timeLimitS - (now() - t2));
    const other = await searcherByName(options.fallback).search(problem, options.settings, { seed: options.seed, timeLimitS: left });
    runs.push({ method: options.fallback, seconds: other.seconds, feasible: other.feasible, objective: other.objective });
    if ((other.feasible && !exact.feasible) || (other.feasible === exact.feasible && other.objective < exact.objective)) result = other;
  }
  const t3 = now();

  const files: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(options.out, name);
    writeFileAtomic(path, text);
    files.push(path);
  };
  write('layers.csv', layersCsv(imported.rows));
  write('devices.csv', devicesCsv(problem.types));
  write('profile.csv', profileCsv(problem.layers, problem.types, estimate));
  const settings = options.settings;
  const meta: Record<string, unknown> = {
    description: `${imported.report.model}: imported by placer plan (${imported.report.format}, micro-batch size ${options.microBatchSize}); profile estimated by roofline (${options.precision})`,
    microBatches: settings.microBatches,
    objective: settings.objective,
  };
  if (settings.objective === 'time' && Number.isFinite(settings.budget)) meta.budget = settings.budget;
  if (settings.objective === 'cost' && Number.isFinite(settings.deadline)) meta.deadline = settings.deadline;
  writeJsonAtomic(join(options.out, 'problem.json'), meta);
  files.push(join(options.out, 'problem.json'));
  writeJsonAtomic(join(options.out, 'import-report.json'), imported.report);
  files.push(join(options.out, 'import-report.json'));

  const extra: Record<string, unknown> = {
    seed: options.seed,
    method: result.method,
    problem: imported.report.model,
    provenOptimal: result.provenOptimal ?? false,
    estimated: true,
  };
  if (!result.feasible) {
    // What would make a placement feasible, as `placer solve` reports it.
    const least = smallestFeasibleConstraintWithProof(problem, settings);
    const key = settings.objective === 'time' ? 'minimumFeasibleBudget' : 'minimumFeasibleDeadline';
    extra[key] = least?.value ?? null;
    extra[`${key}Proven`] = least?.proven ?? true;
  }
  const json = placementJson(problem, settings, result.placement, extra);
  writeJsonAtomic(join(options.out, 'placement.json'), json);
  files.push(join(options.out, 'placement.json'));
  const evaluation = evaluate(problem, settings, result.placement);
  const t4 = now();
  const planResult: PlanResult = {
    imported,
    estimate,
    problem,
    result,
    runs,
    json,
    evaluation,
    seconds: { import: t1 - t0, estimate: t2 - t1, search: t3 - t2, total: t4 - t0 },
    files,
  };
  write('plan-report.md', planReport(planResult, options));
  return planResult;
}

const fmt = (x: number, digits = 4) => Number(x.toPrecision(digits)).toString();
const gib = (bytes: number) => `${fmt(bytes / 2 ** 30, 3)} GiB`;

export function planReport(p: PlanResult, options: PlanOptions): string {
  const { evaluation: e, imported, runs } = p;
  const r = imported.report;
  const constraint = options.settings.objective === 'time'
    ? `fastest step within ${Number.isFinite(options.settings.budget) ? `$${options.settings.budget}/h` : 'no budget'}`
    : `cheapest step within ${Number.isFinite(options.settings.deadline) ? `${options.settings.deadline} ms` : 'no deadline'}`;
  const lines = [
    `# Plan for ${r.model}`,
    '',
    `Objective: ${constraint}, ${options.settings.microBatches} micro-batches of ${options.microBatchSize} samples per step.`,
    '',
    `**${e.feasible ? 'Feasible' : 'NOT feasible'}**: step ${e.stepMs === null ? 'n/a' : `${fmt(e.stepMs)} ms`}, $${fmt(e.pricePerHour)}/h` +
      `${e.costPerStep !== null ? `, $${e.costPerStep.toExponential(3)} per step` : ''}; found by ${p.result.method}` +
      `${p.result.provenOptimal ? ' (proven optimal on the estimated profile)' : ' (not proven optimal)'}.`,
    '',
    '## Stages',
    '',
    '| # | type | replicas | layers | forward ms | backward ms | all-reduce ms | memory |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...e.stages.map((s, i) => `| ${i}${e.bottleneck.kind === 'stage' && e.bottleneck.index === i ? ' (bottleneck)' : ''} | ${s.type} | ${s.replicas} | ${s.firstLayer} … ${s.lastLayer} | ${fmt(s.forwardMs)} | ${fmt(s.backwardMs)} | ${fmt(s.allReduceMs)} | ${gib(s.memoryBytes)} of ${gib(s.memoryCapacityBytes)} |`),
    '',
    `Bottleneck: ${e.bottleneck.kind === 'stage' ? `stage ${e.bottleneck.index} (${e.stages[e.bottleneck.index]?.type})` : `the link after stage ${e.bottleneck.index} (${fmt(e.linkMs[e.bottleneck.index] ?? 0)} ms each way)`}.`,
    ...(e.violations.length ? ['', 'Violations:', ...e.violations.map((v) => `- ${v}`)] : []),
    ...(p.json.minimumFeasibleBudget !== undefined ? ['', `The smallest budget under which a placement is feasible: ${p.json.minimumFeasibleBudget ?? 'none (memory or unit counts)'} $/h.`] : []),
    ...(p.json.minimumFeasibleDeadline !== undefined ? ['', `The smallest deadline under which a placement is feasible: ${p.json.minimumFeasibleDeadline ?? 'none (memory or unit counts)'} ms.`] : []),
    '',
    '## What was measured, read and estimated',
    '',
    `- Read from the model file: ${r.operators} operators, ${r.parameters} parameters (param_bytes from their dtypes), tensor shapes at micro-batch ${r.microBatchSize}${Object.keys(r.dims).length ? ` with ${Object.entries(r.dims).map(([k, v]) => `${k}=${v}`).join(', ')}` : ''}.`,
    `- Estimated, not measured: every forward_ms and backward_ms in profile.csv (roofline per type, ${options.precision}; backward = 2 × forward FLOPs and bytes). ${p.estimate.excluded.length} (layer, type) pairs left out by cannot_run.`,
    `- Catalogue figures: ${options.catalogue.rooflines.map((rf, k) => `${options.catalogue.types[k].name} (${rf.from})`).join(', ')}.`,
    `- Unsupported operators: ${r.unsupported.length}${r.unsupported.length ? ` (${[...new Set(r.unsupported.map((u) => u.opType))].join(', ')}; see import-report.json)` : ''}.`,
    '',
    '## Search',
    '',
    ...runs.map((run) => `- ${run.method}: ${fmt(run.seconds, 3)} s, ${run.feasible ? 'feasible' : 'infeasible'}, objective ${fmt(run.objective)}${run.provenOptimal !== undefined ? `, proven ${run.provenOptimal}` : ''}`),
    `- Times: import ${fmt(p.seconds.import, 3)} s, estimate ${fmt(p.seconds.estimate, 3)} s, search ${fmt(p.seconds.search, 3)} s.`,
    '',
  ];
  return lines.join('\n');
}
