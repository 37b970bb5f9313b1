import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoDuration } from '../../src/event-handler/go-duration.ts';

for (const c of [
  { in: '87600h', ms: 87600 * 3600_000 },
  { in: '1h30m', ms: 5400_000 },
  { in: '1.5s', ms: 1500 },
  { in: '300ms', ms: 300 },
  { in: '-2m', ms: -120_000 },
  { in: '+10s', ms: 10_000 },
  { in: '0', ms: 0 },
  { in: '.5s', ms: 500 },
  { in: '1000us', ms: 1 },
  { in: '10', ms: undefined },
  { in: '5d', ms: undefined },
  { in: '', ms: undefined },
  { in: 's', ms: undefined },
  { in: '.s', ms: undefined },
  { in: '1h1', ms: undefined },
  { in: '1 h', ms: undefined },
]) {
  test(`parseGoDuration(${JSON.stringify(c.in)})`, () => assert.equal(parseGoDuration(c.in), c.ms));
}
