/**
 * The exported placement (README "Reading the output"): one pure
 * function from a scored placement to the placement.json object, shared by
 * `placer train`, `placer place` and `placer solve`. Deterministic: no
 * timings, no dates, so the same placement gives the same file byte for byte.
 */
import { assignmentOf, type Placement, type Problem, type Settings } from '../env/problem.js';
import { evaluate } from '../env/simulate.js';

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
