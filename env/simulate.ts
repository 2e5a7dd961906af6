/**
 * The simulator: the arithmetic of the README section "The model the
 * simulator scores".
 *
 * `Simulator` is the hot path: it scores placements held in its own typed
 * arrays without allocating, so searchers can call it millions of times.
 * Prefix sums per type make a stage's sums O(1), so scoring costs O(stages)
 * (plus one branch-free pass over an assignment to find its runs). Prefix differences can
 * differ from the model's layer-order sums in the last bits; every fast score
 * carries a bound on that difference and is recomputed in layer order when
 * the bound exceeds 1e-10 of the step, or when a constraint is that close to
 * binding, so fast and layer-order scores agree to 1e-10 relative and on
 * feasibility. `scorePlacement` and `evaluate` (the report and placement.json)
 * use the layer-order path itself. `scoreBatch` runs the assignment form's fast
 * path for many assignments per call in a WebAssembly kernel (env/kernel/),
 * with the same operations in the same order: bit for bit scoreAssignment's numbers.
 */
import type { Placement, Problem, Settings } from './problem.js';
import { allReduceMs, layerMemoryBytes, linkMs } from './stage-cost.js';
import { AssignmentKernel, type KernelTables } from './kernel/assignment-kernel.js';

const MS_PER_HOUR = 3_600_000;

/** Added to the violation measure per layer placed on a type that cannot run it. */
const UNRUNNABLE_PENALTY = 10;
/** Added to the violation measure when the step or the price is too large for float64 (Infinity). */
const OVERFLOW_PENALTY = 1e6;
/** Largest relative difference allowed between a fast score and the layer-order one before recomputing. */
const FAST_TOLERANCE = 1e-10;
/** Bound on the rounding of one prefix difference, per unit of the prefix (Kahan-summed prefixes: 3 roundings). */
const PREFIX_ROUNDING = 3.5 * 2 ** -53;

export class Simulator {
  readonly layerCount: number;
  readonly typeCount: number;

  // The placement being scored (filled by the caller or by `loadAssignment`).
  stageCount = 0;
  readonly stageType: Int32Array;
  /** Float64: replica counts beyond 2^31 must not wrap. */
  readonly stageReplicas: Float64Array;
  readonly stageFirst: Int32Array;
  readonly stageLast: Int32Array;

  // Results of the last `score*` call.
  stepMs = 0;
  pricePerHour = 0;
  costPerStep = 0;
  feasible = false;
  /** 0 when feasible; otherwise grows with how far the placement violates (budget, deadline, memory, counts, profile, overflow). */
  violation = 0;
  unrunnableLayers = 0;
  /** True when the step or the price of the last scored placement overflowed float64. */
  overflow = false;
  /** Per-stage details, filled by the layer-order path only (`scorePlacement`, `scoreInLayerOrder`). */
  readonly stageForwardMs: Float64Array;
  readonly stageBackwardMs: Float64Array;
  readonly stageAllReduceMs: Float64Array;
  readonly stageMemoryBytes: Float64Array;
  /** linkMs[s]: the link between stage s and s + 1 (layer-order path only). */
  readonly linkMs: Float64Array;
  readonly unitsUsed: Float64Array;
  /** Assignments scored by the fast path that had to be recomputed in layer order (rounding or a binding constraint). */
  recomputed = 0;

  private readonly forwardMs: Float64Array;
  private readonly backwardMs: Float64Array;
  private readonly paramBytes: Float64Array;
  private readonly activationBytes: Float64Array;
  private readonly price: Float64Array;
  private readonly count: Float64Array;
  private readonly memory: Float64Array;
  private readonly bandwidth: Float64Array;
  /** linkActivation[l]: the activation crossing the link before layer l (layer l − 1's), 0 for l = 0. */
  private readonly linkActivation: Float64Array;
  /** minBandwidth[from * K + to]: the slower of the two types' bandwidths, linkMs's divisor. */
  private readonly minBandwidth: Float64Array;
  /** memory × (1 ± 1e-12) per type: a stage's prefix-summed memory above memoryHigh breaks the limit, between the two is too close to call. */
  private readonly memoryHigh: Float64Array;
  private readonly memoryLow: Float64Array;
  private readonly microBatches: number;
  private readonly costObjective: boolean;
  private readonly budget: number;
  private readonly deadline: number;

  // Prefix sums, type-major: prefixForward[k * (L + 1) + l] = Σ forward of layers 0..l-1 on type k
  // (NaN pairs count 0 there and 1 in prefixUnrunnable).
  private readonly prefixForward: Float64Array;
  private readonly prefixBackward: Float64Array;
  private readonly prefixUnrunnable: Int32Array | null;
  private readonly prefixParams: Float64Array;
  private readonly prefixWeightState: Float64Array;
  private readonly prefixStash: Float64Array;
  /** Memory of one layer on one replica (4 p + M a), prefix-summed: the assignment form's stage memory. */
  private readonly prefixMemory: Float64Array;
  /** Rounding allowance of the (M − 1)(max f + max b) term, per unit of prefix. */
  private readonly maxTermsError: number;
  /** When prefix sums overflow or lose too much: every score goes the layer-order way. */
  private readonly layerOrderOnly: boolean;

  constructor(readonly problem: Problem, readonly settings: Settings) {
    const L = problem.layers.length;
    const K = problem.types.length;
    const M = settings.microBatches;
    this.layerCount = L;
    this.typeCount = K;
    this.stageType = new Int32Array(L);
    this.stageReplicas = new Float64Array(L);
    this.stageFirst = new Int32Array(L);
    this.stageLast = new Int32Array(L);
    this.stageForwardMs = new Float64Array(L);
    this.stageBackwardMs = new Float64Array(L);
    this.stageAllReduceMs = new Float64Array(L);
    this.stageMemoryBytes = new Float64Array(L);
    this.linkMs = new Float64Array(L);
    this.unitsUsed = new Float64Array(K);
    this.forwardMs = problem.forwardMs;
    this.backwardMs = problem.backwardMs;
    this.paramBytes = Float64Array.from(problem.layers, (layer) => layer.paramBytes);
    this.activationBytes = Float64Array.from(problem.layers, (layer) => layer.activationBytes);
    this.price = Float64Array.from(problem.types, (type) => type.pricePerHour);
    // Float64: counts beyond 2^31 must not wrap.
    this.count = Float64Array.from(problem.types, (type) => type.count);
    this.memory = Float64Array.from(problem.types, (type) => type.memoryBytes);
    this.bandwidth = Float64Array.from(problem.types, (type) => type.bandwidthBytesPerS);
    this.microBatches = M;
    this.linkActivation = new Float64Array(L);
    for (let l = 1; l < L; l++) this.linkActivation[l] = this.activationBytes[l - 1];
    this.minBandwidth = new Float64Array(K * K);
    for (let from = 0; from < K; from++) {
      for (let to = 0; to < K; to++) this.minBandwidth[from * K + to] = this.bandwidth[from] < this.bandwidth[to] ? this.bandwidth[from] : this.bandwidth[to];
    }
    this.memoryHigh = this.memory.map((capacity) => capacity * (1 + 1e-12));
    this.memoryLow = this.memory.map((capacity) => capacity * (1 - 1e-12));
    this.costObjective = settings.objective === 'cost';
    this.budget = settings.budget;
    this.deadline = settings.deadline;

    const stride = L + 1;
    this.prefixForward = new Float64Array(K * stride);
    this.prefixBackward = new Float64Array(K * stride);
    let anyUnrunnable = false;
    for (let cell = 0; cell < L * K; cell++) if (Number.isNaN(problem.forwardMs[cell])) anyUnrunnable = true;
    this.prefixUnrunnable = anyUnrunnable ? new Int32Array(K * stride) : null;
    let largestTotal = 0;
    for (let k = 0; k < K; k++) {
      const at = k * stride;
      const f = kahanPrefix(L, (l) => zeroIfNaN(problem.forwardMs[l * K + k]), this.prefixForward, at);
      const b = kahanPrefix(L, (l) => zeroIfNaN(problem.backwardMs[l * K + k]), this.prefixBackward, at);
      largestTotal = Math.max(largestTotal, f + b);
      if (this.prefixUnrunnable) {
        for (let l = 0; l < L; l++) {
          this.prefixUnrunnable[at + l + 1] = this.prefixUnrunnable[at + l] + (Number.isNaN(problem.forwardMs[l * K + k]) ? 1 : 0);
        }
      }
    }
    this.prefixParams = new Float64Array(stride);
    this.prefixWeightState = new Float64Array(stride);
    this.prefixStash = new Float64Array(stride);
    this.prefixMemory = new Float64Array(stride);
    const totalParams = kahanPrefix(L, (l) => this.paramBytes[l], this.prefixParams, 0);
    const totalWeights = kahanPrefix(L, (l) => 4 * this.paramBytes[l], this.prefixWeightState, 0);
    const totalStash = kahanPrefix(L, (l) => M * this.activationBytes[l], this.prefixStash, 0);
    const totalMemory = kahanPrefix(L, (l) => layerMemoryBytes(this.paramBytes[l], this.activationBytes[l], M, 1), this.prefixMemory, 0);
    this.maxTermsError = (M - 1) * largestTotal;
    // Also when a bandwidth is not positive: the fast path's link before the first stage (0 / bandwidth) must be 0.
    this.layerOrderOnly = ![largestTotal, totalParams, totalWeights, totalStash, totalMemory].every((x) => x < 1e300) || !this.bandwidth.every((x) => x > 0);
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

  /**
   * Scores an assignment (its short form) by prefix sums; returns the objective (step ms or dollars per step).
   * Types are integers in [0, typeCount). The stage arrays hold the short form afterwards.
   */
  scoreAssignment(assignment: ArrayLike<number>): number {
    return this.scoreRow(assignment, 0);
  }

  /**
   * Scores `count` assignments stored row after row in `assignments` (count × layerCount types):
   * objectives[i] gets the objective of row i (NaN when a layer cannot run on its type) and
   * violations[i] its violation (0 exactly when feasible): bit for bit what scoreAssignment gives row
   * by row. The rows are scored by the WebAssembly kernel (env/kernel/assignment-kernel.wat) a window
   * at a time; rows it cannot decide (too close to a limit or to rounding) are recomputed here in layer
   * order, as scoreAssignment would. The simulator's other fields describe the last row afterwards
   * (it is scored once more in JavaScript to fill the stage arrays).
   */
  scoreBatch(assignments: Int32Array, count: number, objectives: Float64Array, violations: Float64Array): void {
    if (count >= 2 && !this.layerOrderOnly && this.kernel === undefined) this.kernel = AssignmentKernel.create(this.kernelTables());
    const kernel = this.kernel;
    if (count < 2 || this.layerOrderOnly || !kernel) {
      this.scoreBatchInJs(assignments, count, objectives, violations);
      return;
    }
    const L = this.layerCount;
    const W = kernel.windowRows;
    let lastInJs = false;
    // Window by window: copy the rows in, score them there, copy the results out.
    for (let start = 0; start < count; start += W) {
      const n = Math.min(W, count - start);
      kernel.rows.set(assignments.subarray(start * L, (start + n) * L));
      kernel.scoreWindow(n);
      objectives.set(kernel.objectives.subarray(0, n), start);
      violations.set(kernel.violations.subarray(0, n), start);
      const { recompute } = kernel;
      for (let i = 0; i < n; i++) {
        if (recompute[i] === 0) continue;
        // Too close to call from prefix sums: scoreRow recomputes it in layer order.
        objectives[start + i] = this.scoreRow(assignments, (start + i) * L);
        violations[start + i] = this.violation;
        lastInJs = start + i === count - 1;
      }
    }
    // The stage arrays and results describe the last row, as the one-call-per-row path leaves them.
    if (!lastInJs) this.scoreRow(assignments, (count - 1) * L);
  }

  /** scoreBatch without the WebAssembly kernel: scoreAssignment row by row (the reference the kernel is tested and benchmarked against). */
  scoreBatchInJs(assignments: Int32Array, count: number, objectives: Float64Array, violations: Float64Array): void {
    const L = this.layerCount;
    for (let i = 0; i < count; i++) {
      objectives[i] = this.scoreRow(assignments, i * L);
      violations[i] = this.violation;
    }
  }

  /** The WebAssembly kernel of scoreBatch, made on its first use (most simulators never batch); null when it does not take the problem. */
  private kernel: AssignmentKernel | null | undefined = undefined;

  /**
   * Makes scoreBatch use this build of the kernel (the benchmark's ablations: a build of
   * assignment-kernel.wat with a part left out). Returns false when the kernel does not take the problem.
   */
  useKernelModule(module: WebAssembly.Module): boolean {
    this.kernel = this.layerOrderOnly ? null : AssignmentKernel.create(this.kernelTables(), module);
    return this.kernel !== null;
  }

  private kernelTables(): KernelTables {
    return {
      layerCount: this.layerCount,
      typeCount: this.typeCount,
      prefixForward: this.prefixForward,
      prefixBackward: this.prefixBackward,
      prefixUnrunnable: this.prefixUnrunnable,
      prefixMemory: this.prefixMemory,
      linkActivation: this.linkActivation,
      minBandwidth: this.minBandwidth,
      price: this.price,
      memoryLow: this.memoryLow,
      memoryHigh: this.memoryHigh,
      memory: this.memory,
      count: this.count,
      microBatches: this.microBatches,
      maxTermsError: this.maxTermsError,
      prefixRounding: PREFIX_ROUNDING,
      fastTolerance: FAST_TOLERANCE,
      costObjective: this.costObjective,
      budget: this.budget,
      deadline: this.deadline,
    };
  }

  /** Scores a placement in layer order, the model's own arithmetic (what reports and placement.json use). */
  scorePlacement(placement: Placement): number {
    this.loadPlacement(placement);
    return this.scoreInLayerOrder();
  }

  /** The objective of the last scored placement (ignoring feasibility). */
  get objectiveValue(): number {
    return this.costObjective ? this.costPerStep : this.stepMs;
  }

  /**
   * The assignment form's fast path: finds the runs of `assignment` from `offset` on and scores them by
   * prefix sums. O(layers) integer work to find the runs (branch-free, 32 layers per word) plus O(stages)
   * float work; no allocation. The link before each stage is linkMs's arithmetic from two small tables.
   */
  private scoreRow(assignment: ArrayLike<number>, offset: number): number {
    if (this.layerOrderOnly) {
      this.loadRow(assignment, offset);
      return this.scoreInLayerOrder();
    }
    const L = this.layerCount;
    const K = this.typeCount;
    const stride = L + 1;
    const { prefixForward, prefixBackward, prefixUnrunnable, prefixMemory, linkActivation, minBandwidth, price, memoryHigh, memoryLow, unitsUsed } = this;
    const { stageType, stageFirst, stageLast, stageReplicas } = this;
    for (let k = 0; k < K; k++) unitsUsed[k] = 0;
    let sumMs = 0;
    let maxForward = 0;
    let maxBackward = 0;
    let totalPrice = 0;
    let violation = 0;
    let unrunnable = 0;
    let magnitude = 0; // Σ of the prefixes read: bounds the rounding of the prefix differences
    let nearLimit = false;
    let s = 0;
    let first = 0;
    let memoryAtFirst = 0;
    let type = assignment[offset];
    let previous = type;
    let maxLink = 0;
    // Stage boundaries 32 layers at a time, as the bits of one integer: bit j of `ends` is set when
    // a run ends before layer base + j (the type changes there, or base + j = L). Building it is
    // branch-free (types are small non-negative integers, so -(x ^ y) is negative exactly when
    // they differ); the stages are then taken lowest bit first, one per set bit.
    for (let base = 0; base <= L; base += 32) {
      let ends = 0;
      const top = base + 32 < L ? base + 32 : L;
      let l = base === 0 ? 1 : base;
      // Four layers per iteration (fewer loop-back checks), then the rest one by one.
      for (; l + 4 <= top; l += 4) {
        const x0 = assignment[offset + l];
        const x1 = assignment[offset + l + 1];
        const x2 = assignment[offset + l + 2];
        const x3 = assignment[offset + l + 3];
        ends |= ((-(x0 ^ type) >>> 31) | ((-(x1 ^ x0) >>> 31) << 1) | ((-(x2 ^ x1) >>> 31) << 2) | ((-(x3 ^ x2) >>> 31) << 3)) << (l - base);
        type = x3;
      }
      for (; l < top; l++) {
        const next = assignment[offset + l];
        ends |= (-(next ^ type) >>> 31) << (l - base);
        type = next;
      }
      if (L < base + 32) ends |= 1 << (L - base);
      while (ends !== 0) {
        const end = base + 31 - Math.clz32(ends & -ends);
        ends &= ends - 1;
        // Stage s: layers first..end-1 on type k, one unit.
        const k = assignment[offset + first];
        const at = k * stride;
        const endForward = prefixForward[at + end];
        const endBackward = prefixBackward[at + end];
        const forward = endForward - prefixForward[at + first];
        const backward = endBackward - prefixBackward[at + first];
        magnitude += endForward + endBackward;
        if (prefixUnrunnable !== null) unrunnable += prefixUnrunnable[at + end] - prefixUnrunnable[at + first];
        // The link before the stage: linkMs's arithmetic, operand for operand (before the first
        // stage the activation is 0, so tau is 0: bandwidths are positive, see layerOrderOnly).
        const tau = (linkActivation[first] / minBandwidth[previous * K + k]) * 1000;
        sumMs += tau + tau;
        if (tau > maxLink) maxLink = tau;
        sumMs += forward + backward;
        if (forward > maxForward) maxForward = forward;
        if (backward > maxBackward) maxBackward = backward;
        totalPrice += price[k];
        unitsUsed[k]++;
        const memoryAtEnd = prefixMemory[end];
        const stageMemory = memoryAtEnd - memoryAtFirst;
        if (stageMemory > memoryLow[k]) {
          if (stageMemory > memoryHigh[k]) violation += stageMemory / this.memory[k] - 1;
          else nearLimit = true;
        }
        stageType[s] = k;
        stageReplicas[s] = 1;
        stageFirst[s] = first;
        stageLast[s] = end - 1;
        s++;
        previous = k;
        first = end;
        memoryAtFirst = memoryAtEnd;
      }
    }
    this.stageCount = s;
    // A link counts in both directions: the largest link joins both maxima once, here.
    if (maxLink > maxForward) maxForward = maxLink;
    if (maxLink > maxBackward) maxBackward = maxLink;
    const stepMs = sumMs + (this.microBatches - 1) * (maxForward + maxBackward);
    // Rounding allowance of this score against the layer-order one (see the file comment).
    const allowance = PREFIX_ROUNDING * (magnitude + this.maxTermsError);
    if (nearLimit || allowance > FAST_TOLERANCE * stepMs || (this.costObjective && Math.abs(stepMs - this.deadline) <= allowance)) {
      this.recomputed++;
      return this.scoreInLayerOrder();
    }
    return this.finish(stepMs, totalPrice, violation, unrunnable);
  }

  // The current assignment of the local-move API, as stages with their terms and running sums over stages.
  private moveAssignment = new Int32Array(0);
  private moveStageOf = new Int32Array(0);
  private moveStageCount = 0;
  private moveType = new Int32Array(0);
  private moveFirst = new Int32Array(0);
  private moveLast = new Int32Array(0);
  private moveForward = new Float64Array(0);
  /** Per stage: f + b + 2 × its incoming link; prefix over stages in moveSum. */
  private moveSum = new Float64Array(0);
  private moveViolation = new Float64Array(0);
  private moveUnrunnable = new Int32Array(0);
  private moveBackward = new Float64Array(0);
  private moveLinkIn = new Float64Array(0);
  /** Largest f (b) of stages < s, their incoming links included; and of stages >= s. */
  private moveMaxForwardBefore = new Float64Array(0);
  private moveMaxBackwardBefore = new Float64Array(0);
  private moveMaxForwardFrom = new Float64Array(0);
  private moveMaxBackwardFrom = new Float64Array(0);
  private moveMagnitude = 0;
  private moveUsed = new Float64Array(0);
  /** Prefix over stages of how many break their memory (so the rest's violation is exactly 0 when none do). */
  private moveViolating = new Int32Array(0);
  private moveScratchUsed = new Float64Array(0);
  private currentObjective = NaN;
  /** stepMs, pricePerHour, costPerStep, violation, unrunnableLayers, overflow (1/0) of the current assignment. */
  private readonly currentResults = new Float64Array(6);

  /** The results of the current assignment, as setCurrent left them. */
  private restoreCurrent(): number {
    const results = this.currentResults;
    this.stepMs = results[0];
    this.pricePerHour = results[1];
    this.costPerStep = results[2];
    this.violation = results[3];
    this.unrunnableLayers = results[4];
    this.overflow = results[5] === 1;
    this.feasible = results[3] === 0;
    this.unitsUsed.set(this.moveUsed);
    return this.currentObjective;
  }

  /**
   * Makes `assignment` the current one for `scoreMove` and scores it (O(layers)).
   * The stage arrays and results describe it afterwards.
   */
  setCurrent(assignment: ArrayLike<number>): number {
    const L = this.layerCount;
    if (this.moveAssignment.length !== L) {
      this.moveAssignment = new Int32Array(L);
      this.moveStageOf = new Int32Array(L);
      for (const name of ['moveType', 'moveFirst', 'moveLast', 'moveUnrunnable'] as const) this[name] = new Int32Array(L + 1);
      for (const name of ['moveForward', 'moveBackward', 'moveLinkIn', 'moveSum', 'moveViolation', 'moveMaxForwardBefore', 'moveMaxBackwardBefore', 'moveMaxForwardFrom', 'moveMaxBackwardFrom'] as const) {
        this[name] = new Float64Array(L + 2);
      }
      this.moveUsed = new Float64Array(this.typeCount);
      this.moveViolating = new Int32Array(L + 1);
      this.moveScratchUsed = new Float64Array(this.typeCount);
    }
    for (let l = 0; l < L; l++) this.moveAssignment[l] = assignment[l];
    const objective = this.scoreRow(this.moveAssignment, 0);
    this.currentObjective = objective;
    const S = this.stageCount;
    const stride = L + 1;
    this.moveStageCount = S;
    this.moveUsed.set(this.unitsUsed);
    let magnitude = 0;
    const results = this.currentResults;
    results[0] = this.stepMs;
    results[1] = this.pricePerHour;
    results[2] = this.costPerStep;
    results[3] = this.violation;
    results[4] = this.unrunnableLayers;
    results[5] = this.overflow ? 1 : 0;
    this.moveSum[0] = 0;
    this.moveViolation[0] = 0;
    this.moveUnrunnable[0] = 0;
    this.moveViolating[0] = 0;
    this.moveMaxForwardBefore[0] = 0;
    this.moveMaxBackwardBefore[0] = 0;
    for (let s = 0; s < S; s++) {
      const k = this.stageType[s];
      const first = this.stageFirst[s];
      const end = this.stageLast[s] + 1;
      this.moveType[s] = k;
      this.moveFirst[s] = first;
      this.moveLast[s] = end - 1;
      for (let l = first; l < end; l++) this.moveStageOf[l] = s;
      const at = k * stride;
      const forward = this.prefixForward[at + end] - this.prefixForward[at + first];
      const backward = this.prefixBackward[at + end] - this.prefixBackward[at + first];
      magnitude += this.prefixForward[at + end] + this.prefixBackward[at + end];
      const tau = s > 0 ? linkMs(this.activationBytes[first - 1], this.bandwidth[this.stageType[s - 1]], this.bandwidth[k]) : 0;
      this.moveForward[s] = forward;
      this.moveBackward[s] = backward;
      this.moveLinkIn[s] = tau;
      this.moveSum[s + 1] = this.moveSum[s] + forward + backward + tau + tau;
      const memory = this.prefixMemory[end] - this.prefixMemory[first];
      this.moveViolation[s + 1] = this.moveViolation[s] + (memory > this.memory[k] ? memory / this.memory[k] - 1 : 0);
      this.moveViolating[s + 1] = this.moveViolating[s] + (memory > this.memory[k] ? 1 : 0);
      const unrunnable = this.prefixUnrunnable === null ? 0 : this.prefixUnrunnable[at + end] - this.prefixUnrunnable[at + first];
      this.moveUnrunnable[s + 1] = this.moveUnrunnable[s] + unrunnable;
      this.moveMaxForwardBefore[s + 1] = Math.max(this.moveMaxForwardBefore[s], forward, tau);
      this.moveMaxBackwardBefore[s + 1] = Math.max(this.moveMaxBackwardBefore[s], backward, tau);
    }
    this.moveMaxForwardFrom[S] = 0;
    this.moveMaxBackwardFrom[S] = 0;
    for (let s = S - 1; s >= 0; s--) {
      this.moveMaxForwardFrom[s] = Math.max(this.moveMaxForwardFrom[s + 1], this.moveForward[s], this.moveLinkIn[s]);
      this.moveMaxBackwardFrom[s] = Math.max(this.moveMaxBackwardFrom[s + 1], this.moveBackward[s], this.moveLinkIn[s]);
    }
    this.moveMagnitude = magnitude;
    return objective;
  }

  /**
   * The objective of the current assignment (setCurrent) with layer `layer` moved to type `type`,
   * without making it current: only the stages around the layer are re-scored (O(1) stages, O(types)).
   * Sets the results (stepMs, feasible, violation, …) but not the stage arrays. Agrees with
   * scoreAssignment of the moved assignment to 1e-10 relative (recomputed otherwise).
   */
  scoreMove(layer: number, type: number): number {
    const assignment = this.moveAssignment;
    const old = assignment[layer];
    if (old === type) return this.restoreCurrent();
    if (this.layerOrderOnly) return this.scoreMoveFully(layer, type);
    const L = this.layerCount;
    const stride = L + 1;
    const S = this.moveStageCount;
    const s = this.moveStageOf[layer];
    const a = s > 0 ? s - 1 : 0;
    const b = s < S - 1 ? s + 1 : S - 1;
    const { prefixForward, prefixBackward, prefixUnrunnable, prefixMemory, activationBytes, bandwidth, memory, price } = this;
    // The window's layers (stages a..b) as up to five segments, merged where types meet.
    const segType = this.segType;
    const segFirst = this.segFirst;
    const segEnd = this.segEnd;
    this.segments = 0;
    if (a < s) this.pushSegment(this.moveType[a], this.moveFirst[a], this.moveLast[a] + 1);
    this.pushSegment(old, this.moveFirst[s], layer);
    this.pushSegment(type, layer, layer + 1);
    this.pushSegment(old, layer + 1, this.moveLast[s] + 1);
    if (b > s) this.pushSegment(this.moveType[b], this.moveFirst[b], this.moveLast[b] + 1);
    const segments = this.segments;
    const used = this.moveScratchUsed;
    used.set(this.moveUsed);
    for (let w = a; w <= b; w++) used[this.moveType[w]]--;
    let sumMs = this.moveSum[S] - (this.moveSum[b + 1] - this.moveSum[a]);
    let maxForward = this.moveMaxForwardBefore[a];
    let maxBackward = this.moveMaxBackwardBefore[a];
    const violatingOutside = this.moveViolating[S] - (this.moveViolating[b + 1] - this.moveViolating[a]);
    let violation = violatingOutside === 0 ? 0 : Math.max(1e-12, this.moveViolation[a] + (this.moveViolation[S] - this.moveViolation[b + 1]));
    let unrunnable = this.moveUnrunnable[S] - (this.moveUnrunnable[b + 1] - this.moveUnrunnable[a]);
    let magnitude = this.moveMagnitude + this.moveSum[S];
    let nearLimit = false;
    let previous = a > 0 ? this.moveType[a - 1] : -1;
    for (let g = 0; g < segments; g++) {
      const k = segType[g];
      const first = segFirst[g];
      const end = segEnd[g];
      const at = k * stride;
      const forward = prefixForward[at + end] - prefixForward[at + first];
      const backward = prefixBackward[at + end] - prefixBackward[at + first];
      magnitude += prefixForward[at + end] + prefixBackward[at + end];
      if (prefixUnrunnable !== null) unrunnable += prefixUnrunnable[at + end] - prefixUnrunnable[at + first];
      if (previous >= 0) {
        const tau = linkMs(activationBytes[first - 1], bandwidth[previous], bandwidth[k]);
        sumMs += tau + tau;
        if (tau > maxForward) maxForward = tau;
        if (tau > maxBackward) maxBackward = tau;
      }
      sumMs += forward + backward;
      if (forward > maxForward) maxForward = forward;
      if (backward > maxBackward) maxBackward = backward;
      used[k]++;
      const stageMemory = prefixMemory[end] - prefixMemory[first];
      const capacity = memory[k];
      if (stageMemory > capacity * (1 + 1e-12)) violation += stageMemory / capacity - 1;
      else if (stageMemory > capacity * (1 - 1e-12)) nearLimit = true;
      previous = k;
    }
    // Units × price per type: positive terms only (subtracting the window's prices could cancel).
    let totalPrice = 0;
    for (let k = 0; k < this.typeCount; k++) if (used[k] !== 0) totalPrice += used[k] * price[k];
    if (b + 1 < S) {
      // The stage after the window keeps its terms; only its incoming link may change.
      const next = this.moveType[b + 1];
      const tau = linkMs(activationBytes[this.moveFirst[b + 1] - 1], bandwidth[previous], bandwidth[next]);
      const oldTau = this.moveLinkIn[b + 1];
      sumMs += tau + tau - oldTau - oldTau;
      const forward = this.moveForward[b + 1];
      const backward = this.moveBackward[b + 1];
      maxForward = Math.max(maxForward, forward, tau, this.moveMaxForwardFrom[b + 2]);
      maxBackward = Math.max(maxBackward, backward, tau, this.moveMaxBackwardFrom[b + 2]);
    }
    const stepMs = sumMs + (this.microBatches - 1) * (maxForward + maxBackward);
    // Subtracting the window from the running sums costs a few roundings of the whole sum too.
    const allowance = PREFIX_ROUNDING * (magnitude + this.maxTermsError) + 8 * 2 ** -53 * this.moveSum[S];
    if (nearLimit || allowance > FAST_TOLERANCE * stepMs || (this.costObjective && Math.abs(stepMs - this.deadline) <= allowance) ||
      (!this.costObjective && Math.abs(totalPrice - this.budget) <= 1e-9 * this.budget)) {
      return this.scoreMoveFully(layer, type);
    }
    return this.finish(stepMs, totalPrice, violation, unrunnable, used);
  }

  private segments = 0;
  private pushSegment(k: number, first: number, end: number): void {
    if (end <= first) return;
    const n = this.segments;
    if (n > 0 && this.segType[n - 1] === k) this.segEnd[n - 1] = end;
    else {
      this.segType[n] = k;
      this.segFirst[n] = first;
      this.segEnd[n] = end;
      this.segments = n + 1;
    }
  }

  private readonly segType = new Int32Array(5);
  private readonly segFirst = new Int32Array(5);
  private readonly segEnd = new Int32Array(5);

  /** scoreMove the slow way: the whole moved assignment (rounding too close to call, or prefixes unusable). */
  private scoreMoveFully(layer: number, type: number): number {
    this.recomputed++;
    const old = this.moveAssignment[layer];
    this.moveAssignment[layer] = type;
    const objective = this.scoreRow(this.moveAssignment, 0);
    this.moveAssignment[layer] = old;
    return objective;
  }

  /** Makes the move current (O(layers)); returns its objective. */
  applyMove(layer: number, type: number): number {
    this.moveAssignment[layer] = type;
    return this.setCurrent(this.moveAssignment);
  }

  private loadRow(assignment: ArrayLike<number>, offset: number): void {
    if (offset === 0) this.loadAssignment(assignment);
    else this.loadAssignment(Array.prototype.slice.call(assignment, offset, offset + this.layerCount) as number[]);
  }

  /**
   * Scores the placement held in the stage arrays (any replicas) by prefix sums: O(stages).
   * Falls back to the layer-order path under the same rule as the assignment form.
   */
  score(): number {
    if (this.layerOrderOnly) return this.scoreInLayerOrder();
    const L = this.layerCount;
    const stride = L + 1;
    const M = this.microBatches;
    const { prefixForward, prefixBackward, prefixUnrunnable, prefixParams, prefixWeightState, prefixStash, activationBytes, bandwidth, memory, price, unitsUsed } = this;
    unitsUsed.fill(0);
    let sumMs = 0;
    let maxForward = 0;
    let maxBackward = 0;
    let maxAllReduce = 0;
    let totalPrice = 0;
    let violation = 0;
    let unrunnable = 0;
    let magnitude = 0;
    let nearLimit = false;
    for (let s = 0; s < this.stageCount; s++) {
      const k = this.stageType[s];
      const n = this.stageReplicas[s];
      const first = this.stageFirst[s];
      const end = this.stageLast[s] + 1;
      const at = k * stride;
      const endForward = prefixForward[at + end];
      const endBackward = prefixBackward[at + end];
      const forward = (endForward - prefixForward[at + first]) / n;
      const backward = (endBackward - prefixBackward[at + first]) / n;
      magnitude += endForward + endBackward;
      if (prefixUnrunnable !== null) unrunnable += prefixUnrunnable[at + end] - prefixUnrunnable[at + first];
      if (s > 0) {
        const tau = linkMs(activationBytes[first - 1], bandwidth[this.stageType[s - 1]], bandwidth[k]);
        sumMs += tau + tau;
        if (tau > maxForward) maxForward = tau;
        if (tau > maxBackward) maxBackward = tau;
      }
      sumMs += forward + backward;
      if (forward > maxForward) maxForward = forward;
      if (backward > maxBackward) maxBackward = backward;
      const allReduce = allReduceMs(n, prefixParams[end] - prefixParams[first], bandwidth[k]);
      if (allReduce > maxAllReduce) maxAllReduce = allReduce;
      totalPrice += n * price[k];
      unitsUsed[k] += n;
      const stageMemory = prefixWeightState[end] - prefixWeightState[first] + (prefixStash[end] - prefixStash[first]) / n;
      const capacity = memory[k];
      if (stageMemory > capacity * (1 + 1e-12)) violation += stageMemory / capacity - 1;
      else if (stageMemory > capacity * (1 - 1e-12)) nearLimit = true;
    }
    const stepMs = sumMs + (M - 1) * (maxForward + maxBackward) + maxAllReduce;
    const allowance = PREFIX_ROUNDING * (magnitude + this.maxTermsError) + (maxAllReduce > 0 ? 1e-15 * maxAllReduce : 0);
    if (nearLimit || allowance > FAST_TOLERANCE * stepMs || (this.costObjective && Math.abs(stepMs - this.deadline) <= allowance)) {
      this.recomputed++;
      return this.scoreInLayerOrder();
    }
    return this.finish(stepMs, totalPrice, violation, unrunnable);
  }

  /** Unit counts, the budget or deadline, overflow and unrunnable layers: the violation, then the results. */
  private finish(stepMs: number, totalPrice: number, violation: number, unrunnable: number, used: Float64Array = this.unitsUsed): number {
    const K = this.typeCount;
    for (let k = 0; k < K; k++) {
      const available = this.count[k];
      if (used[k] > available) violation += (used[k] - available) / Math.max(1, available);
    }
    const costPerStep = (totalPrice * stepMs) / MS_PER_HOUR;
    const overflow = unrunnable === 0 && !(stepMs < Infinity && totalPrice < Infinity && costPerStep < Infinity);
    if (unrunnable > 0) violation += UNRUNNABLE_PENALTY * unrunnable;
    else if (overflow) violation += OVERFLOW_PENALTY;
    else if (this.costObjective) {
      if (stepMs > this.deadline) violation += stepMs / this.deadline - 1;
    } else if (totalPrice > this.budget) {
      violation += totalPrice / this.budget - 1;
    }
    this.stepMs = unrunnable > 0 ? NaN : stepMs;
    this.pricePerHour = totalPrice;
    this.costPerStep = unrunnable > 0 ? NaN : costPerStep;
    this.unrunnableLayers = unrunnable;
    this.overflow = overflow;
    this.violation = violation;
    this.feasible = violation === 0;
    return this.objectiveValue;
  }

  /** Scores the placement held in the stage arrays exactly as the model writes it: sums in layer order. */
  scoreInLayerOrder(): number {
    const M = this.microBatches;
    const { forwardMs, backwardMs, paramBytes, activationBytes, bandwidth } = this;
    const K = this.typeCount;
    this.unitsUsed.fill(0);
    let sumMs = 0;
    let maxForward = 0;
    let maxBackward = 0;
    let maxAllReduce = 0;
    let totalPrice = 0;
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
        memory += layerMemoryBytes(paramBytes[l], activationBytes[l], M, n);
      }
      forward /= n;
      backward /= n;
      if (s > 0) {
        const tau = linkMs(activationBytes[first - 1], bandwidth[this.stageType[s - 1]], bandwidth[k]);
        this.linkMs[s - 1] = tau;
        sumMs += tau + tau;
        if (tau > maxForward) maxForward = tau;
        if (tau > maxBackward) maxBackward = tau;
      }
      sumMs += forward + backward;
      if (forward > maxForward) maxForward = forward;
      if (backward > maxBackward) maxBackward = backward;
      const allReduce = allReduceMs(n, params, bandwidth[k]);
      if (allReduce > maxAllReduce) maxAllReduce = allReduce;
      totalPrice += n * this.price[k];
      this.unitsUsed[k] += n;
      this.stageForwardMs[s] = forward;
      this.stageBackwardMs[s] = backward;
      this.stageAllReduceMs[s] = allReduce;
      this.stageMemoryBytes[s] = memory;
      if (memory > this.memory[k]) violation += memory / this.memory[k] - 1;
    }
    const stepMs = sumMs + (M - 1) * (maxForward + maxBackward) + maxAllReduce;
    return this.finish(stepMs, totalPrice, violation, unrunnable);
  }
}

const zeroIfNaN = (x: number) => (x === x ? x : 0);

/** out[at + i] = Σ value(0..i-1), compensated (Kahan) so each stored prefix is within about one rounding of the true sum; returns the total. */
function kahanPrefix(n: number, value: (i: number) => number, out: Float64Array, at: number): number {
  let sum = 0;
  let carry = 0;
  out[at] = 0;
  for (let i = 0; i < n; i++) {
    const y = value(i) - carry;
    const t = sum + y;
    carry = t - sum - y;
    sum = t;
    out[at + i + 1] = sum;
  }
  return sum;
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
  /** null when some layer sits on a type that cannot run it, or the step overflows float64 (then infeasible). */
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
  if (runnable && sim.overflow) {
    violations.push(`the step time or the price is too large to compute in float64 (${sim.stepMs} ms, ${sim.pricePerHour} $/h): some time, price or size is out of range`);
  }
  if (runnable && !sim.overflow && settings.objective === 'time' && sim.pricePerHour > settings.budget) {
    violations.push(`price ${fmt(sim.pricePerHour, 6)} $/h is over the budget of ${fmt(settings.budget, 6)} $/h`);
  }
  if (runnable && !sim.overflow && settings.objective === 'cost' && sim.stepMs > settings.deadline) {
    violations.push(`step time ${fmt(sim.stepMs, 6)} ms is over the deadline of ${fmt(settings.deadline, 6)} ms`);
  }
  const linkMs = Array.from(sim.linkMs.subarray(0, Math.max(0, placement.length - 1)));
  return {
    feasible: sim.feasible,
    stepMs: runnable && Number.isFinite(sim.stepMs) ? sim.stepMs : null,
    pricePerHour: sim.pricePerHour,
    costPerStep: runnable && Number.isFinite(sim.costPerStep) ? sim.costPerStep : null,
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
