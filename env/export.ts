/**
 * placement.json (DESIGN.md "The exported placement"): the placement, its
 * scores, the settings it was scored under, and, when infeasible, the reasons.
 * Nothing time-dependent goes in, so the same search gives the same bytes.
 */
import { assignmentOf, type Placement, type Problem, type Settings } from './problem.js';
import { evaluate, type Evaluation } from './simulate.js';

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
    layers: number;
    forwardMs: number;
    backwardMs: number;
    allReduceMs: number;
    memoryBytes: number;
  }>;
  linkMs: number[];
  objective: Settings['objective'];
  budget: number | null;
  deadline: number | null;
  microBatches: number;
  seed: number | null;
  violations?: string[];
  [extra: string]: unknown;
}

export function placementJson(
  problem: Problem,
  settings: Settings,
  placement: Placement,
  extra: { seed?: number; [key: string]: unknown } = {},
): PlacementJson {
  const report: Evaluation = evaluate(problem, settings, placement);
  const { seed, ...rest } = extra;
  return {
    assignment: assignmentOf(placement, problem.layers.length).map((type) => problem.types[type].name),
    feasible: report.feasible,
    stepMs: report.stepMs,
    pricePerHour: report.pricePerHour,
    costPerStep: report.costPerStep,
    stages: report.stages.map((stage, s) => ({
      type: stage.type,
      replicas: stage.replicas,
      firstLayer: stage.firstLayer,
      lastLayer: stage.lastLayer,
      layers: placement[s].last - placement[s].first + 1,
      forwardMs: stage.forwardMs,
      backwardMs: stage.backwardMs,
      allReduceMs: stage.allReduceMs,
      memoryBytes: stage.memoryBytes,
    })),
    linkMs: report.linkMs,
    objective: settings.objective,
    budget: report.budget,
    deadline: report.deadline,
    microBatches: settings.microBatches,
    seed: seed ?? null,
    ...(report.feasible ? {} : { violations: report.violations }),
    ...rest,
  };
}
