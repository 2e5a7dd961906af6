/**
 * The simulator: the exact arithmetic of DESIGN.md ("Simulator arithmetic").
 *
 * `Simulator` is the hot path: it scores placements held in its own typed
 * arrays without allocating, so searchers can call it millions of times.
 * `evaluate` wraps it into a readable report for the CLI and the exporter.
 * Both share one kernel, so they cannot disagree.
 */
import type { Placement, Problem, Settings } from './problem.js';

const MS_PER_HOUR = 3_600_000;

/** Added to the violation measure per layer placed on a type that cannot run it. */
const UNRUNNABLE_PENALTY = 10;

export class Simulator {
  readonly layerCount: number;
  readonly typeCount: number;

  // The placement being scored (filled by the caller or by `loadAssignment`).
  stageCount = 0;
  readonly stageType: Int32Array;
  readonly stageReplicas: Int32Array;
  readonly stageFirst: Int32Array;
  readonly stageLast: Int32Array;

  // Results of the last `score*` call.
  stepMs = 0;
  pricePerHour = 0;
  costPerStep = 0;
  feasible = false;
  /** 0 when feasible; otherwise grows with how far the placement violates (budget, deadline, memory, counts, profile). */
  violation = 0;
  unrunnableLayers = 0;
  readonly stageForwardMs: Float64Array;
  readonly stageBackwardMs: Float64Array;
  readonly stageAllReduceMs: Float64Array;
  readonly stageMemoryBytes: Float64Array;
  /** linkMs[s]: the link between stage s and s + 1. */
  readonly linkMs: Float64Array;
  readonly unitsUsed: Int32Array;

  private readonly forwardMs: Float64Array;
  private readonly backwardMs: Float64Array;
  private readonly paramBytes: Float64Array;
  private readonly activationBytes: Float64Array;
  /** 4 × param_bytes and M × activation_bytes, the two memory terms, computed once (same floats as inline). */
  private readonly weightStateBytes: Float64Array;
  private readonly stashBytes: Float64Array;
  private readonly price: Float64Array;
  private readonly count: Int32Array;
  private readonly memory: Float64Array;
  private readonly bandwidth: Float64Array;

  constructor(readonly problem: Problem, readonly settings: Settings) {
    const L = problem.layers.length;
    const K = problem.types.length;
    this.layerCount = L;
    this.typeCount = K;
    this.stageType = new Int32Array(L);
    this.stageReplicas = new Int32Array(L);
    this.stageFirst = new Int32Array(L);
    this.stageLast = new Int32Array(L);
    this.stageForwardMs = new Float64Array(L);
    this.stageBackwardMs = new Float64Array(L);
    this.stageAllReduceMs = new Float64Array(L);
    this.stageMemoryBytes = new Float64Array(L);
    this.linkMs = new Float64Array(L);
    this.unitsUsed = new Int32Array(K);
    this.forwardMs = problem.forwardMs;
    this.backwardMs = problem.backwardMs;
    this.paramBytes = Float64Array.from(problem.layers, (layer) => layer.paramBytes);
    this.activationBytes = Float64Array.from(problem.layers, (layer) => layer.activationBytes);
    this.weightStateBytes = Float64Array.from(problem.layers, (layer) => 4 * layer.paramBytes);
    this.stashBytes = Float64Array.from(problem.layers, (layer) => settings.microBatches * layer.activationBytes);
    this.price = Float64Array.from(problem.types, (type) => type.pricePerHour);
    this.count = Int32Array.from(problem.types, (type) => type.count);
    this.memory = Float64Array.from(problem.types, (type) => type.memoryBytes);
    this.bandwidth = Float64Array.from(problem.types, (type) => type.bandwidthBytesPerS);
  }

  /** Sets the placement to the short form: maximal runs of equal types, one replica each. */
  loadAssignment(assignment: ArrayLike<number>): void {
    let s = -1;
    for (let l = 0; l < this.layerCount; l++) {
      const type = assignment[l];
      if (s >= 0 && this.stageType[s] === type) {
        this.stageLast[s] = l;
      } else {
        s++;
        this.stageType[s] = type;
        this.stageReplicas[s] = 1;
        this.stageFirst[s] = l;
        this.stageLast[s] = l;
      }
    }
    this.stageCount = s + 1;
  }

  loadPlacement(placement: Placement): void {
    placement.forEach((stage, s) => {
      this.stageType[s] = stage.type;
      this.stageReplicas[s] = stage.replicas;
      this.stageFirst[s] = stage.first;
      this.stageLast[s] = stage.last;
    });
    this.stageCount = placement.length;
  }

  /** Scores an assignment; returns the objective (step ms or dollars per step). */
  scoreAssignment(assignment: ArrayLike<number>): number {
    this.loadAssignment(assignment);
    return this.score();
  }

  scorePlacement(placement: Placement): number {
    this.loadPlacement(placement);
    return this.score();
  }

  /** The objective of the last scored placement (ignoring feasibility). */
  get objectiveValue(): number {
    return this.settings.objective === 'cost' ? this.costPerStep : this.stepMs;
  }

  /** Scores the placement held in the stage arrays. */
  score(): number {
    const K = this.typeCount;
    const M = this.settings.microBatches;
    const { forwardMs, backwardMs, paramBytes, activationBytes, weightStateBytes, stashBytes, bandwidth } = this;
    this.unitsUsed.fill(0);
    let sumMs = 0;
    let maxForward = 0;
    let maxBackward = 0;
    let maxAllReduce = 0;
    let price = 0;
    let violation = 0;
    let unrunnable = 0;
    for (let s = 0; s < this.stageCount; s++) {
      const k = this.stageType[s];
      const n = this.stageReplicas[s];
      const last = this.stageLast[s];
      const first = this.stageFirst[s];
      let forward = 0;
      let backward = 0;
      let params = 0;
      let memory = 0;
      for (let l = first; l <= last; l++) {
        const cell = l * K + k;
        const f = forwardMs[cell];
        if (f !== f) unrunnable++; // NaN: the pair is not in the profile
        forward += f;
        backward += backwardMs[cell];
        params += paramBytes[l];
        memory += n === 1 ? weightStateBytes[l] + stashBytes[l] : weightStateBytes[l] + stashBytes[l] / n;
      }
      forward /= n;
      backward /= n;
      if (s > 0) {
        const bw = Math.min(bandwidth[this.stageType[s - 1]], bandwidth[k]);
        const tau = (activationBytes[first - 1] / bw) * 1000;
        this.linkMs[s - 1] = tau;
        sumMs += tau + tau;
        if (tau > maxForward) maxForward = tau;
        if (tau > maxBackward) maxBackward = tau;
      }
      sumMs += forward + backward;
      if (forward > maxForward) maxForward = forward;
      if (backward > maxBackward) maxBackward = backward;
      const allReduce = n === 1 ? 0 : ((((2 * (n - 1)) / n) * params) / bandwidth[k]) * 1000;
      if (allReduce > maxAllReduce) maxAllReduce = allReduce;
      price += n * this.price[k];
      this.unitsUsed[k] += n;
      this.stageForwardMs[s] = forward;
      this.stageBackwardMs[s] = backward;
      this.stageAllReduceMs[s] = allReduce;
      this.stageMemoryBytes[s] = memory;
      if (memory > this.memory[k]) violation += memory / this.memory[k] - 1;
    }
    for (let k = 0; k < K; k++) {
      const used = this.unitsUsed[k];
      if (used > this.count[k]) violation += (used - this.count[k]) / Math.max(1, this.count[k]);
    }
    const stepMs = sumMs + (M - 1) * (maxForward + maxBackward) + maxAllReduce;
    const costPerStep = (price * stepMs) / MS_PER_HOUR;
    if (unrunnable > 0) violation += UNRUNNABLE_PENALTY * unrunnable;
    else if (this.settings.objective === 'cost') {
      if (stepMs > this.settings.deadline) violation += stepMs / this.settings.deadline - 1;
    } else if (price > this.settings.budget) {
      violation += price / this.settings.budget - 1;
    }
    this.stepMs = unrunnable > 0 ? NaN : stepMs;
    this.pricePerHour = price;
    this.costPerStep = unrunnable > 0 ? NaN : costPerStep;
    this.unrunnableLayers = unrunnable;
    this.violation = violation;
    this.feasible = violation === 0;
    return this.objectiveValue;
  }
}

/** The bottleneck of a pipeline: the compute stage or link with the largest f + b. */
export interface Bottleneck {
  kind: 'stage' | 'link';
  index: number;
}

export interface StageReport {
  type: string;
  replicas: number;
  firstLayer: string;
  lastLayer: string;
  /** Per replica, for ONE micro-batch. */
  forwardMs: number;
  backwardMs: number;
  allReduceMs: number;
  memoryBytes: number;
  memoryCapacityBytes: number;
  pricePerHour: number;
}

export interface Evaluation {
  feasible: boolean;
  /** null when some layer sits on a type that cannot run it. */
  stepMs: number | null;
  pricePerHour: number;
  costPerStep: number | null;
  stages: StageReport[];
  /** linkMs[s]: the link between stage s and s + 1. */
  linkMs: number[];
  bottleneck: Bottleneck;
  violations: string[];
  objective: Settings['objective'];
  microBatches: number;
  budget: number | null;
  deadline: number | null;
}

const fmt = (x: number, digits = 4) => Number(x.toPrecision(digits)).toString();

/** Scores one placement and explains it: per stage numbers, links, the bottleneck, readable violations. */
export function evaluate(problem: Problem, settings: Settings, placement: Placement): Evaluation {
  const sim = new Simulator(problem, settings);
  sim.scorePlacement(placement);
  const { layers, types } = problem;
  const violations: string[] = [];
  const stages = placement.map((stage, s): StageReport => {
    const type = types[stage.type];
    for (let l = stage.first; l <= stage.last; l++) {
      if (Number.isNaN(problem.forwardMs[l * types.length + stage.type])) {
        violations.push(`layer "${layers[l].name}" cannot run on type "${type.name}" (no row in the profile)`);
      }
    }
    const memoryBytes = sim.stageMemoryBytes[s];
    if (memoryBytes > type.memoryBytes) {
      violations.push(
        `stage ${s + 1} (${layers[stage.first].name}..${layers[stage.last].name} on ${type.name} x${stage.replicas}) needs ${fmt(memoryBytes)} bytes per replica, more than the ${fmt(type.memoryBytes)} of one "${type.name}"`,
      );
    }
    return {
      type: type.name,
      replicas: stage.replicas,
      firstLayer: layers[stage.first].name,
      lastLayer: layers[stage.last].name,
      forwardMs: sim.stageForwardMs[s],
      backwardMs: sim.stageBackwardMs[s],
      allReduceMs: sim.stageAllReduceMs[s],
      memoryBytes,
      memoryCapacityBytes: type.memoryBytes,
      pricePerHour: stage.replicas * type.pricePerHour,
    };
  });
  types.forEach((type, k) => {
    if (sim.unitsUsed[k] > type.count) {
      violations.push(`uses ${sim.unitsUsed[k]} units of "${type.name}", only ${type.count} available`);
    }
  });
  const runnable = sim.unrunnableLayers === 0;
  if (runnable && settings.objective === 'time' && sim.pricePerHour > settings.budget) {
    violations.push(`price ${fmt(sim.pricePerHour, 6)} $/h is over the budget of ${fmt(settings.budget, 6)} $/h`);
  }
  if (runnable && settings.objective === 'cost' && sim.stepMs > settings.deadline) {
    violations.push(`step time ${fmt(sim.stepMs, 6)} ms is over the deadline of ${fmt(settings.deadline, 6)} ms`);
  }
  const linkMs = Array.from(sim.linkMs.subarray(0, Math.max(0, placement.length - 1)));
  return {
    feasible: sim.feasible,
    stepMs: runnable ? sim.stepMs : null,
    pricePerHour: sim.pricePerHour,
    costPerStep: runnable ? sim.costPerStep : null,
    stages,
    linkMs,
    bottleneck: findBottleneck(stages, linkMs),
    violations,
    objective: settings.objective,
    microBatches: settings.microBatches,
    budget: Number.isFinite(settings.budget) ? settings.budget : null,
    deadline: Number.isFinite(settings.deadline) ? settings.deadline : null,
  };
}

function findBottleneck(stages: StageReport[], linkMs: number[]): Bottleneck {
  let best: Bottleneck = { kind: 'stage', index: 0 };
  let bestMs = -Infinity;
  stages.forEach((stage, s) => {
    const ms = stage.forwardMs + stage.backwardMs;
    if (ms > bestMs) [best, bestMs] = [{ kind: 'stage', index: s }, ms];
  });
  linkMs.forEach((ms, s) => {
    if (2 * ms > bestMs) [best, bestMs] = [{ kind: 'link', index: s }, 2 * ms];
  });
  return best;
}
