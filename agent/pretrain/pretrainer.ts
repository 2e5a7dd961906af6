/**
 * Pretraining one policy over the distribution of problems
 * (agent/pretrain/distribution.ts), by imitation of the exact solver
 * (agent/pretrain/teacher.ts, agent/pretrain/imitation.ts):
 *   repeat: draw the next problem of the run's stream, let the teacher label
 *   it (constraint and placement), keep the lesson, then take
 *   `stepsPerLesson` Adam steps on minibatches of `batchSize` lessons drawn
 *   uniformly from all kept so far (a growing replay set);
 *   every `evalEvery` lessons: the zero-shot placement (agent/pretrain/zero-shot.ts)
 *   of every held-out problem against its reference.
 * Everything is seeded and capped in labels or steps, never the clock (a
 * time limit only decides when to stop): same seed and lesson count, same policy.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import type { Placement, Settings } from '../../env/problem.js';
import { PolicyNetwork, type PolicyConfig } from '../policy.js';
import { Learner } from '../rl/learner.js';
import { DEFAULT_DRAW_OPTIONS, drawProblem, type DrawOptions } from './distribution.js';
import type { HeldOutProblem } from './held-out.js';
import { disposeExample, imitationStep, teacherExample, type Example } from './imitation.js';
import { DEFAULT_TEACHER_OPTIONS, teach, type TeacherOptions } from './teacher.js';
import { zeroShot } from './zero-shot.js';

export interface PretrainConfig {
  policy: Partial<PolicyConfig>;
  learningRate: number;
  /** Lessons per Adam step. */
  batchSize: number;
  /** Adam steps after each new lesson. */
  stepsPerLesson: number;
  clipNorm: number;
  draw: DrawOptions;
  teacher: TeacherOptions;
  /** Held-out generated problems measured during training. */
  heldOutGenerated: number;
  /** Lessons between two held-out measurements. */
  evalEvery: number;
}

export const DEFAULT_PRETRAIN_CONFIG: PretrainConfig = {
  policy: {},
  learningRate: 0.003,
  batchSize: 8,
  stepsPerLesson: 16,
  clipNorm: 1,
  draw: DEFAULT_DRAW_OPTIONS,
  teacher: DEFAULT_TEACHER_OPTIONS,
  heldOutGenerated: 6,
  evalEvery: 25,
};

/** One lesson as kept in lessons.jsonl: enough to redraw the problem and rebuild the example. */
export interface LessonRecord {
  index: number;
  name: string;
  settings: { microBatches: number; objective: Settings['objective']; budget: number | null; deadline: number | null };
  placement: Placement;
  objective: number;
  proven: boolean;
  labels: number;
}

export interface PretrainState {
  /** Next draw index of the stream. */
  drawIndex: number;
  steps: number;
  rngState: seedrandom.State.Alea;
  /** Mean imitation loss of the steps since the last measurement. */
  recentLoss: number;
}

/** One held-out measurement (a row of history.csv). */
export interface Measurement {
  lessons: number;
  steps: number;
  loss: number;
  /** Per held-out problem: zero-shot objective ÷ reference (Infinity when infeasible). */
  ratios: Record<string, number>;
  bundledGeomean: number;
  bundledFeasible: number;
  generatedGeomean: number;
  generatedFeasible: number;
  /** Slowest zero-shot placement, seconds. */
  slowestSeconds: number;
  seconds: number;
}

export const MEASUREMENT_HEADER = 'lessons,steps,loss,bundledGeomean,bundledFeasible,generatedGeomean,generatedFeasible,slowestSeconds,seconds';

export function measurementLine(m: Measurement): string {
  const n = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : '');
  return [m.lessons, m.steps, n(m.loss), n(m.bundledGeomean), m.bundledFeasible, n(m.generatedGeomean), m.generatedFeasible, m.slowestSeconds.toFixed(3), m.seconds.toFixed(1)].join(',');
}

export const settingsRecord = (s: Settings): LessonRecord['settings'] => ({
  microBatches: s.microBatches,
  objective: s.objective,
  budget: Number.isFinite(s.budget) ? s.budget : null,
  deadline: Number.isFinite(s.deadline) ? s.deadline : null,
});

export const settingsFrom = (r: LessonRecord['settings']): Settings => ({
  microBatches: r.microBatches,
  objective: r.objective,
  budget: r.budget ?? Infinity,
  deadline: r.deadline ?? Infinity,
});

export class Pretrainer {
  readonly lessons: LessonRecord[] = [];
  private readonly examples: Example[] = [];
  readonly learner: Learner;
  state: PretrainState;
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private lossSum = 0;
  private lossCount = 0;
  private readonly started = performance.now();

  constructor(
    readonly seed: number,
    readonly config: PretrainConfig,
    readonly policy: PolicyNetwork,
    readonly heldOut: HeldOutProblem[],
  ) {
    this.learner = new Learner({ learningRate: config.learningRate, epochs: 1, clip: 0.2, clipNorm: config.clipNorm });
    this.rng = seedrandom.alea(`pretrain:${seed}`, { state: true });
    this.state = { drawIndex: 0, steps: 0, rngState: this.rng.state(), recentLoss: NaN };
  }

  /** The stream of this run's training draws. */
  get stream(): string {
    return `train-${this.seed}`;
  }

  /** Puts back a checkpoint's state and lessons (their examples are rebuilt from the redrawn problems). */
  restore(state: PretrainState, lessons: LessonRecord[]): void {
    this.state = { ...state };
    this.rng = seedrandom.alea('', { state: state.rngState });
    for (const record of lessons) this.keep(record);
  }

  private keep(record: LessonRecord): void {
    const drawn = drawProblem(this.stream, record.index, this.config.draw);
    const example = teacherExample(this.policy, drawn.problem, settingsFrom(record.settings), record.placement);
    if (example === null) return;
    this.lessons.push(record);
    this.examples.push(example);
  }

  /** Draws problems until the teacher labels one, keeps it, then takes the Adam steps. */
  async lesson(): Promise<LessonRecord> {
    for (;;) {
      const index = this.state.drawIndex++;
      const drawn = drawProblem(this.stream, index, this.config.draw);
      const lesson = await teach(drawn, this.config.teacher);
      if (lesson === null) continue;
      const record: LessonRecord = {
        index,
        name: drawn.name,
        settings: settingsRecord(lesson.settings),
        placement: lesson.placement,
        objective: lesson.objective,
        proven: lesson.proven,
        labels: lesson.labels,
      };
      const before = this.examples.length;
      this.keep(record);
      if (this.examples.length === before) continue;
      this.train(this.config.stepsPerLesson);
      return record;
    }
  }

  /** `steps` Adam steps on minibatches drawn from the kept lessons. */
  train(steps: number): void {
    const n = this.examples.length;
    if (n === 0) return;
    for (let s = 0; s < steps; s++) {
      const batch: Example[] = [];
      for (let b = 0; b < Math.min(this.config.batchSize, n); b++) batch.push(this.examples[Math.floor(this.rng() * n)]);
      const loss = imitationStep(this.policy, this.learner.optimizer, batch, this.config.clipNorm);
      this.lossSum += loss;
      this.lossCount++;
      this.state.steps++;
    }
    this.state.rngState = this.rng.state();
    this.state.recentLoss = this.lossSum / Math.max(1, this.lossCount);
  }

  /** Zero-shot on every held-out problem. */
  measure(): Measurement {
    const ratios: Record<string, number> = {};
    const groups = { bundled: [] as number[], generated: [] as number[] };
    let slowest = 0;
    for (const h of this.heldOut) {
      const z = zeroShot(this.policy, h.problem, h.settings);
      slowest = Math.max(slowest, z.seconds);
      const ratio = z.feasible && Number.isFinite(h.reference) ? z.objective / h.reference : Infinity;
      ratios[h.name] = ratio;
      (h.name.includes('/') ? groups.generated : groups.bundled).push(ratio);
    }
    const geo = (xs: number[]) => {
      const ok = xs.filter(Number.isFinite);
      return ok.length ? Math.exp(ok.reduce((s, x) => s + Math.log(x), 0) / ok.length) : NaN;
    };
    const m: Measurement = {
      lessons: this.lessons.length,
      steps: this.state.steps,
      loss: this.state.recentLoss,
      ratios,
      bundledGeomean: geo(groups.bundled),
      bundledFeasible: groups.bundled.filter(Number.isFinite).length,
      generatedGeomean: geo(groups.generated),
      generatedFeasible: groups.generated.filter(Number.isFinite).length,
      slowestSeconds: slowest,
      seconds: (performance.now() - this.started) / 1000,
    };
    this.lossSum = 0;
    this.lossCount = 0;
    return m;
  }

  /** Adam's slots (for checkpoints). */
  optimizerWeights(): Promise<{ iterations: number; tensors: tf.NamedTensorMap }> {
    return this.learner.weights(this.policy);
  }

  setOptimizerWeights(iterations: number, tensors: tf.NamedTensorMap): Promise<void> {
    return this.learner.setWeights(this.policy, iterations, tensors);
  }

  dispose(): void {
    for (const example of this.examples) disposeExample(example);
    this.examples.length = 0;
    this.learner.dispose();
  }
}
