/**
 * The registry of searchers by name, for the CLI (`solve --method NAME`) and
 * the experiments. Each entry builds a searcher with its default config.
 * `reinforce` is the policy alone; `reinforce-dp` adds exact decodes.
 */
import { annealSearcher } from './anneal.js';
import { exactSearcher } from './exact.js';
import { geneticSearcher } from './genetic.js';
import { greedySearcher } from './greedy.js';
import { randomSearcher } from './random.js';
import { reinforceSearcher } from './reinforce.js';
import type { Searcher } from './searcher.js';

const FACTORIES = {
  random: () => randomSearcher(),
  greedy: () => greedySearcher(),
  anneal: () => annealSearcher(),
  genetic: () => geneticSearcher(),
  exact: () => exactSearcher,
  reinforce: () => reinforceSearcher(),
  'reinforce-dp': () => reinforceSearcher({ decoder: 'dp' }),
} satisfies Record<string, () => Searcher>;

export type SearcherName = keyof typeof FACTORIES;

export const SEARCHER_NAMES = Object.keys(FACTORIES) as SearcherName[];

export function isSearcherName(name: string): name is SearcherName {
  return Object.hasOwn(FACTORIES, name);
}

/** The searcher called `name`; throws with the known names when there is none. */
export function searcherByName(name: string): Searcher {
  if (!isSearcherName(name)) {
    throw new Error(`unknown searcher "${name}"; known: ${SEARCHER_NAMES.join(', ')}`);
  }
  return FACTORIES[name]();
}
