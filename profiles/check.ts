/**
 * Reports, for every bundled problem, whether its budget binds and where memory
 * bites: the cheapest feasible price, the price of the unconstrained fastest
 * placement, the optimum at the budget, and which types can hold the whole
 * model on one unit. A development aid for choosing budgets (uses the exact
 * searcher), not part of the tests. Run: node dist/profiles/check.js [name…]
 */
import { solveExact } from '../agent/exact.js';
import { evaluate } from '../env/simulate.js';
import type { Placement, Problem, Settings } from '../env/problem.js';
import { bundledProblems } from './problems.js';

function describe(problem: Problem, placement: Placement): string {
  return placement
    .map((s) => `${problem.types[s.type].name}x${s.replicas}[${problem.layers[s.first].name}..${problem.layers[s.last].name}]`)
    .join(' ');
}

const only = process.argv.slice(2);
const timeLimitS = Number(process.env.CHECK_TIME_LIMIT ?? 120);
for (const { name, problem, meta } of bundledProblems()) {
  if (only.length && !only.includes(name)) continue;
  const settings: Settings = { microBatches: meta.microBatches, objective: 'time', budget: meta.budget, deadline: Infinity };
  const free: Settings = { ...settings, budget: Infinity };
  const K = problem.types.length;
  const whole = problem.types
    .map((t, k) => {
      const runs = problem.layers.every((_, l) => !Number.isNaN(problem.forwardMs[l * K + k]));
      if (!runs) return `${t.name}:cannot-run-all`;
      const e = evaluate(problem, free, [{ type: k, replicas: 1, first: 0, last: problem.layers.length - 1 }]);
      const need = e.stages[0].memoryBytes;
      return `${t.name}:${need <= t.memoryBytes ? 'fits' : 'NO'}(${(need / 2 ** 30).toFixed(1)}GiB,${e.stepMs?.toFixed(1)}ms)`;
    })
    .join(' ');
  const cheapest = solveExact(problem, free, { goal: 'price', timeLimitS });
  const fastest = solveExact(problem, free, { goal: 'time', timeLimitS });
  const best = solveExact(problem, settings, { goal: 'time', timeLimitS });
  const show = (label: string, r: ReturnType<typeof solveExact>) => {
    if (!r.placement) return `${label}: none (${r.complete ? 'complete' : 'cut'})`;
    const e = evaluate(problem, settings, r.placement);
    return `${label}: $${e.pricePerHour.toFixed(3)}/h ${e.stepMs?.toFixed(2)}ms ${r.complete ? 'exact' : 'CUT'} ${r.seconds.toFixed(1)}s\n    ${describe(problem, r.placement)}`;
  };
  const cheapPrice = cheapest.placement ? evaluate(problem, free, cheapest.placement).pricePerHour : NaN;
  const fastPrice = fastest.placement ? evaluate(problem, free, fastest.placement).pricePerHour : NaN;
  const binds = cheapPrice <= meta.budget && fastPrice > meta.budget;
  console.log(`== ${name}: ${problem.layers.length} layers, ${K} types, M=${meta.microBatches}, budget $${meta.budget}/h -> ${binds ? 'BINDS' : 'DOES NOT BIND'}`);
  console.log(`  one unit holds all: ${whole}`);
  console.log('  ' + show('cheapest', cheapest));
  console.log('  ' + show('fastest (no budget)', fastest));
  console.log('  ' + show('optimum at budget', best));
}
