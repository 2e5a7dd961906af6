/**
 * The agent's action space and its distribution (the part Stable-Baselines3
 * calls `distributions.py`, CleanRL `get_action_and_value`): sample, mode and
 * log-probability of stage-level actions over a chain.
 *
 * Walking the chain from layer 0, each layer either continues the current
 * stage (probability σ(stay[l])) or begins a new stage, whose type is drawn
 * from π(· | l) restricted to the types still allowed:
 *   - the type can run the layer (the profile has it);
 *   - a unit of it is left (each stage takes one unit; replicas come later);
 *   - (objective `time`) one more unit of it keeps the price within the budget.
 * A choice with one option is forced and carries no probability. When no type
 * is allowed and the stage cannot continue (its type cannot run the layer),
 * the draw falls back to every runnable type: the sample is then infeasible,
 * and ranks by its violation.
 *
 * So every sample respects unit counts and the budget as it is drawn (masked
 * sampling), and the stage boundaries are the policy's own: two neighbouring
 * stages may have the same type (a pipeline over two units), which maximal
 * runs of equal types could not express. The provisioning that follows
 * (agent/provision.ts `climb`) adds replicas, splits and moves cuts.
 *
 * The log-probability of one sample is a sum over decisions; each decision's
 * own term is kept (`logProb` [B × L]) for per-decision PPO ratios.
 */
import { canRun, type Placement, type Problem, type Settings } from '../../env/problem.js';

/** What the constraints allow while sampling. */
export interface ActionLimits {
  layerCount: number;
  typeCount: number;
  /** [L × K] 1 = the profile has (l, k). */
  runnable: Uint8Array;
  count: Int32Array;
  price: Float64Array;
  /** Dollars per hour (Infinity when the objective is not `time` or there is none). */
  budget: number;
}

export function actionLimits(problem: Problem, settings: Settings): ActionLimits {
  const L = problem.layers.length;
  const K = problem.types.length;
  const runnable = new Uint8Array(L * K);
  for (let l = 0; l < L; l++) for (let k = 0; k < K; k++) runnable[l * K + k] = canRun(problem, l, k) ? 1 : 0;
  return {
    layerCount: L,
    typeCount: K,
    runnable,
    count: Int32Array.from(problem.types, (t) => t.count),
    price: Float64Array.from(problem.types, (t) => t.pricePerHour),
    budget: settings.objective === 'time' ? settings.budget : Infinity,
  };
}

/** Decision kinds per layer. */
export const FORCED = 0;
export const STAYED = 1;
export const BEGAN = 2;

/**
 * A batch of sampled action sequences (rows), with what the loss needs to
 * recompute their log-probabilities under a changed policy.
 */
export interface Rollout {
  size: number;
  layerCount: number;
  typeCount: number;
  /** [B × L] type of each layer. */
  types: Int32Array;
  /** [B × L] 1 where a stage begins (a type was drawn). */
  began: Uint8Array;
  /** [B × L] FORCED, STAYED or BEGAN: whether the stay/begin choice was a choice, and which. */
  choice: Uint8Array;
  /** [B × L × K] 1 for the types the draw allowed (only read where `began`). */
  allowed: Uint8Array;
  /** [B × L] log-probability of each decision under the policy that sampled it. */
  logProb: Float32Array;
}

export function emptyRollout(size: number, L: number, K: number): Rollout {
  return {
    size,
    layerCount: L,
    typeCount: K,
    types: new Int32Array(size * L),
    began: new Uint8Array(size * L),
    choice: new Uint8Array(size * L),
    allowed: new Uint8Array(size * L * K),
    logProb: new Float32Array(size * L),
  };
}

/** The policy's outputs for one chain: per-layer type probabilities and stay probabilities. */
export interface StageDistributionParams {
  /** [L × K] softmax over the runnable types. */
  probs: Float32Array;
  /** [L] σ(stay logit). */
  stay: Float32Array;
}

export class StageDistribution {
  private readonly used: Int32Array;

  constructor(
    readonly params: StageDistributionParams,
    readonly limits: ActionLimits,
  ) {
    this.used = new Int32Array(limits.typeCount);
  }

  /** Draws `size` rows with the uniform generator `rng`. */
  sample(size: number, rng: () => number): Rollout {
    const { layerCount: L, typeCount: K } = this.limits;
    const out = emptyRollout(size, L, K);
    for (let b = 0; b < size; b++) this.walk(out, b, (l, stayP) => rng() < stayP, (l, allowedOffset) => this.drawType(out, l, allowedOffset, rng()));
    return out;
  }

  /**
   * Window samples (the learned large-neighbourhood move): each row copies
   * `base` (row `baseRow`) outside its window [first, last] (forced
   * decisions, no probability) and draws the window's stage decisions from
   * these params, as `sample` does. Units and money of the base's stages that
   * begin after the window are kept for them, so the window's draws respect
   * counts and the budget together with the rest; the stage after the window
   * begins afresh with the base's type. `windows[2j]`, `windows[2j + 1]`: row j's first and last layer.
   */
  sampleWindows(base: Rollout, baseRow: number, windows: ArrayLike<number>, rng: () => number): Rollout {
    const { layerCount: L, typeCount: K } = this.limits;
    const size = windows.length >> 1;
    const out = emptyRollout(size, L, K);
    for (let b = 0; b < size; b++) this.walkWindow(out, b, base, baseRow, windows[2 * b], windows[2 * b + 1], rng);
    return out;
  }

  private walkWindow(out: Rollout, b: number, base: Rollout, baseRow: number, first: number, last: number, rng: () => number): void {
    const { layerCount: L, typeCount: K, runnable, count, price, budget } = this.limits;
    const { probs, stay } = this.params;
    const used = this.used;
    used.fill(0);
    let spent = 0;
    // Units the base's stages after the window take (the one right after it included).
    for (let l = last + 1; l < L; l++) {
      const j = baseRow * L + l;
      if (base.began[j] || l === last + 1) {
        used[base.types[j]]++;
        spent += price[base.types[j]];
      }
    }
    let previous = -1;
    for (let l = 0; l < L; l++) {
      const i = b * L + l;
      const a = i * K;
      const j = baseRow * L + l;
      if (l < first || l > last) {
        // Copied: a forced decision (one allowed type, log-probability 0).
        const k = base.types[j];
        const begins = l === 0 || l === last + 1 || base.began[j] === 1;
        out.types[i] = k;
        out.choice[i] = FORCED;
        if (begins) {
          out.began[i] = 1;
          out.allowed[a + k] = 1;
          if (l < first) {
            used[k]++;
            spent += price[k];
          }
        }
        previous = k;
        continue;
      }
      let any = false;
      for (let k = 0; k < K; k++) {
        const ok = runnable[l * K + k] === 1 && used[k] < count[k] && spent + price[k] <= budget && probs[l * K + k] > 0;
        out.allowed[a + k] = ok ? 1 : 0;
        any ||= ok;
      }
      const canContinue = previous >= 0 && runnable[l * K + previous] === 1;
      let begin: boolean;
      if (!canContinue) begin = true;
      else if (!any) begin = false;
      else {
        begin = !(rng() < stay[l]);
        out.choice[i] = begin ? BEGAN : STAYED;
        out.logProb[i] = Math.log(Math.max(1e-30, begin ? 1 - stay[l] : stay[l]));
      }
      if (!begin) {
        out.types[i] = previous;
        continue;
      }
      if (!any) for (let k = 0; k < K; k++) out.allowed[a + k] = runnable[l * K + k]; // infeasible fallback
      const k = this.drawType(out, l, a, rng());
      out.types[i] = k;
      out.began[i] = 1;
      out.logProb[i] += Math.log(Math.max(1e-30, probs[l * K + k] / allowedMass(probs, out.allowed, l * K, a, K)));
      used[k]++;
      spent += price[k];
      previous = k;
    }
  }

  /** The most likely row, decision by decision (continue when σ > 0.5; else the likeliest allowed type). */
  mode(): Rollout {
    const { layerCount: L, typeCount: K } = this.limits;
    const out = emptyRollout(1, L, K);
    const { probs } = this.params;
    this.walk(out, 0, (_l, stayP) => stayP > 0.5, (l, allowedOffset) => {
      let best = -1;
      for (let k = 0; k < K; k++) if (out.allowed[allowedOffset + k] && (best < 0 || probs[l * K + k] > probs[l * K + best])) best = k;
      return best;
    });
    return out;
  }

  /**
   * Fills row `b` of `out` walking the chain; `stays(l, p)` decides a free
   * stay/begin choice, `draw(l, offset)` a type among out.allowed[offset..+K).
   * Writes the per-decision log-probabilities under these params.
   */
  private walk(out: Rollout, b: number, stays: (l: number, p: number) => boolean, draw: (l: number, allowedOffset: number) => number): void {
    const { layerCount: L, typeCount: K, runnable, count, price, budget } = this.limits;
    const { probs, stay } = this.params;
    const used = this.used;
    used.fill(0);
    let spent = 0;
    let previous = -1;
    for (let l = 0; l < L; l++) {
      const i = b * L + l;
      const a = i * K;
      let any = false;
      for (let k = 0; k < K; k++) {
        const ok = runnable[l * K + k] === 1 && used[k] < count[k] && spent + price[k] <= budget && probs[l * K + k] > 0;
        out.allowed[a + k] = ok ? 1 : 0;
        any ||= ok;
      }
      const canContinue = previous >= 0 && runnable[l * K + previous] === 1;
      let begin: boolean;
      if (!canContinue) begin = true;
      else if (!any) begin = false;
      else {
        begin = !stays(l, stay[l]);
        out.choice[i] = begin ? BEGAN : STAYED;
        out.logProb[i] = Math.log(Math.max(1e-30, begin ? 1 - stay[l] : stay[l]));
      }
      if (!begin) {
        out.types[i] = previous;
        continue;
      }
      if (!any) for (let k = 0; k < K; k++) out.allowed[a + k] = runnable[l * K + k]; // infeasible fallback
      const k = draw(l, a);
      out.types[i] = k;
      out.began[i] = 1;
      out.logProb[i] += Math.log(Math.max(1e-30, probs[l * K + k] / allowedMass(probs, out.allowed, l * K, a, K)));
      used[k]++;
      spent += price[k];
      previous = k;
    }
  }

  private drawType(out: Rollout, l: number, allowedOffset: number, u: number): number {
    const K = this.limits.typeCount;
    const { probs } = this.params;
    const total = allowedMass(probs, out.allowed, l * K, allowedOffset, K);
    let target = u * total;
    let last = -1;
    for (let k = 0; k < K; k++) {
      if (!out.allowed[allowedOffset + k]) continue;
      const p = probs[l * K + k];
      if (last < 0 || p > 0) last = k;
      target -= p;
      if (target < 0 && p > 0) return k;
    }
    return last;
  }

  /** Per-decision log-probabilities of `rows` (taken from any rollout) under these params, written into rows.logProb. */
  relabel(rows: Rollout): void {
    const { layerCount: L, typeCount: K } = this.limits;
    const { probs, stay } = this.params;
    for (let i = 0; i < rows.size * L; i++) {
      const l = i % L;
      const c = rows.choice[i];
      let lp = c === STAYED ? Math.log(Math.max(1e-30, stay[l])) : c === BEGAN ? Math.log(Math.max(1e-30, 1 - stay[l])) : 0;
      if (rows.began[i]) lp += Math.log(Math.max(1e-30, probs[l * K + rows.types[i]] / allowedMass(probs, rows.allowed, l * K, i * K, K)));
      rows.logProb[i] = lp;
    }
  }
}

function allowedMass(probs: Float32Array, allowed: Uint8Array, probOffset: number, allowedOffset: number, K: number): number {
  let total = 0;
  for (let k = 0; k < K; k++) if (allowed[allowedOffset + k]) total += probs[probOffset + k];
  return total > 0 ? total : 1e-30;
}

/**
 * A placement as a one-row rollout (its types, a stage begun at each stage's
 * first layer; every decision forced): the base for `sampleWindows`.
 */
export function placementRow(placement: Placement, L: number, K: number): Rollout {
  const out = emptyRollout(1, L, K);
  for (const stage of placement) {
    for (let l = stage.first; l <= stage.last; l++) out.types[l] = stage.type;
    out.began[stage.first] = 1;
    out.allowed[stage.first * K + stage.type] = 1;
  }
  return out;
}

/** Row `b` as a placement: one stage per begun run, one replica each (what provisioning starts from). */
export function rowPlacement(rows: Rollout, b: number): Placement {
  const L = rows.layerCount;
  const placement: Placement = [];
  for (let l = 0; l < L; l++) {
    const i = b * L + l;
    if (rows.began[i] || placement.length === 0) placement.push({ type: rows.types[i], replicas: 1, first: l, last: l });
    else placement[placement.length - 1].last = l;
  }
  return placement;
}

/** A string naming row `b` (types and stage boundaries), for the cache of scored rows. */
export function rowKey(rows: Rollout, b: number): string {
  const L = rows.layerCount;
  let key = '';
  for (let l = 0; l < L; l++) key += String.fromCharCode(0x100 + 2 * rows.types[b * L + l] + rows.began[b * L + l]);
  return key;
}

/** Rows `indices` of `rows`, copied into a new rollout (in that order). */
export function pickRows(rows: Rollout, indices: ArrayLike<number>): Rollout {
  const { layerCount: L, typeCount: K } = rows;
  const out = emptyRollout(indices.length, L, K);
  for (let j = 0; j < indices.length; j++) copyRow(rows, indices[j], out, j);
  return out;
}

/** Concatenates rollouts of one chain. */
export function concatRollouts(parts: Rollout[]): Rollout {
  const { layerCount: L, typeCount: K } = parts[0];
  const out = emptyRollout(parts.reduce((n, p) => n + p.size, 0), L, K);
  let at = 0;
  for (const part of parts) for (let b = 0; b < part.size; b++) copyRow(part, b, out, at++);
  return out;
}

function copyRow(from: Rollout, b: number, to: Rollout, j: number): void {
  const L = from.layerCount;
  const K = from.typeCount;
  to.types.set(from.types.subarray(b * L, (b + 1) * L), j * L);
  to.began.set(from.began.subarray(b * L, (b + 1) * L), j * L);
  to.choice.set(from.choice.subarray(b * L, (b + 1) * L), j * L);
  to.allowed.set(from.allowed.subarray(b * L * K, (b + 1) * L * K), j * L * K);
  to.logProb.set(from.logProb.subarray(b * L, (b + 1) * L), j * L);
}
