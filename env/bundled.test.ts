import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundledProblem, bundledProblemNames, parseProblemDefaults } from './bundled.js';
import { UserError } from './errors.js';

const messageOf = (f: () => unknown) => {
  try {
    f();
  } catch (error) {
    assert.ok(error instanceof UserError, String(error));
    return (error as Error).message;
  }
  assert.fail('expected an error');
};

test('problem.json values are checked: one line naming the file and the key', () => {
  const check = (json: Record<string, unknown>) => messageOf(() => parseProblemDefaults('p/problem.json', json));
  assert.equal(check({ microBatches: 0 }), 'p/problem.json: "microBatches": expected a whole number from 1 to 1000000, got 0');
  assert.match(check({ microBatches: '8' }), /"microBatches": expected a whole number/);
  assert.match(check({ microBatches: 1.5 }), /"microBatches"/);
  assert.match(check({ budget: -1 }), /"budget": expected a number > 0/);
  assert.match(check({ deadline: 'soon' }), /"deadline"/);
  assert.equal(check({ objective: 'banana' }), 'p/problem.json: "objective": expected "time" or "cost", got "banana"');
  assert.deepEqual(parseProblemDefaults('p', { microBatches: 4, budget: 3.5, objective: 'time', description: 'x' }), { microBatches: 4, budget: 3.5, objective: 'time', description: 'x' });
});

test('every bundled problem.json passes the checks', () => {
  for (const name of bundledProblemNames()) assert.doesNotThrow(() => bundledProblem(name), name);
});

test('--problem names a bundled problem, never a path', () => {
  for (const name of ['../toy', '../../etc', '/tmp', 'toy/../toy', '.', '..']) {
    assert.match(messageOf(() => bundledProblem(name)), /not a bundled problem name .*--layers, --devices and --profile/, name);
  }
});
