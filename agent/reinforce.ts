/**
 * The policy-gradient agent, as searchers:
 *  - `reinforce`: the policy alone. Its samples (stage-level actions drawn
 *    within unit counts and the budget), provisioned (agent/provision.ts) and
 *    scored; PPO updates with self-imitation; restarts of the policy. No
 *    exact solver, no heuristic start.
 *  - `reinforce-dp`: the same loop, plus exact decodes of the best placement
 *    (the exact solver restricted to a window of the types it uses), every
 *    label counted against the same evaluation budget.
 * The parts live in agent/rl/: actions.ts (the action distribution),
 * loss.ts and learner.ts (the update), exact-decode.ts, config.ts (settings
 * and defaults), trainer.ts (the loop).
 */
import type { Problem, Settings } from '../env/problem.js';
import type { SearchOptions, SearchResult, Searcher } from './searcher.js';
import { DEFAULT_REINFORCE_CONFIG, type DecoderKind, type ReinforceConfig } from './rl/config.js';
import { ReinforceTrainer, methodName } from './rl/trainer.js';

export { DECODER_KINDS, DEFAULT_REINFORCE_CONFIG, type DecoderKind, type ReinforceConfig, type Schedule } from './rl/config.js';
export { ReinforceTrainer, centredRanks, type HistoryRow, type TrainOptions, type TrainerState } from './rl/trainer.js';

/** The config with `learningRate` in every schedule (the first and the restarts'); 0 freezes the policy. */
export function withLearningRate(config: ReinforceConfig, learningRate: number): ReinforceConfig {
  return { ...config, learningRate, restartSchedules: config.restartSchedules.map((s) => ({ ...s, learningRate })) };
}

/** The default config for a decoder. */
export function reinforceConfig(decoder: DecoderKind, overrides: Partial<ReinforceConfig> = {}): ReinforceConfig {
  return { ...DEFAULT_REINFORCE_CONFIG, decoder, ...overrides };
}

/** `reinforce` (decoder none, the default) or `reinforce-dp` (`{ decoder: 'dp' }`). */
export function reinforceSearcher(overrides: Partial<ReinforceConfig> = {}): Searcher {
  const config: ReinforceConfig = { ...DEFAULT_REINFORCE_CONFIG, ...overrides };
  return {
    name: methodName(config.decoder),
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
