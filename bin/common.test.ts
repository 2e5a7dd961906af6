import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../env/errors.js';
import { errorLine } from './common.js';

test('an error that is not a UserError is one placer: line, the stack only under PLACER_DEBUG=1', () => {
  const saved = process.env.PLACER_DEBUG;
  try {
    delete process.env.PLACER_DEBUG;
    assert.equal(errorLine(new UserError('x.csv row 2: bad')), 'placer: x.csv row 2: bad');
    assert.equal(errorLine(new RangeError('Offset is outside the bounds\n    at foo (a.js:1:2)')), 'placer: internal error: Offset is outside the bounds (PLACER_DEBUG=1 shows where)');
    assert.equal(errorLine('thrown string'), 'placer: internal error: thrown string (PLACER_DEBUG=1 shows where)');
    process.env.PLACER_DEBUG = '1';
    assert.match(errorLine(new Error('boom')), /^placer: Error: boom\n\s+at /);
  } finally {
    if (saved === undefined) delete process.env.PLACER_DEBUG;
    else process.env.PLACER_DEBUG = saved;
  }
});
