/**
 * The teacher of the imitation phase: for a drawn problem, its constraint
 * (a budget or deadline between the tightest workable and the loosest that
 * still binds) and the best placement the exact solver finds within a fixed
 * number of labels. Label caps, never the clock, so a seed gives the same
 * labels on any machine and under any load.
 *
 *  - objective time: budget = least price + tightness × (price of the fastest
 *    placement − least price); both ends from the exact solver's beam passes
 *    (agent/exact.ts `warmStart`, goals `price` and `time`, unconstrained);
 *  - objective cost: deadline = least step + tightness × (step of the cheapest
 *    placement − least step), alike.
 * The label is the exact searcher's placement (beam warm start, then the DP,
 * `labelCap` labels in all): proven optimal when the DP completes, else the
 * best it found. Provisioning from the label's stages (agent/provision.ts
 * `climb`) is scored too and kept when better, since that is what the
 * policy's own placements go through.
 */
import type { Placement, Problem, Settings } from '../../env/problem.js';
import { Simulator } from '../../env/simulate.js';
import { exactSearcher, warmStart, DEFAULT_EXACT_CONFIG } from '../exact.js';
import { climb } from '../provision.js';
import { readPlacement } from '../tracker.js';
import type { DrawnProblem } from './distribution.js';

export interface TeacherOptions {
  /** Labels each end of the constraint range may take (beam passes). */
  rangeCap: number;
  /** Labels the teacher's search may take. */
  labelCap: number;
}

export const DEFAULT_TEACHER_OPTIONS: TeacherOptions = { rangeCap: 5_000, labelCap: 50_000 };

export interface Lesson {
  settings: Settings;
  /** The teacher's placement (stages with replicas). */
  placement: Placement;
  objective: number;
  /** The exact search completed: the placement is the proven optimum. */
  proven: boolean;
  /** Solver labels spent (the teacher's cost). */
  labels: number;
}

/** The drawn problem's constraint and the teacher's placement; null when no placement fits memory and counts. */
export async function teach(drawn: DrawnProblem, options: TeacherOptions = DEFAULT_TEACHER_OPTIONS): Promise<Lesson | null> {
  const settings = await drawSettings(drawn, options.rangeCap);
  if (settings === null) return null;
  const result = await exactSearcher.search(drawn.problem, settings.settings, { maxEvaluations: options.labelCap, seed: 1 });
  if (!result.feasible) return null;
  let placement = result.placement;
  let objective = result.objective;
  const sim = new Simulator(drawn.problem, settings.settings);
  sim.loadPlacement(placement.map((stage) => ({ ...stage, replicas: 1 })));
  climb(sim, Infinity, undefined, true);
  if (sim.feasible && sim.objectiveValue < objective) {
    placement = readPlacement(sim);
    objective = sim.objectiveValue;
  }
  return { settings: settings.settings, placement, objective, proven: result.provenOptimal === true && objective === result.objective, labels: settings.labels + result.evaluations };
}

/** The drawn constraint (see the file comment), or null when nothing fits memory and counts. */
export async function drawSettings(drawn: DrawnProblem, rangeCap: number): Promise<{ settings: Settings; labels: number } | null> {
  const { problem, microBatches, objective, tightness } = drawn;
  const open: Settings = { microBatches, objective, budget: Infinity, deadline: Infinity };
  const sim = new Simulator(problem, open);
  const end = (goal: 'price' | 'time' | 'cost') => warmStart(problem, open, DEFAULT_EXACT_CONFIG, undefined, { goal, constrained: false, maxLabels: rangeCap });
  if (objective === 'time') {
    const cheapest = end('price');
    const fastest = end('time');
    if (!cheapest.placement || !fastest.placement) return null;
    const lo = priceOf(sim, cheapest.placement);
    const hi = Math.max(lo, priceOf(sim, fastest.placement));
    return { settings: { ...open, budget: lo + tightness * (hi - lo) }, labels: cheapest.labels + fastest.labels };
  }
  const fastest = end('time');
  const cheapest = end('cost');
  if (!cheapest.placement || !fastest.placement) return null;
  const lo = stepOf(sim, fastest.placement);
  const hi = Math.max(lo, stepOf(sim, cheapest.placement));
  return { settings: { ...open, deadline: lo + tightness * (hi - lo) }, labels: cheapest.labels + fastest.labels };
}

function priceOf(sim: Simulator, placement: Placement): number {
  sim.scorePlacement(placement);
  return sim.pricePerHour;
}

function stepOf(sim: Simulator, placement: Placement): number {
  sim.scorePlacement(placement);
  return sim.stepMs;
}
