/**
 * The exported placement (README, "Reading the output"): one pure function
 * from a scored placement to the placement.json object, and its certified
 * form (a lower bound and a gap from agent/certify.ts) that `placer solve`,
 * `placer train` and `placer place` write. The same placement gives the same
 * keys; only `seconds` and `boundSeconds` (and the bound, when its search is
 * cut by --bound-time) vary from run to run.
 */
import { assignmentOf, type Placement, type Problem, type Settings } from '../env/problem.js';
import { evaluate } from '../env/simulate.js';
import { certify, type Certificate, type CertifyOptions } from './certify.js';

export interface PlacementJson {
  assignment: string[];
  feasible: boolean;
  stepMs: number | null;
  pricePerHour: number;
  costPerStep: number | null;
  stages: Array<{
    type: string;
    replicas: number;
    firstLayer: string;
    lastLayer: string;
    forwardMs: number;
    backwardMs: number;
    memoryBytes: number;
    allReduceMs: number;
  }>;
  objective: Settings['objective'];
  budget: number | null;
  deadline: number | null;
  microBatches: number;
  seed?: number;
  violations?: string[];
  /** From the certificate: ≤ the best objective possible; null when infeasible. */
  lowerBound?: number | null;
  gap?: number | null;
  provenOptimal?: boolean;
  [extra: string]: unknown;
}

/**
 * The placement.json object of `placement` on `problem` under `settings`.
 * `extra` keys (method, seed, iterations, …) are added after the required
 * ones; they cannot overwrite them.
 */
export function placementJson(problem: Problem, settings: Settings, placement: Placement, extra: Record<string, unknown> = {}): PlacementJson {
  const report = evaluate(problem, settings, placement);
  const assignment = assignmentOf(placement, problem.layers.length).map((k) => (k >= 0 ? problem.types[k].name : ''));
  const required: PlacementJson = {
    assignment,
    feasible: report.feasible,
    stepMs: report.stepMs,
    pricePerHour: report.pricePerHour,
    costPerStep: report.costPerStep,
    stages: report.stages.map((s) => ({
      type: s.type,
      replicas: s.replicas,
      firstLayer: s.firstLayer,
      lastLayer: s.lastLayer,
      forwardMs: s.forwardMs,
      backwardMs: s.backwardMs,
      memoryBytes: s.memoryBytes,
      allReduceMs: s.allReduceMs,
    })),
    objective: settings.objective,
    budget: Number.isFinite(settings.budget) ? settings.budget : null,
    deadline: Number.isFinite(settings.deadline) ? settings.deadline : null,
    microBatches: settings.microBatches,
  };
  if (!report.feasible) required.violations = report.violations;
  const out: PlacementJson = { ...required };
  for (const [key, value] of Object.entries(extra)) if (!(key in required) && value !== undefined) out[key] = value;
  // `seed` sits with the required keys in the README's example; keep it when given.
  return out;
}

/**
 * placementJson with a certificate: lowerBound, gap, provenOptimal (gap 0),
 * provenInfeasible (infeasible placements), boundBy and boundSeconds. The
 * search's own `seconds` and `evaluations` go in `extra`. Every command that
 * writes a placement.json calls this after its search.
 */
export async function certifiedPlacementJson(
  problem: Problem, settings: Settings, placement: Placement, extra: Record<string, unknown>, options: CertifyOptions = {},
): Promise<PlacementJson> {
  const certificate = await certify(problem, settings, placement, options);
  return placementJson(problem, settings, placement, { ...extra, ...certificateKeys(certificate) });
}

function certificateKeys(certificate: Certificate): Record<string, unknown> {
  const { lowerBound, gap, provenOptimal, provenInfeasible, feasibleFound, boundBy, boundSeconds } = certificate;
  const keys: Record<string, unknown> = { lowerBound, gap, provenOptimal };
  if (lowerBound === null) keys.provenInfeasible = provenInfeasible;
  if (feasibleFound !== undefined) keys.feasibleFound = feasibleFound;
  return { ...keys, boundBy, boundSeconds: Number(boundSeconds.toFixed(3)) };
}
