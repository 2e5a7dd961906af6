import { join } from 'node:path';
import { Command, Option } from 'commander';
import { addProblemOptions, loadProblemFromOptions, nonNegativeNumber, positiveInteger, type LoadedProblem, type ProblemOptions } from '../common.js';
import { provenance } from './train.js';
import { formatEvaluation } from '../format.js';
import { progress } from '../progress.js';
import { smallestFeasibleConstraintWithProof } from '../../agent/exact.js';
import { SEARCHER_NAMES, searcherByName } from '../../agent/searchers.js';
import { prepareOutputFolder, writeJsonAtomic } from '../../env/atomic-write.js';
import { certifiedPlacementJson, type PlacementJson } from '../../agent/export.js';
import { defaultBoundTime } from '../../agent/certify.js';
import type { SearchResult } from '../../agent/searcher.js';
import type { Problem, Settings } from '../../env/problem.js';
import { evaluate } from '../../env/simulate.js';

interface SolveOptions extends ProblemOptions {
  method: string;
  seed: number;
  evaluations?: number;
  timeLimit?: number;
  boundTime?: number;
  out: string;
  json?: boolean;
}

export function register(program: Command): void {
  addProblemOptions(
    program
      .command('solve')
      .description('search for the best placement with one method and write DIR/placement.json')
      .addOption(new Option('--method <method>', 'exact: proven optimum; the others are heuristics').choices(SEARCHER_NAMES).default('exact'))
      .option('--seed <S>', 'seed of every random choice (never 0)', positiveInteger('--seed', 2 ** 31 - 1), 1)
      .option('--evaluations <N>', 'simulator evaluations for the sampling methods', positiveInteger('--evaluations', Number.MAX_SAFE_INTEGER))
      .option('--time-limit <seconds>', 'stop and keep the best found so far', nonNegativeNumber('--time-limit'))
      .option('--bound-time <seconds>', 'time for the lower bound and gap after the search (default: 10% of --time-limit within 1-5 s, or 2 s)', nonNegativeNumber('--bound-time'))
      .option('--out <dir>', 'where placement.json goes', 'runs/solve')
      .option('--json', 'print placement.json instead of the table'),
  )
    .addHelpText('after', '\nExamples:\n  placer solve --method exact --problem bert-base --out runs/bert\n  placer solve --method genetic --layers layers.csv --devices devices.csv --profile profile.csv --budget 6 --seed 3 --out runs/mine')
    .action(async (options: SolveOptions) => {
      const loaded = loadProblemFromOptions(options);
      prepareOutputFolder(options.out);
      // Ctrl-C stops the search (and the certificate) soon; the best found so far is still written.
      const controller = new AbortController();
      const onSigint = () => {
        process.stderr.write('placer: interrupted: writing the best placement found so far\n');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      let solved: Awaited<ReturnType<typeof solveAndExport>>;
      try {
        solved = await solveAndExport({ ...options, ...loaded, loaded, signal: controller.signal });
      } finally {
        process.off('SIGINT', onSigint);
      }
      const { json, file, result } = solved;
      if (options.json) {
        process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${describeSolve(loaded.problem, loaded.settings, result, loaded.problemName, json)}\nwrote ${file}\n`);
    });
}

export interface SolveRun {
  problem: Problem;
  settings: Settings;
  problemName?: string;
  method: string;
  seed: number;
  evaluations?: number;
  timeLimit?: number;
  /** Seconds of the certificate's bound search (default defaultBoundTime(timeLimit)). */
  boundTime?: number;
  out: string;
  signal?: AbortSignal;
  /** Where the problem came from (recorded in placement.json for validate). */
  loaded?: LoadedProblem;
}

/** Runs one searcher with a progress line and writes DIR/placement.json. */
export async function solveAndExport(run: SolveRun): Promise<{ json: PlacementJson; file: string; result: SearchResult }> {
  const searcher = searcherByName(run.method);
  // Quiet in logs (CI stays clean); on a terminal, one line redrawn.
  const bar = progress(run.method, { logEverySeconds: Infinity });
  const result = await searcher.search(run.problem, run.settings, {
    seed: run.seed,
    maxEvaluations: run.evaluations,
    timeLimitS: run.timeLimit,
    onProgress: (p) => bar.update(`${p.evaluations} evaluations  best ${Number.isFinite(p.bestObjective) ? p.bestObjective.toPrecision(6) : 'none yet'}`, p.fraction),
    signal: run.signal,
  });
  bar.done();
  const extra: Record<string, unknown> = {
    seed: run.seed, method: result.method, problem: run.problemName ?? null, ...(run.loaded ? provenance(run.loaded) : {}),
    seconds: Number(result.seconds.toFixed(3)), evaluations: result.evaluations,
  };
  // Only a proof says nothing fits: a heuristic that found nothing says just that (describeSolve).
  if (!result.feasible && result.method === 'exact') Object.assign(extra, loosestNeeded(run.problem, run.settings));
  const json = await certifiedPlacementJson(run.problem, run.settings, result.placement, extra, {
    timeLimitS: run.boundTime ?? defaultBoundTime(run.timeLimit),
    signal: run.signal,
    knownLowerBound: result.lowerBound,
  });
  const file = join(run.out, 'placement.json');
  writeJsonAtomic(file, json);
  return { json, file, result };
}

/** The table, the search's own line, and when infeasible what would make it feasible. */
export function describeSolve(problem: Problem, settings: Settings, result: SearchResult, problemName?: string, json?: PlacementJson): string {
  const report = evaluate(problem, settings, result.placement);
  const proof = result.provenOptimal === true ? ' (proven optimal)' : result.provenOptimal === false ? ' (time limit: not proven optimal)' : '';
  const lines = [
    `${problemName ? `${problemName}: ` : ''}${problem.layers.length} layers, ${problem.types.length} types; ${result.method}${proof}, ${result.evaluations} evaluations, ${result.seconds.toFixed(2)} s`,
    formatEvaluation(report, new Map(problem.layers.map((l, i) => [l.name, i]))),
  ];
  if (json) lines.push(describeCertificate(settings, json));
  // A heuristic that found nothing proves nothing, unless the certificate proved infeasibility (said above).
  if (!result.feasible && (result.method === 'exact' || json?.provenInfeasible !== true)) {
    lines.push(
      result.method === 'exact'
        ? describeLoosest(settings, json ?? loosestNeeded(problem, settings))
        : `${result.method} found no feasible placement in ${result.evaluations} evaluations; a heuristic proves nothing: one may exist (try --method exact).`,
    );
  }
  return lines.join('\n');
}

/** The certificate's line: the lower bound and the gap, or what is known about infeasibility. */
export function describeCertificate(settings: Settings, json: PlacementJson): string {
  const unit = settings.objective === 'time' ? 'ms/step' : '$/step';
  const took = typeof json.boundSeconds === 'number' ? ` (${json.boundSeconds.toFixed(2)} s)` : '';
  if (json.lowerBound === null || json.lowerBound === undefined) {
    return json.provenInfeasible
      ? `Proven: no placement is feasible under these settings (the exact search covered every placement${took}).`
      : typeof json.feasibleFound === 'number'
        ? `The bound search found a feasible placement (${Number(json.feasibleFound.toPrecision(6))} ${unit}${took}): try --method exact.`
        : `No feasible placement found; none is proven impossible within the bound time${took}.`;
  }
  const gap = json.gap as number;
  return gap === 0
    ? `Lower bound ${Number(json.lowerBound.toPrecision(6))} ${unit}: proven optimal (gap 0; ${json.boundBy}${took}).`
    : `Lower bound ${Number(json.lowerBound.toPrecision(6))} ${unit}: within ${(gap * 100).toFixed(2)}% of the best possible (${json.boundBy}${took}).`;
}

/** The least budget (or deadline) under which some placement would be feasible, as placement.json keys. */
function loosestNeeded(problem: Problem, settings: Settings): Record<string, unknown> {
  const least = smallestFeasibleConstraintWithProof(problem, settings);
  const key = settings.objective === 'time' ? 'minimumFeasibleBudget' : 'minimumFeasibleDeadline';
  return { [key]: least.value, [`${key}Proven`]: least.proven };
}

function describeLoosest(settings: Settings, keys: Record<string, unknown>): string {
  const key = settings.objective === 'time' ? 'minimumFeasibleBudget' : 'minimumFeasibleDeadline';
  const least = keys[key] as number | null;
  if (least === null) {
    return keys[`${key}Proven`] === false
      ? 'No placement that fits memory and unit counts was found in the time allowed (none is proven not to exist).'
      : 'No placement fits memory and unit counts whatever the budget or deadline.';
  }
  const hedge = keys[`${key}Proven`] === false ? ' at most' : '';
  return settings.objective === 'time'
    ? `No placement fits the budget: the smallest budget that makes one feasible is${hedge} ${least} $/h (--budget ${least}).`
    : `No placement meets the deadline: the smallest deadline that makes one feasible is${hedge} ${least} ms (--deadline ${least}).`;
}
