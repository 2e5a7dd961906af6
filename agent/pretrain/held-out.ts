/**
 * The problems that measure a pretrained policy and are never trained on:
 * the held-out bundled problems (agent/pretrain/distribution.ts HELD_OUT_BUNDLED,
 * at their bundled settings) and problems drawn from a stream of their own
 * ("held-out") on the held-out architectures and unseen synthetic chains,
 * each with the teacher's constraint. The reference objective is the exact
 * solver's (proven optimum where it completes within its label cap).
 */
import { bundledProblem } from '../../env/bundled.js';
import { loadProblem } from '../../env/load.js';
import { DEFAULT_SETTINGS, type Problem, type Settings } from '../../env/problem.js';
import { exactSearcher } from '../exact.js';
import { drawProblem, HELD_OUT_ARCHITECTURES, HELD_OUT_BUNDLED, type DrawOptions } from './distribution.js';
import { teach, type TeacherOptions } from './teacher.js';

export interface HeldOutProblem {
  name: string;
  problem: Problem;
  settings: Settings;
  /** The exact solver's objective (Infinity when it found nothing feasible). */
  reference: number;
  proven: boolean;
}

/** A bundled problem at its bundled settings. */
export function bundledAtDefaults(name: string): { problem: Problem; settings: Settings } {
  const { files, defaults } = bundledProblem(name);
  const objective = defaults.objective ?? DEFAULT_SETTINGS.objective;
  return {
    problem: loadProblem(files),
    settings: {
      microBatches: defaults.microBatches ?? DEFAULT_SETTINGS.microBatches,
      objective,
      budget: objective === 'time' ? (defaults.budget ?? Infinity) : Infinity,
      deadline: objective === 'cost' ? (defaults.deadline ?? Infinity) : Infinity,
    },
  };
}

/** The held-out bundled problems with the exact solver's reference (capped at `labelCap` labels). */
export async function heldOutBundled(labelCap: number, names: readonly string[] = HELD_OUT_BUNDLED): Promise<HeldOutProblem[]> {
  const out: HeldOutProblem[] = [];
  for (const name of names) {
    const { problem, settings } = bundledAtDefaults(name);
    const result = await exactSearcher.search(problem, settings, { maxEvaluations: labelCap, seed: 1 });
    out.push({ name, problem, settings, reference: result.feasible ? result.objective : Infinity, proven: result.provenOptimal === true });
  }
  return out;
}

/** `count` generated unseen problems (held-out architectures on random catalogues, and synthetic chains). */
export async function heldOutGenerated(count: number, teacher: TeacherOptions, draw: Partial<DrawOptions> = {}): Promise<HeldOutProblem[]> {
  const out: HeldOutProblem[] = [];
  for (let i = 0; out.length < count && i < 10 * count; i++) {
    const drawn = drawProblem('held-out', i, { ...draw, architectures: HELD_OUT_ARCHITECTURES });
    const lesson = await teach(drawn, teacher);
    if (lesson === null) continue;
    out.push({ name: drawn.name, problem: drawn.problem, settings: lesson.settings, reference: lesson.objective, proven: lesson.proven });
  }
  return out;
}
