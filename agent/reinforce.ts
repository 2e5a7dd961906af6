/**
 * The policy-gradient agent (`reinforce`): REINFORCE over the policy of
 * agent/policy.ts, with the simulator as the environment.
 *
 * One iteration (an "update"):
 *  1. one forward pass gives π(type | layer) for every layer;
 *  2. `batchSize` assignments are sampled from it (seeded generator);
 *  3. each is decoded into a placement (cuts and replicas for those types, see
 *     `decoder` below) and scored by the simulator; repeats come from a cache;
 *  4. reward: r = scale / objective when feasible (> 0), r = -violation when
 *     not (≤ 0), so every feasible placement ranks above every infeasible one
 *     and infeasible ones rank by how far they violate. The update uses the
 *     centred ranks of r within the batch (the batch mean is the baseline),
 *     which makes the step size independent of the objective's scale;
 *  5. loss = -mean_b A_b log π(a_b) - β H(π), β decaying geometrically from
 *     `entropyStart` to `entropyEnd` over the run; Adam, gradients clipped to
 *     `clipNorm` in global norm.
 * The best placement ever decoded is kept (SearchTracker) and, when
 * `incumbentFeature` is on, shown to the policy as an input feature: the
 * "present duration" it has to beat (HeterPS, US20220374704A1).
 *
 * Decoders (type per layer → placement):
 *  - `provision`: agent/provision.ts hill-climb (replicas, same-type splits);
 *  - after the loop, the best assignment is decoded again by the exact solver
 *    restricted to its types (agent/exact.ts `allowedTypes`, one type per
 *    layer): the optimal cuts and replicas for the types the policy chose.
 * Evaluations count simulator `score()` calls plus the exact decoder's labels.
 *
 * The local-search `polish` (single-layer type changes, run merges) is off by
 * default so that "RL alone" is what the searcher returns; `reinforce+polish`
 * turns it on and the benchmark reports both.
 *
 * No wall-clock decision when `iterations` (or `maxEvaluations`) bounds the
 * run: same seed, same placement.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { assignmentOf, type Placement, type Problem, type Settings } from '../env/problem.js';
import { Simulator } from '../env/simulate.js';
import { solveExact } from './exact.js';
import { chainFeatures, setIncumbent, type ChainFeatures } from './features.js';
import { PolicyNetwork, disposeInputs, type PolicyBatch, type PolicyConfig, type PolicyInputs } from './policy.js';
import { provisionInPlace } from './provision.js';
import type { SearchOptions, SearchResult, Searcher } from './searcher.js';
import { SearchTracker, heuristicStarts, runnableTypes } from './tracker.js';

export interface ReinforceConfig {
  policy: Partial<PolicyConfig>;
  /** Sampled placements per update. */
  batchSize: number;
  learningRate: number;
  /** Global-norm gradient clipping. */
  clipNorm: number;
  /** Entropy bonus at the start and at the end of the run (geometric decay in between). */
  entropyStart: number;
  entropyEnd: number;
  /** Show the best placement so far to the policy as an input feature. */
  incumbentFeature: boolean;
  /** Score the heuristic starts (each type alone, each layer on its fastest type) first: the first incumbent. */
  warmStart: boolean;
  /** Decode the best assignment exactly (optimal cuts and replicas for its types) at the end. */
  exactDecode: boolean;
  /**
   * Window decode: the exact solver restricted, for each layer, to the types the
   * best assignment uses within ±refineWindow × L layers (run boundaries move,
   * a run's type can spread into its neighbours). 0 turns it off.
   */
  refineWindow: number;
  /** The window decode also allows, at each layer, the type each of the best `eliteSize` distinct feasible sampled assignments gives it (the policy's best proposals, recombined exactly). */
  eliteSize: number;
  /** Window-decode passes at the end (each from the previous result; stops when one does not improve). */
  refinePasses: number;
  /** Also window-decode the best assignment every this many updates, so the incumbent the policy sees improves (0: never). */
  refineEvery: number;
  /** Updates when neither iterations, maxEvaluations nor timeLimitS is given. */
  defaultIterations: number;
  /** After this many updates in a row that sampled nothing new (the policy has converged; every sample is cached): restart, or stop. */
  patience: number;
  /**
   * Restarts: when the policy has converged, a fresh policy (next seed) is
   * trained with the next of these schedules (cycled; the best placement and
   * the incumbent feature carry over). Empty: stop at convergence instead.
   */
  restartSchedules: Array<{ learningRate: number; entropyStart: number; entropyEnd: number }>;
  /** Without --iterations: stop after this many restarts in a row that did not improve the best placement (early stop). */
  idleRestarts: number;
  /** Restart after this many updates of one policy even when it has not converged. */
  restartAfter: number;
  /** Updates over which the entropy bonus decays from start to end, counted from the (re)start: no dependence on the total iterations, so a resumed run continues the same schedule. */
  entropyDecayUpdates: number;
  /** Local-search polish after the RL loop (reported as reinforce+polish). */
  polish: boolean;
  /** Share of the evaluation budget (or time) kept for the polish. */
  polishShare: number;
}

export const DEFAULT_REINFORCE_CONFIG: ReinforceConfig = {
  policy: {},
  batchSize: 64,
  learningRate: 0.03,
  clipNorm: 1,
  entropyStart: 0.03,
  entropyEnd: 0.003,
  incumbentFeature: true,
  warmStart: true,
  exactDecode: true,
  refineWindow: 0.25,
  refinePasses: 6,
  eliteSize: 8,
  refineEvery: 20,
  defaultIterations: 300,
  patience: 20,
  restartSchedules: [
    { learningRate: 0.01, entropyStart: 0.1, entropyEnd: 0.01 },
    { learningRate: 0.005, entropyStart: 0.3, entropyEnd: 0.03 },
    { learningRate: 0.03, entropyStart: 0.03, entropyEnd: 0.003 },
  ],
  restartAfter: 150,
  idleRestarts: 30,
  entropyDecayUpdates: 100,
  polish: false,
  polishShare: 0.2,
};

/** One row of history.csv. */
export interface HistoryRow {
  iteration: number;
  meanReward: number;
  bestReward: number;
  feasibleShare: number;
  entropy: number;
  /** Objective of the best feasible placement so far (NaN when none). */
  bestObjective: number;
  evaluations: number;
  seconds: number;
}

export interface TrainOptions extends SearchOptions {
  /** Updates to run (deterministic stop). */
  iterations?: number;
  /** Start from this policy (transfer, resume); a fresh one from the seed otherwise. The trainer does not dispose it. */
  policy?: PolicyNetwork;
  /** After every update. */
  onIteration?: (row: HistoryRow, trainer: ReinforceTrainer) => void | Promise<void>;
  /** Polled between updates: true stops the loop (Ctrl-C). */
  shouldStop?: () => boolean;
  /** Continue a checkpointed run. */
  resume?: TrainerState;
}

/** What a checkpoint needs besides the policy's weights. */
export interface TrainerState {
  iteration: number;
  rngState: seedrandom.State.Alea;
  evaluations: number;
  best: Placement | null;
  bestFeasible: boolean;
  bestViolation: number;
  bestObjective: number;
  rewardScale: number;
  /** Restarts so far and the update at which the current policy started. */
  restarts?: number;
  restartIteration?: number;
  /** Adam's slots by the policy variable's short name. */
  optimizer?: { iterations: number; names: string[] };
}

const REWARD_SCALE_FALLBACK = 1;

export class ReinforceTrainer {
  readonly sim: Simulator;
  readonly tracker: SearchTracker;
  policy: PolicyNetwork;
  optimizer: tf.AdamOptimizer;
  /** Restarts so far (0: the first policy) and the update at which the current policy started. */
  restarts = 0;
  restartIteration = 0;
  readonly history: HistoryRow[] = [];
  iteration = 0;
  /** Set when the policy was created here (then `dispose` frees it). */
  private ownsPolicy: boolean;
  private readonly features: ChainFeatures;
  private inputs: PolicyInputs;
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private readonly cache = new Map<string, { feasible: boolean; violation: number; objective: number }>();
  private readonly runnable: Int32Array[];
  private rewardScale = REWARD_SCALE_FALLBACK;
  /** The best distinct feasible assignments decoded so far (at most eliteSize), best first. */
  private readonly elite: Array<{ key: string; assignment: Int32Array; objective: number }> = [];
  private incumbentKey = '';

  constructor(
    readonly problem: Problem,
    readonly settings: Settings,
    readonly config: ReinforceConfig,
    readonly options: TrainOptions,
  ) {
    if (options.seed === 0) throw new Error('reinforce: seed 0 is reserved (tfjs reads it as "no seed"); use another');
    this.sim = new Simulator(problem, settings);
    const bounded = options.iterations !== undefined;
    this.tracker = new SearchTracker(
      config.polish ? 'reinforce+polish' : 'reinforce',
      bounded && options.maxEvaluations === undefined ? { ...options, maxEvaluations: Infinity } : options,
      Infinity,
    );
    this.ownsPolicy = options.policy === undefined;
    this.policy = options.policy ?? PolicyNetwork.create(config.policy, options.seed);
    this.optimizer = tf.train.adam(config.learningRate);
    this.rng = seedrandom.alea(`reinforce:${options.seed}`, { state: true });
    this.runnable = runnableTypes(this.sim);
    this.features = chainFeatures(problem, settings);
    this.inputs = this.policy.inputs(this.features);
    if (options.resume) this.restore(options.resume);
  }

  /** The RL loop, then the exact decode and the optional polish; the best placement found. */
  async run(): Promise<SearchResult> {
    const { config, options, tracker } = this;
    if (this.iteration === 0 && tracker.best === null && config.warmStart) this.warmStart();
    const iterations = options.iterations ?? (options.maxEvaluations === undefined && options.timeLimitS === undefined ? config.defaultIterations : Infinity);
    const reserve = config.polish ? this.polishReserve() : config.exactDecode ? 1 : 0;
    let stale = 0;
    let idle = 0;
    let bestAtRestart = tracker.bestFeasible ? tracker.bestObjective : Infinity;
    while (this.iteration < iterations) {
      if (options.shouldStop?.()) break;
      if (this.iteration > 0 && (reserve > 0 ? tracker.wrapUp(reserve) : tracker.exhausted())) break;
      if (options.iterations === undefined && stale >= config.patience && config.restartSchedules.length === 0) break;
      const before = tracker.evaluations;
      const row = this.update();
      stale = tracker.evaluations === before ? stale + 1 : 0;
      if (config.restartSchedules.length > 0 && (stale >= config.patience || this.iteration - this.restartIteration >= config.restartAfter)) {
        const bestNow = tracker.bestFeasible ? tracker.bestObjective : Infinity;
        idle = bestNow < bestAtRestart ? 0 : idle + 1;
        bestAtRestart = bestNow;
        if (options.iterations === undefined && idle >= config.idleRestarts) break;
        this.restart();
        stale = 0;
      }
      if (config.refineEvery > 0 && this.iteration % config.refineEvery === 0 && config.refineWindow > 0) {
        this.windowDecodeBest(1);
        this.refreshIncumbent();
      }
      if (options.onIteration) await options.onIteration(row, this);
    }
    if (config.exactDecode) this.exactDecodeBest();
    if (config.polish && !options.shouldStop?.()) this.polishBest();
    return tracker.result();
  }

  private polishReserve(): number {
    const max = this.tracker.maxEvaluations;
    return Number.isFinite(max) ? Math.floor(max * this.config.polishShare) : 0;
  }

  /** Scores the heuristic starts: the first incumbent, and the reward scale. */
  private warmStart(): void {
    for (const start of heuristicStarts(this.sim, this.runnable)) this.decode(start);
    this.refreshIncumbent();
  }

  /** The learning rate and entropy schedule of the current (re)start: the config's own first, then the restart schedules in turn. */
  schedule(): { learningRate: number; entropyStart: number; entropyEnd: number } {
    const { config } = this;
    if (this.restarts === 0 || config.restartSchedules.length === 0) return config;
    return config.restartSchedules[(this.restarts - 1) % config.restartSchedules.length];
  }

  /** The fraction of the entropy decay done: updates since the (re)start over `entropyDecayUpdates`. */
  private progress(): number {
    return Math.min(1, (this.iteration - this.restartIteration) / Math.max(1, this.config.entropyDecayUpdates));
  }

  /** A fresh policy (seed from the run's seed and the restart count) with the next schedule; the best placement stays. */
  restart(): void {
    this.restarts++;
    this.restartIteration = this.iteration;
    this.replacePolicy(PolicyNetwork.create(this.config.policy, this.restartSeed()));
  }

  private restartSeed(): number {
    return this.options.seed * 1009 + this.restarts;
  }

  private replacePolicy(policy: PolicyNetwork): void {
    disposeInputs(this.inputs);
    this.optimizer.dispose();
    if (this.ownsPolicy) this.policy.dispose();
    this.policy = policy;
    this.ownsPolicy = true;
    this.optimizer = tf.train.adam(this.schedule().learningRate);
    this.inputs = this.policy.inputs(this.features);
  }

  /** One REINFORCE update (sample a batch, decode, score, one Adam step); returns its history row. */
  update(): HistoryRow {
    const { config, policy, tracker } = this;
    const L = this.sim.layerCount;
    const K = this.sim.typeCount;
    const B = config.batchSize;
    const { probs, stay } = policy.distribution(this.inputs);
    const samples = new Int32Array(B * L);
    const same = new Float32Array(B * L);
    const stayAllowed = new Float32Array(B * L);
    for (let b = 0; b < B; b++) {
      for (let l = 0; l < L; l++) {
        const i = b * L + l;
        const u = this.rng();
        const previous = l > 0 ? samples[i - 1] : -1;
        const canStay = previous >= 0 && probs[l * K + previous] > 0;
        stayAllowed[i] = canStay ? 1 : 0;
        samples[i] = canStay && u < stay[l] ? previous : sampleRow(probs, l * K, K, this.rng());
        same[i] = samples[i] === previous ? 1 : 0;
      }
    }
    const rewards = new Float64Array(B);
    let feasibleCount = 0;
    for (let b = 0; b < B; b++) {
      const result = this.decode(samples.subarray(b * L, (b + 1) * L));
      if (result.feasible) feasibleCount++;
      rewards[b] = result.feasible ? this.rewardScale / result.objective : -result.violation;
    }
    const advantages = Float32Array.from(centredRanks(rewards));
    const oneHot = new Float32Array(B * L * K);
    for (let i = 0; i < B * L; i++) oneHot[i * K + samples[i]] = 1;
    const { entropyStart, entropyEnd } = this.schedule();
    const entropyCoef = entropyStart * Math.pow(entropyEnd / entropyStart, this.progress());
    const entropy = this.applyUpdate({ oneHot, same, stayAllowed, advantages }, entropyCoef);
    this.refreshIncumbent();
    this.iteration++;
    let meanReward = 0;
    let bestReward = -Infinity;
    for (const r of rewards) {
      meanReward += r / B;
      if (r > bestReward) bestReward = r;
    }
    const row: HistoryRow = {
      iteration: this.iteration,
      meanReward,
      bestReward,
      feasibleShare: feasibleCount / B,
      entropy,
      bestObjective: tracker.bestFeasible ? tracker.bestObjective : NaN,
      evaluations: tracker.evaluations,
      seconds: tracker.seconds(),
    };
    this.history.push(row);
    tracker.count(0, { 'charts/mean_reward': meanReward, 'charts/feasible_share': row.feasibleShare, 'losses/entropy': entropy });
    return row;
  }

  /** One Adam step on the REINFORCE loss on `batch`; returns the mean per-layer entropy. */
  private applyUpdate(batch: PolicyBatch, entropyCoef: number): number {
    const { policy, inputs } = this;
    const entropyOut = { value: 0 };
    const variables = [...policy.variables.values()];
    const { value, grads } = tf.variableGrads(() => policy.loss(inputs, batch, entropyCoef, entropyOut), variables);
    const clipped = tf.tidy(() => {
      const names = Object.keys(grads);
      const norm = Math.sqrt(names.reduce((sum, name) => sum + tf.sum(tf.square(grads[name])).dataSync()[0], 0));
      const factor = norm > this.config.clipNorm ? this.config.clipNorm / norm : 1;
      const out: tf.NamedTensorMap = {};
      for (const name of names) out[name] = tf.mul(grads[name], factor);
      return out;
    });
    this.optimizer.applyGradients(Object.keys(clipped).map((name) => ({ name, tensor: clipped[name] })));
    tf.dispose([value, clipped]);
    tf.dispose(Object.values(grads));
    return entropyOut.value;
  }

  /**
   * Decodes one assignment (provisioning) and scores it; offers the result to
   * the tracker. Repeats come from the cache and cost no evaluation.
   */
  private decode(assignment: ArrayLike<number>): { feasible: boolean; violation: number; objective: number } {
    const key = keyOf(assignment);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const used = provisionInPlace(this.sim, assignment, this.tracker.remaining);
    this.tracker.count(used);
    this.tracker.offer(this.sim);
    const result = { feasible: this.sim.feasible, violation: this.sim.violation, objective: this.sim.objectiveValue };
    this.cache.set(key, result);
    if (result.feasible) this.offerElite(key, assignment, result.objective);
    return result;
  }

  private offerElite(key: string, assignment: ArrayLike<number>, objective: number): void {
    const { elite } = this;
    const size = this.config.eliteSize;
    if (size <= 0 || (elite.length >= size && objective >= elite[elite.length - 1].objective)) return;
    let at = elite.length;
    while (at > 0 && elite[at - 1].objective > objective) at--;
    elite.splice(at, 0, { key, assignment: Int32Array.from(assignment), objective });
    if (elite.length > size) elite.pop();
  }

  /** After the best changed: new incumbent feature, and the reward scale from the first feasible placement. */
  private refreshIncumbent(): void {
    const { tracker } = this;
    if (tracker.best === null) return;
    if (this.rewardScale === REWARD_SCALE_FALLBACK && tracker.bestFeasible && tracker.bestObjective > 0) {
      this.rewardScale = tracker.bestObjective;
    }
    if (!this.config.incumbentFeature) return;
    const assignment = assignmentOf(tracker.best, this.sim.layerCount);
    const key = keyOf(assignment);
    if (key === this.incumbentKey) return;
    this.incumbentKey = key;
    setIncumbent(this.features, assignment);
    disposeInputs(this.inputs);
    this.inputs = this.policy.inputs(this.features);
  }

  /**
   * Zero-shot: the policy's most likely assignment (argmax per layer, staying
   * where the stay head says so), shown the warm-start incumbent as in
   * training, decoded exactly. Returns its score; the tracker keeps the best.
   */
  zeroShot(): { feasible: boolean; violation: number; objective: number; assignment: Int32Array } {
    if (this.tracker.best === null && this.config.warmStart) this.warmStart();
    const L = this.sim.layerCount;
    const K = this.sim.typeCount;
    const { probs, stay } = this.policy.distribution(this.inputs);
    const assignment = new Int32Array(L);
    for (let l = 0; l < L; l++) {
      let best = 0;
      for (let k = 1; k < K; k++) if (probs[l * K + k] > probs[l * K + best]) best = k;
      const previous = l > 0 ? assignment[l - 1] : -1;
      assignment[l] = previous >= 0 && probs[l * K + previous] > 0 && stay[l] > 0.5 ? previous : best;
    }
    const mask = new Uint8Array(L * K);
    for (let l = 0; l < L; l++) mask[l * K + assignment[l]] = 1;
    const decoded = solveExact(this.problem, this.settings, { allowedTypes: mask });
    this.tracker.count(decoded.labels);
    if (decoded.placement) this.sim.scorePlacement(decoded.placement);
    else provisionInPlace(this.sim, assignment);
    this.tracker.count(1);
    this.tracker.offer(this.sim);
    return { feasible: this.sim.feasible, violation: this.sim.violation, objective: this.sim.objectiveValue, assignment };
  }

  /** Optimal cuts and replicas for the types of the best placement (exact solver, one type per layer). */
  exactDecodeBest(): void {
    const { tracker, sim } = this;
    if (tracker.best === null) return;
    const L = sim.layerCount;
    const K = sim.typeCount;
    const assignment = assignmentOf(tracker.best, L);
    const mask = new Uint8Array(L * K);
    for (let l = 0; l < L; l++) if (assignment[l] >= 0) mask[l * K + assignment[l]] = 1;
    const decoded = solveExact(this.problem, this.settings, { allowedTypes: mask });
    tracker.count(decoded.labels);
    if (decoded.placement === null) return;
    sim.scorePlacement(decoded.placement);
    tracker.count(1);
    tracker.offer(sim);
    if (this.config.refineWindow > 0) this.windowDecodeBest(this.config.refinePasses);
  }

  /**
   * Up to `passes` window decodes of the best assignment (see `refineWindow`),
   * each pruned by the best objective so far; stops at the first that does not
   * improve. Deterministic (no time limit on the solver when the run is bounded by
   * iterations or evaluations).
   */
  windowDecodeBest(passes: number): void {
    const { tracker, sim } = this;
    const L = sim.layerCount;
    const K = sim.typeCount;
    const w = Math.max(2, Math.round(this.config.refineWindow * L));
    for (let pass = 0; pass < passes; pass++) {
      if (tracker.best === null || !tracker.bestFeasible) return;
      const assignment = assignmentOf(tracker.best, L);
      const mask = new Uint8Array(L * K);
      for (let l = 0; l < L; l++) {
        for (let j = Math.max(0, l - w); j <= Math.min(L - 1, l + w); j++) {
          const k = assignment[j];
          if (k >= 0 && this.runnable[l].includes(k)) mask[l * K + k] = 1;
        }
        for (const { assignment: e } of this.elite) mask[l * K + e[l]] = 1;
      }
      const left = this.options.timeLimitS !== undefined ? Math.max(0.5, this.options.timeLimitS - tracker.seconds()) : undefined;
      const decoded = solveExact(this.problem, this.settings, { allowedTypes: mask, upperBound: tracker.bestObjective * (1 - 1e-9), timeLimitS: left });
      tracker.count(decoded.labels);
      if (decoded.placement === null) return;
      sim.scorePlacement(decoded.placement);
      tracker.count(1);
      tracker.offer(sim);
    }
  }

  /**
   * Local search from the best assignment: every single-layer type change and
   * every merge of a run into a neighbour's type, first improvement, until no
   * move improves or the budget is spent.
   */
  polishBest(): void {
    const { tracker, sim } = this;
    if (tracker.best === null) return;
    const L = sim.layerCount;
    let current = Int32Array.from(assignmentOf(tracker.best, L));
    const better = (r: { feasible: boolean; violation: number; objective: number }, s: { feasible: boolean; violation: number; objective: number }) =>
      r.feasible !== s.feasible ? r.feasible : r.feasible ? r.objective < s.objective * (1 - 1e-12) : r.violation < s.violation;
    let score = this.decode(current);
    let improved = true;
    while (improved && !tracker.exhausted()) {
      improved = false;
      const candidate = Int32Array.from(current);
      for (const move of neighbourMoves(current, this.runnable)) {
        if (tracker.exhausted()) break;
        candidate.set(current);
        for (let l = move.first; l <= move.last; l++) candidate[l] = move.type;
        const result = this.decode(candidate);
        if (better(result, score)) {
          current = Int32Array.from(candidate);
          score = result;
          improved = true;
          break;
        }
      }
    }
    if (this.config.exactDecode) this.exactDecodeBest();
  }

  /** Checkpointable state (the policy's weights and Adam's slots are saved beside it). */
  state(): TrainerState {
    const { tracker } = this;
    return {
      iteration: this.iteration,
      rngState: this.rng.state(),
      evaluations: tracker.evaluations,
      best: tracker.best,
      bestFeasible: tracker.bestFeasible,
      bestViolation: tracker.bestViolation,
      bestObjective: tracker.bestObjective,
      rewardScale: this.rewardScale,
      restarts: this.restarts,
      restartIteration: this.restartIteration,
    };
  }

  private restore(state: TrainerState): void {
    this.iteration = state.iteration;
    this.rng = seedrandom.alea('', { state: state.rngState });
    this.tracker.evaluations = state.evaluations;
    if (state.best) {
      this.tracker.best = state.best;
      this.tracker.bestFeasible = state.bestFeasible;
      this.tracker.bestViolation = state.bestViolation ?? Infinity;
      this.tracker.bestObjective = state.bestObjective;
    }
    this.rewardScale = state.rewardScale;
    this.restarts = state.restarts ?? 0;
    this.restartIteration = state.restartIteration ?? 0;
    if (this.restarts > 0) {
      // The checkpointed policy is the restarted one (the caller passes it); its schedule's learning rate.
      this.optimizer.dispose();
      this.optimizer = tf.train.adam(this.schedule().learningRate);
    }
    this.refreshIncumbent();
  }

  /** Adam's slot tensors by "<variable short name>/<slot>" (for checkpoints). */
  async optimizerWeights(): Promise<{ iterations: number; tensors: tf.NamedTensorMap }> {
    const saved = await this.optimizer.getWeights();
    const tensors: tf.NamedTensorMap = {};
    let iterations = 0;
    let index = 0;
    // tfjs's Adam restores its slots by position (first moments, then second): keep the order in the names.
    for (const { name, tensor } of saved) {
      if (name === 'iter') {
        iterations = tensor.dataSync()[0];
        tensor.dispose();
        continue;
      }
      // getWeights hands out Adam's own slot variables: copies, so that the caller may dispose them.
      tensors[`adam/${String(index++).padStart(5, '0')}/${this.policy.shortName(name)}`] = tensor.clone();
    }
    return { iterations, tensors };
  }

  async setOptimizerWeights(iterations: number, tensors: tf.NamedTensorMap): Promise<void> {
    const list: Array<{ name: string; tensor: tf.Tensor }> = [{ name: 'iter', tensor: tf.scalar(iterations, 'int32') }];
    for (const name of Object.keys(tensors).filter((n) => n.startsWith('adam/')).sort()) {
      list.push({ name: this.policy.variableName(name.slice('adam/00000/'.length)), tensor: tensors[name] });
    }
    await this.optimizer.setWeights(list);
  }

  /** Network time alone (benchmarks): mean ms of a forward pass and of one update on a synthetic batch of `batchSize`. */
  timeNetwork(warmup: number, repeats: number): { forwardMs: number; updateMs: number } {
    const L = this.sim.layerCount;
    const K = this.sim.typeCount;
    const B = this.config.batchSize;
    const batch: PolicyBatch = {
      oneHot: new Float32Array(B * L * K).map((_, i) => (i % K === 0 ? 1 : 0)),
      same: new Float32Array(B * L),
      stayAllowed: new Float32Array(B * L),
      advantages: new Float32Array(B).map((_, i) => i / B - 0.5),
    };
    for (let i = 0; i < warmup; i++) {
      this.policy.distribution(this.inputs);
      this.applyUpdate(batch, 0.01);
    }
    let t = performance.now();
    for (let i = 0; i < repeats; i++) this.policy.distribution(this.inputs);
    const forwardMs = (performance.now() - t) / repeats;
    t = performance.now();
    for (let i = 0; i < repeats; i++) this.applyUpdate(batch, 0.01);
    return { forwardMs, updateMs: (performance.now() - t) / repeats };
  }

  dispose(): void {
    disposeInputs(this.inputs);
    this.optimizer.dispose();
    if (this.ownsPolicy) this.policy.dispose();
  }
}

/** Index of the type drawn from the categorical probs[offset .. offset + K) with uniform `u`. */
function sampleRow(probs: Float32Array, offset: number, K: number, u: number): number {
  let total = 0;
  for (let k = 0; k < K; k++) total += probs[offset + k];
  let target = u * total;
  let last = 0;
  for (let k = 0; k < K; k++) {
    const p = probs[offset + k];
    if (p <= 0) continue;
    last = k;
    target -= p;
    if (target < 0) return k;
  }
  return last;
}

/** Centred ranks in [-0.5, 0.5] (higher reward, higher rank; ties share their mean rank); sums to 0. */
export function centredRanks(rewards: ArrayLike<number>): Float64Array {
  const n = rewards.length;
  const out = new Float64Array(n);
  if (n < 2) return out;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => rewards[a] - rewards[b] || a - b);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && rewards[order[j + 1]] === rewards[order[i]]) j++;
    const rank = (i + j) / 2 / (n - 1) - 0.5;
    for (let t = i; t <= j; t++) out[order[t]] = rank;
    i = j + 1;
  }
  return out;
}

function keyOf(assignment: ArrayLike<number>): string {
  let key = '';
  for (let l = 0; l < assignment.length; l++) key += String.fromCharCode(65 + assignment[l]);
  return key;
}

/** Polish moves: each layer to each other runnable type, and each run of equal types to its neighbours' types. */
function* neighbourMoves(assignment: Int32Array, runnable: Int32Array[]): Generator<{ first: number; last: number; type: number }> {
  const L = assignment.length;
  // Runs first: merging removes a stage (fewer links, freed units).
  let first = 0;
  while (first < L) {
    let last = first;
    while (last + 1 < L && assignment[last + 1] === assignment[first]) last++;
    for (const neighbour of [first - 1, last + 1]) {
      if (neighbour < 0 || neighbour >= L) continue;
      const type = assignment[neighbour];
      let ok = true;
      for (let l = first; l <= last && ok; l++) ok = runnable[l].includes(type);
      if (ok) yield { first, last, type };
    }
    first = last + 1;
  }
  for (let l = 0; l < L; l++) {
    for (const type of runnable[l]) if (type !== assignment[l]) yield { first: l, last: l, type };
  }
}

/** The `reinforce` searcher (RL alone by default; `{ polish: true }` for RL + polish). */
export function reinforceSearcher(overrides: Partial<ReinforceConfig> = {}): Searcher {
  const config: ReinforceConfig = { ...DEFAULT_REINFORCE_CONFIG, ...overrides };
  return {
    name: config.polish ? 'reinforce+polish' : 'reinforce',
    async search(problem: Problem, settings: Settings, options: SearchOptions): Promise<SearchResult> {
      const trainer = new ReinforceTrainer(problem, settings, config, options);
      try {
        return await trainer.run();
      } finally {
        trainer.dispose();
      }
    },
  };
}
