/**
 * The training loop (collect → score → update), with the simulator as the
 * environment. One iteration ("update"):
 *  1. one forward pass gives the stage distribution (agent/rl/actions.ts);
 *  2. `batchSize` rows are drawn (seeded generator), each respecting unit
 *     counts and the budget as it is drawn: half from the policy, half
 *     (`explore`) from uniform proposals, learnt from as the policy's own;
 *  3. each row is provisioned (agent/provision.ts `climb`: replicas, splits,
 *     cut and boundary moves) and scored; rows seen before come from a
 *     cache, free. In `reinforce-dp` under a finite evaluation budget a row's provisioning is
 *     capped so that about `minUpdates` updates fit: balanced cuts for its
 *     stage types (agent/rebalance.ts), then what is left of the cap for the
 *     climb; the best placement gets the full climb at the end;
 *  4. reward: r = scale / objective when feasible (> 0), -violation when not,
 *     so every feasible placement ranks above every infeasible one. The
 *     advantage is the centred rank of r in the batch (the batch is its own
 *     baseline; the step size does not depend on the objective's scale);
 *  5. self-imitation: the `eliteSize` best distinct rows found so far join
 *     the batch (with their rewards, re-labelled under the current policy),
 *     so the policy keeps being pulled to the best it has found;
 *  6. `epochs` PPO-clipped Adam steps on the batch (agent/rl/learner.ts),
 *     entropy bonus decaying geometrically per (re)start.
 * When the policy has converged (every sample cached for `patience` updates)
 * or after `restartAfter` updates, a fresh policy (next seed) restarts with
 * the next schedule; the best placement, the elite and the incumbent feature
 * carry over. Nothing but the policy's own samples is scored.
 *
 * `decoder: 'dp'` (the `reinforce-dp` method) adds exact decodes
 * (agent/rl/exact-decode.ts): every `refineEvery` updates and at the end, the
 * exact solver re-optimises the best placement within the policy's mask (the
 * types it finds likeliest at each layer), then within a window of the types
 * the best uses; their labels count against the same evaluation budget.
 *
 * With `lnsLayers` set (off by default), on chains that long or longer `dp`
 * changes the policy's role (window mode, a learned large-neighbourhood search): after the first batch
 * (whole chains, provisioning capped at `lnsScores` score calls, the best
 * `climbTop` given a full climb), every sample re-draws only a window of
 * `lnsWindow` × L layers of the best placement from the policy (the rest
 * copied, forced), keeps the best placement's replicas where its stages
 * stay, and gets a capped climb; the policy learns from the batch's ranks
 * which stages and types to put in a window. The periodic exact decodes are
 * off there (one would cost a whole small budget on a long chain: labels
 * grow with the chain); the final ones stay.
 *
 * No wall-clock decision when `iterations` (or `maxEvaluations`) bounds the
 * run: same seed, same placement.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { assignmentOf, type Placement, type Problem, type Settings } from '../../env/problem.js';
import { Simulator } from '../../env/simulate.js';
import { chainFeatures, setIncumbent, type ChainFeatures } from '../features.js';
import { INITIAL_STAY_LOGIT, PolicyNetwork, disposeInputs, stayOffset, type PolicyInputs } from '../policy.js';
import { climb } from '../provision.js';
import { REBALANCE_PROBES, rebalanceCuts } from '../rebalance.js';
import type { SearchOptions, SearchResult } from '../searcher.js';
import { SearchTracker } from '../tracker.js';
import { StageDistribution, actionLimits, concatRollouts, pickRows, placementRow, rowKey, rowPlacement, type ActionLimits, type Rollout } from './actions.js';
import { ExactDecoder, typesMask, windowMask } from './exact-decode.js';
import { Learner } from './learner.js';
import type { DecoderKind, ReinforceConfig, Schedule } from './config.js';

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
}

interface Scored {
  feasible: boolean;
  violation: number;
  objective: number;
}

const REWARD_SCALE_FALLBACK = 1;

/** Score calls of one climb between rebalances in the final climb. */
const FINAL_CLIMB_SCORES = 200;

export class ReinforceTrainer {
  readonly sim: Simulator;
  readonly tracker: SearchTracker;
  policy: PolicyNetwork;
  learner: Learner;
  /** Restarts so far (0: the first policy) and the update at which the current policy started. */
  restarts = 0;
  restartIteration = 0;
  readonly history: HistoryRow[] = [];
  iteration = 0;
  private ownsPolicy: boolean;
  private readonly features: ChainFeatures;
  private readonly limits: ActionLimits;
  private inputs: PolicyInputs;
  private rng: seedrandom.StatefulPRNG<seedrandom.State.Alea>;
  private readonly cache = new Map<string, Scored>();
  /** Rows given a full climb (see `climbBest`). */
  private readonly climbed = new Set<string>();
  private rewardScale = REWARD_SCALE_FALLBACK;
  /** The best distinct feasible rows so far (at most eliteSize), best first. */
  private readonly elite: Array<{ key: string; row: Rollout; objective: number }> = [];
  private readonly decoder: ExactDecoder | null;
  private incumbentKey = '';
  /** Window mode: the placement the window samples start from, and the scores of samples around it. */
  private base: { placement: Placement; row: Rollout } | null = null;
  private readonly windowCache = new Map<string, Scored>();

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
      methodName(config.decoder),
      bounded && options.maxEvaluations === undefined ? { ...options, maxEvaluations: Infinity } : options,
      Infinity,
    );
    this.ownsPolicy = options.policy === undefined;
    this.policy = options.policy ?? PolicyNetwork.create(config.policy, options.seed);
    this.learner = new Learner(this.learnerConfig());
    this.rng = seedrandom.alea(`reinforce:${options.seed}`, { state: true });
    this.limits = actionLimits(problem, settings);
    this.features = chainFeatures(problem, settings);
    this.inputs = this.policy.inputs(this.features, this.schedule().priorStages);
    this.decoder = config.decoder === 'dp'
      ? new ExactDecoder(problem, settings, this.sim, this.tracker, Math.max(1000, Math.floor(config.decodeWork / problem.layers.length)), options.timeLimitS, problem.layers.length > config.exactDecodeLayers ? config.decodeBeam : Infinity)
      : null;
    if (options.resume) this.restore(options.resume);
  }

  /** The loop, then (dp) the final exact decodes; the best placement found. */
  async run(): Promise<SearchResult> {
    const { config, options, tracker } = this;
    const iterations = options.iterations ?? (options.maxEvaluations === undefined && options.timeLimitS === undefined ? config.defaultIterations : Infinity);
    const reserve = this.decoder && Number.isFinite(tracker.maxEvaluations) ? Math.floor(tracker.maxEvaluations * config.decodeShare) : 0;
    let stale = 0;
    let idle = 0;
    let bestAtRestart = tracker.bestFeasible ? tracker.bestObjective : Infinity;
    while (this.iteration < iterations) {
      // Stop when asked, but only once something is scored: a search always returns a placement.
      if (this.stopped() && tracker.best !== null) break;
      if (this.iteration > 0 && (this.decoder ? tracker.wrapUp(reserve) : tracker.exhausted())) break;
      const before = tracker.evaluations;
      const row = this.update();
      stale = tracker.evaluations === before ? stale + 1 : 0;
      if (stale >= config.patience || this.iteration - this.restartIteration >= config.restartAfter) {
        const bestNow = tracker.bestFeasible ? tracker.bestObjective : Infinity;
        idle = bestNow < bestAtRestart ? 0 : idle + 1;
        bestAtRestart = bestNow;
        if (options.iterations === undefined && (config.restartSchedules.length === 0 || idle >= config.idleRestarts)) break;
        if (config.restartSchedules.length > 0) this.restart();
        stale = 0;
      }
      if (this.decoder && !this.decoder.starved && !this.windowMode() && config.refineEvery > 0 && this.iteration % config.refineEvery === 0) {
        // A periodic decode may spend at most the final decodes' share of a finite budget.
        const cap = reserve > 0 ? reserve : Infinity;
        this.policyMaskDecode(cap);
        if (!this.decoder.starved) this.windowDecodeBest(1, cap);
      }
      if (options.onIteration) await options.onIteration(row, this);
      // Let signal handlers (Ctrl-C) and timers run between updates.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (this.decoder) {
      this.finalClimb();
      await this.finalDecode();
    }
    return tracker.result();
  }

  private stopped(): boolean {
    return this.options.signal?.aborted === true;
  }

  private learnerConfig(): { learningRate: number; epochs: number; clip: number; clipNorm: number } {
    const { config } = this;
    return { learningRate: this.schedule().learningRate, epochs: config.epochs, clip: config.ppoClip, clipNorm: config.clipNorm };
  }

  /** The schedule of the current (re)start: the config's own first, then the restart schedules in turn. */
  schedule(): Schedule {
    const { config } = this;
    if (this.restarts === 0 || config.restartSchedules.length === 0) return config;
    return config.restartSchedules[(this.restarts - 1) % config.restartSchedules.length];
  }

  /** A fresh policy (seed from the run's seed and the restart count) with the next schedule; the best placement and the elite stay. */
  restart(): void {
    this.restarts++;
    this.restartIteration = this.iteration;
    if (!this.config.keepElite) this.elite.length = 0;
    this.replacePolicy(PolicyNetwork.create(this.config.policy, this.options.seed * 1009 + this.restarts));
  }

  private replacePolicy(policy: PolicyNetwork): void {
    disposeInputs(this.inputs);
    this.learner.dispose();
    if (this.ownsPolicy) this.policy.dispose();
    this.policy = policy;
    this.ownsPolicy = true;
    this.learner = new Learner(this.learnerConfig());
    this.inputs = this.policy.inputs(this.features, this.schedule().priorStages);
  }

  /** The current stage distribution (one forward pass). */
  distribution(): StageDistribution {
    if (this.config.uniformProposals) return new StageDistribution(uniformParams(this.limits, this.schedule().priorStages), this.limits);
    return new StageDistribution(this.policy.distribution(this.inputs), this.limits);
  }

  /** One update (sample, score, PPO epochs); returns its history row. */
  update(): HistoryRow {
    const { config, tracker } = this;
    const dist = this.distribution();
    const explored = config.uniformProposals ? 0 : Math.round(config.batchSize * config.explore);
    const base = this.windowBase();
    const draw = (from: StageDistribution, n: number): Rollout => (base ? from.sampleWindows(base.row, 0, this.windows(n), this.rng) : from.sample(n, this.rng));
    let rows = draw(dist, config.batchSize - explored);
    if (explored > 0) {
      const uniform = draw(new StageDistribution(uniformParams(this.limits, this.schedule().priorStages), this.limits), explored);
      dist.relabel(uniform);
      rows = concatRollouts([rows, uniform]);
    }
    const rewards: number[] = [];
    let feasible = 0;
    for (let b = 0; b < rows.size; b++) {
      if (tracker.best !== null && (this.stopped() || tracker.exhausted())) break;
      const key = rowKey(rows, b);
      const result = base ? this.scoreWindow(rows, b, key, base.placement) : this.score(rows, b, key);
      if (result.feasible) feasible++;
      rewards.push(this.reward(result));
    }
    const scored = rewards.length;
    if (!base) this.climbBest(rows, rewards);
    const batch = scored === rows.size ? rows : pickRows(rows, Array.from({ length: scored }, (_, i) => i));
    const elite = this.elite.length > 0 ? concatRollouts(this.elite.map((e) => e.row)) : null;
    if (elite) dist.relabel(elite);
    const all = elite ? concatRollouts([batch, elite]) : batch;
    const allRewards = elite ? [...rewards, ...this.elite.map((e) => this.rewardScale / e.objective)] : rewards;
    const { entropyStart, entropyEnd } = this.schedule();
    const progress = Math.min(1, (this.iteration - this.restartIteration) / Math.max(1, config.entropyDecayUpdates));
    const entropyCoef = entropyStart * Math.pow(entropyEnd / entropyStart, progress);
    // Out of time or budget: the samples are scored and offered; an update now could not change the result.
    const learn = !(tracker.exhausted() || this.stopped());
    const entropy = learn && all.size >= 2 && !config.uniformProposals
      ? this.learner.update(this.policy, this.inputs, all, Float32Array.from(centredRanks(allRewards)), entropyCoef)
      : this.learner.entropy(this.policy, this.inputs);
    this.refreshIncumbent();
    this.iteration++;
    const meanReward = scored > 0 ? rewards.reduce((a, r) => a + r, 0) / scored : NaN;
    const row: HistoryRow = {
      iteration: this.iteration,
      meanReward,
      bestReward: scored > 0 ? Math.max(...rewards) : NaN,
      feasibleShare: scored > 0 ? feasible / scored : 0,
      entropy,
      bestObjective: tracker.bestFeasible ? tracker.bestObjective : NaN,
      evaluations: tracker.evaluations,
      seconds: tracker.seconds(),
    };
    this.history.push(row);
    tracker.count(0, { 'charts/mean_reward': meanReward, 'charts/feasible_share': row.feasibleShare, 'losses/entropy': entropy });
    return row;
  }

  private reward(result: Scored): number {
    return result.feasible ? this.rewardScale / result.objective : -result.violation;
  }

  /** Provisions and scores row `b` (once per distinct row), offers it to the tracker and the elite. */
  private score(rows: Rollout, b: number, key: string): Scored {
    const cached = this.cache.get(key);
    if (cached) return cached;
    const { sim, tracker } = this;
    sim.loadPlacement(rowPlacement(rows, b));
    this.provisionSample(this.sampleScores());
    tracker.offer(sim);
    const result = { feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue };
    this.cache.set(key, result);
    if (result.feasible) this.offerElite(key, pickRows(rows, [b]), result.objective);
    return result;
  }

  /**
   * Provisions the placement the simulator holds (a sample's stages, one
   * replica each): with `rebalance`, first the balanced cuts for its stage
   * types (agent/rebalance.ts), then the climb (replicas, splits, cut and
   * boundary moves) within `cap` evaluations, then the cuts rebalanced again
   * for the replicas the climb added. Every probe and score counts.
   */
  private provisionSample(cap: number): void {
    const { sim, tracker, config } = this;
    const left = (): number => tracker.maxEvaluations - tracker.evaluations;
    // Each step leaves the simulator holding its placement, scored: the next runs only when the cap allows all of it.
    // Only under the `minUpdates` cap: window mode and explicit `sampleScores` keep the climb they were measured with.
    const rebalance = config.rebalance && cap < Infinity && this.budgetCapped() && sim.stageCount > 1;
    let used = 0;
    if (rebalance && left() >= REBALANCE_PROBES + 4) {
      used = rebalanceCuts(sim, left());
      tracker.count(used);
      // The rebalance is the cheap part of a capped sample: the climb gets what the cap leaves, when that is a move's worth.
      if (cap - used < 2) return;
    }
    if (left() < 1) return;
    const stages = sim.stageCount;
    const replicas = sim.stageReplicas.slice(0, stages);
    tracker.count(climb(sim, Math.min(left(), cap - used), undefined, true));
    // Again only when the climb added replicas or stages (the balance it moved away from is then stale).
    const changed = sim.stageCount !== stages || replicas.some((n, s) => sim.stageReplicas[s] !== n);
    if (rebalance && changed && left() >= REBALANCE_PROBES + 3) tracker.count(rebalanceCuts(sim, left()));
  }

  /**
   * Evaluations one whole-chain sample's provisioning may use (Infinity: a
   * full climb): in window mode `lnsScores`; else `sampleScores` when set;
   * else (dp, finite evaluation budget) its share for `minUpdates` updates.
   */
  private sampleScores(): number {
    const { config, tracker } = this;
    if (this.windowMode()) return config.lnsScores;
    if (config.sampleScores > 0) return config.sampleScores;
    if (!this.budgetCapped()) return Infinity;
    const updates = Math.max(1, Math.min(config.minUpdates, Math.floor(config.updateWork / this.sim.layerCount)));
    return Math.max(1, Math.floor((tracker.maxEvaluations * (1 - config.decodeShare)) / (updates * config.batchSize)));
  }

  /** Samples capped by `minUpdates`: `reinforce-dp` with a finite evaluation budget, not in window mode, no explicit `sampleScores`. */
  private budgetCapped(): boolean {
    const { config } = this;
    return this.decoder !== null && !this.windowMode() && config.sampleScores <= 0 && config.minUpdates > 0 && Number.isFinite(this.tracker.maxEvaluations);
  }

  /** dp on a chain of at least `lnsLayers` layers: window samples around the best placement (see `lnsLayers`). */
  private windowMode(): boolean {
    return this.config.decoder === 'dp' && this.config.lnsLayers > 0 && this.sim.layerCount >= this.config.lnsLayers;
  }

  /** In window mode, once a feasible placement is known: the best placement and its row, the base of the window samples. */
  private windowBase(): { placement: Placement; row: Rollout } | null {
    const { tracker, sim } = this;
    if (!this.windowMode() || tracker.best === null || !tracker.bestFeasible) return null;
    if (this.base?.placement !== tracker.best) {
      this.base = { placement: tracker.best, row: placementRow(tracker.best, sim.layerCount, sim.typeCount) };
      this.windowCache.clear();
    }
    return this.base;
  }

  /** `n` windows (first, last) of `lnsWindow` × L layers (at least 4) at uniform positions. */
  private windows(n: number): Int32Array {
    const L = this.sim.layerCount;
    const w = Math.min(L, Math.max(4, Math.round(this.config.lnsWindow * L)));
    const out = new Int32Array(2 * n);
    for (let j = 0; j < n; j++) {
      out[2 * j] = Math.floor(this.rng() * (L - w + 1));
      out[2 * j + 1] = out[2 * j] + w - 1;
    }
    return out;
  }

  /**
   * A window sample, provisioned from the base placement: its stages keep the
   * replicas of the base stage (same type) they start in, then a capped climb.
   * Cached per base (a sample's result depends on the base's replicas).
   */
  private scoreWindow(rows: Rollout, b: number, key: string, basePlacement: Placement): Scored {
    const cached = this.windowCache.get(key);
    if (cached) return cached;
    const { sim, tracker } = this;
    const placement = rowPlacement(rows, b);
    let s = 0;
    for (const stage of placement) {
      while (basePlacement[s].last < stage.first) s++;
      if (basePlacement[s].type === stage.type) stage.replicas = basePlacement[s].replicas;
    }
    sim.loadPlacement(placement);
    tracker.count(climb(sim, Math.min(tracker.maxEvaluations - tracker.evaluations, this.config.lnsScores), undefined, true));
    tracker.offer(sim);
    const result = { feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue };
    this.windowCache.set(key, result);
    return result;
  }

  /**
   * When a sample's provisioning is capped by `sampleScores` or `lnsScores`: the batch's
   * `climbTop` best rows get a full climb, for the best placement only (the
   * rewards stay those of the capped climb, so every sample is judged alike).
   */
  private climbBest(rows: Rollout, rewards: number[]): void {
    const { config, sim, tracker } = this;
    // Not under the `minUpdates` cap: at 300 layers two full climbs per batch cost as much as the batch (4-5 updates in 20,000).
    if (!(this.windowMode() || config.sampleScores > 0) || config.climbTop <= 0) return;
    const order = rewards.map((_, b) => b).sort((a, b) => rewards[b] - rewards[a] || a - b);
    for (const b of order.slice(0, config.climbTop)) {
      if (tracker.exhausted() || this.stopped()) return;
      const key = rowKey(rows, b);
      if (this.climbed.has(key)) continue;
      this.climbed.add(key);
      sim.loadPlacement(rowPlacement(rows, b));
      this.provisionSample(Infinity);
      tracker.offer(sim);
    }
  }

  private offerElite(key: string, row: Rollout, objective: number): void {
    const { elite } = this;
    const size = this.config.eliteSize;
    if (size <= 0 || (elite.length >= size && objective >= elite[elite.length - 1].objective)) return;
    let at = elite.length;
    while (at > 0 && elite[at - 1].objective > objective) at--;
    elite.splice(at, 0, { key, row, objective });
    if (elite.length > size) elite.pop();
  }

  /** After the best changed: the reward scale from the first feasible placement, and the incumbent feature. */
  private refreshIncumbent(): void {
    const { tracker } = this;
    if (tracker.best === null) return;
    if (this.rewardScale === REWARD_SCALE_FALLBACK && tracker.bestFeasible && tracker.bestObjective > 0) {
      this.rewardScale = tracker.bestObjective;
    }
    if (!this.config.incumbentFeature) return;
    const assignment = assignmentOf(tracker.best, this.sim.layerCount);
    const key = assignment.join(',');
    if (key === this.incumbentKey) return;
    this.incumbentKey = key;
    setIncumbent(this.features, assignment);
    disposeInputs(this.inputs);
    this.inputs = this.policy.inputs(this.features, this.schedule().priorStages);
  }

  /**
   * A proposal scored outside the loop (`placer place --fine-tune`: the
   * zero-shot winner, a row drawn from this policy and its provisioned
   * placement): the placement is scored (1 evaluation) and offered to the
   * tracker; the row joins the cache and the elite, so that self-imitation
   * pulls the policy to it from the first update.
   */
  adopt(row: Rollout, placement: Placement): void {
    const { sim, tracker } = this;
    sim.loadPlacement(placement);
    sim.score();
    tracker.count(1);
    tracker.offer(sim);
    const key = rowKey(row, 0);
    const result = { feasible: sim.feasible, violation: sim.violation, objective: sim.objectiveValue };
    this.cache.set(key, result);
    if (result.feasible) this.offerElite(key, pickRows(row, [0]), result.objective);
    this.refreshIncumbent();
  }

  /**
   * Zero-shot: the policy's most likely row, provisioned and scored (and, with
   * the dp decoder, exactly decoded for its types). The tracker keeps the best.
   */
  zeroShot(): Scored & { assignment: Int32Array } {
    const rows = this.distribution().mode();
    const result = this.score(rows, 0, rowKey(rows, 0));
    const assignment = rows.types.slice();
    if (this.decoder) {
      this.decoder.decode(typesMask(assignment, this.sim.typeCount), false);
      const { tracker } = this;
      return { feasible: tracker.bestFeasible, violation: tracker.bestViolation, objective: tracker.bestObjective, assignment };
    }
    return { ...result, assignment };
  }

  /**
   * dp, when samples were capped by `minUpdates`: the best placement gets the
   * full climb its sample did not (replicas, splits, cut and boundary moves),
   * within the evaluations left, before the final decodes. Where decodes do
   * not fit their caps (`starved`) it is what the reserve buys.
   */
  private finalClimb(): void {
    const { sim, tracker } = this;
    if (tracker.best === null || this.stopped() || !this.budgetCapped() || tracker.exhausted()) return;
    sim.loadPlacement(tracker.best);
    sim.score();
    tracker.count(1);
    // Short climbs, each followed by a rebalance of every cut (a split or a replica moves the balance of the whole chain).
    for (;;) {
      const before = sim.objectiveValue;
      const wasFeasible = sim.feasible;
      const left = tracker.maxEvaluations - tracker.evaluations;
      if (left < 2 || this.stopped()) break;
      tracker.count(climb(sim, Math.min(left, FINAL_CLIMB_SCORES), undefined, true));
      if (this.config.rebalance && tracker.maxEvaluations - tracker.evaluations >= REBALANCE_PROBES + 3) tracker.count(rebalanceCuts(sim, tracker.maxEvaluations - tracker.evaluations));
      tracker.offer(sim);
      if (wasFeasible && !(sim.feasible && sim.objectiveValue < before)) break;
    }
    this.refreshIncumbent();
  }

  /** dp: optimal cuts and replicas for the best placement's types, then window passes. */
  private async finalDecode(): Promise<void> {
    const { tracker } = this;
    if (tracker.best === null || this.stopped()) return;
    this.decoder!.decode(typesMask(assignmentOf(tracker.best, this.sim.layerCount), this.sim.typeCount), true);
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!this.stopped()) this.policyMaskDecode();
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let pass = 0; pass < this.config.refinePasses && !this.stopped(); pass++) {
      if (!this.windowDecodeBest(1)) break;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** dp: one decode within the policy's mask (see `maskTypes`); true when it improved the best. */
  private policyMaskDecode(maxLabels = Infinity): boolean {
    const { tracker, sim, config } = this;
    if (tracker.best === null || config.maskTypes <= 0) return false;
    const L = sim.layerCount;
    const K = sim.typeCount;
    const { probs } = this.distribution().params;
    const best = assignmentOf(tracker.best, L);
    const mask = new Uint8Array(L * K);
    const order = Array.from({ length: K }, (_, k) => k);
    for (let l = 0; l < L; l++) {
      mask[l * K + best[l]] = 1;
      order.sort((a, b) => probs[l * K + b] - probs[l * K + a] || a - b);
      for (let i = 0; i < Math.min(config.maskTypes, K); i++) if (this.limits.runnable[l * K + order[i]]) mask[l * K + order[i]] = 1;
    }
    const improved = this.decoder!.decode(mask, true, maxLabels);
    if (improved) this.refreshIncumbent();
    return improved;
  }

  /** dp: one window decode of the best (see `refineWindow`), recombining the elite's types; true when it improved. */
  private windowDecodeBest(passes: number, maxLabels = Infinity): boolean {
    const { tracker, sim } = this;
    let improved = false;
    for (let pass = 0; pass < passes; pass++) {
      if (tracker.best === null || !tracker.bestFeasible || this.stopped()) break;
      const w = Math.max(2, Math.round(this.config.refineWindow * sim.layerCount));
      const extra = this.elite.map((e) => e.row.types);
      const mask = windowMask(assignmentOf(tracker.best, sim.layerCount), sim.typeCount, w, this.limits.runnable, extra);
      if (!this.decoder!.decode(mask, true, maxLabels)) break;
      improved = true;
    }
    if (improved) this.refreshIncumbent();
    return improved;
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
      // The checkpointed policy is the restarted one (the caller passes it): its schedule's learning rate.
      this.learner.dispose();
      this.learner = new Learner(this.learnerConfig());
      disposeInputs(this.inputs);
      this.inputs = this.policy.inputs(this.features, this.schedule().priorStages);
    }
    this.refreshIncumbent();
  }

  /** Adam's slots (for checkpoints). */
  optimizerWeights(): Promise<{ iterations: number; tensors: tf.NamedTensorMap }> {
    return this.learner.weights(this.policy);
  }

  setOptimizerWeights(iterations: number, tensors: tf.NamedTensorMap): Promise<void> {
    return this.learner.setWeights(this.policy, iterations, tensors);
  }

  dispose(): void {
    disposeInputs(this.inputs);
    this.learner.dispose();
    if (this.ownsPolicy) this.policy.dispose();
  }
}

/** Uniform over the runnable types; stay with the fresh policy's prior (σ(2) ≈ 0.88, adjusted on long chains: `stayOffset`). */
function uniformParams(limits: ActionLimits, priorStages: number): { probs: Float32Array; stay: Float32Array } {
  const { layerCount: L, typeCount: K, runnable } = limits;
  const probs = new Float32Array(L * K);
  for (let l = 0; l < L; l++) {
    let n = 0;
    for (let k = 0; k < K; k++) n += runnable[l * K + k];
    for (let k = 0; k < K; k++) probs[l * K + k] = runnable[l * K + k] / Math.max(1, n);
  }
  return { probs, stay: new Float32Array(L).fill(1 / (1 + Math.exp(-(INITIAL_STAY_LOGIT + stayOffset(L, priorStages))))) };
}

export function methodName(decoder: DecoderKind): string {
  return decoder === 'dp' ? 'reinforce-dp' : 'reinforce';
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
