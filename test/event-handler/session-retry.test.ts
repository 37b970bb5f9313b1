// Session stream errors (issue 14 §4): upstream retries a session 3 times inside its worker and
// then drops it silently. Here, with ONE worker slot (--concurrency 1), a session whose stream
// always fails does not hold up the others, one that breaks mid-stream twice is resumed and
// delivered whole, and the broken one is given up after the bound, recorded in the state dir as
// given_up_session<sid> and logged; the next start names it and does not stream it again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStart } from '../../src/event-handler/start/start.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { cleanup } from '../support/cleanup.ts';
import { captureLog, config, FAST, makeWorld, received } from './start-helpers.ts';

const MAX_ATTEMPTS = 4;

test('one session stream always failing: the others are delivered, it is given up after the bound and recorded', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 300, days: 1, perSession: 12, sessions: 6 });
  defer(() => w.close());
  const [broken, flaky, ...rest] = w.gen.sessionIds;
  assert.equal(rest.length, 4);
  w.fake.failingSessions.set(broken, { times: Infinity, afterEvents: 0 });
  w.fake.failingSessions.set(flaky, { times: 2, afterEvents: 5 });
  const cap = captureLog();
  const tuning = { ...FAST, sessionMaxAttempts: MAX_ATTEMPTS };
  const result = await runStart(config(w, { concurrency: '1' }), { log: cap.log, tuning, signal: AbortSignal.timeout(90_000) });
  assert.equal(result.auditEvents, 300);

  const got = received(w);
  const bodiesOf = (sid: string) => got.filter((r) => r.tag === `session.${sid}.log`).map((r) => JSON.stringify(r.body));
  const expected = (sid: string) => w.fake.sessions.get(sid)!.filter((e) => e.type !== 'print').map((e) => eventBody(e.json));
  for (const sid of rest) assert.deepEqual(bodiesOf(sid), expected(sid), `session ${sid} delivered whole, in order`);
  // Resumed at the saved index: an event may repeat (as upstream), none is missing, order kept.
  assert.deepEqual([...new Set(bodiesOf(flaky))], expected(flaky));
  assert.deepEqual(bodiesOf(broken), []);

  const retries = (sid: string) => cap.lines.filter((l) => l.id === sid && l.msg === 'Session ingestion error, retrying').length;
  assert.equal(retries(broken), MAX_ATTEMPTS - 1, 'retried up to the bound');
  assert.equal(retries(flaky), 2);
  const gaveUp = cap.lines.find((l) => l.msg === 'Session ingestion failed too often, giving up; recorded in the state directory');
  assert.ok(gaveUp !== undefined);
  assert.equal(gaveUp.id, broken);
  assert.equal(gaveUp.attempts, MAX_ATTEMPTS);
  assert.match(String(gaveUp.error), /fake: session .* stream broke/);

  const file = join(result.stateDir, `given_up_session${broken}`);
  const record = JSON.parse(readFileSync(file, 'utf8')) as { index: number; attempts: number; error: string; givenUpAt: string };
  assert.equal(record.attempts, MAX_ATTEMPTS);
  assert.equal(record.index, 0);
  assert.match(record.error, /stream broke/);
  assert.ok(!Number.isNaN(Date.parse(record.givenUpAt)));
  assert.equal(existsSync(join(result.stateDir, `session${broken}`)), false, 'no longer queued');
  for (const sid of [flaky, ...rest]) assert.equal(existsSync(join(result.stateDir, `session${sid}`)), false);

  // The next start names it and does not stream it again.
  const callsBefore = w.fake.calls.length;
  const cap2 = captureLog();
  await runStart(config(w, { concurrency: '1' }), { log: cap2.log, tuning, signal: AbortSignal.timeout(60_000) });
  const named = cap2.lines.find((l) => String(l.msg).startsWith('Session recordings given up in an earlier run'));
  assert.deepEqual(named?.sessions, [broken]);
  assert.equal(w.fake.calls.slice(callsBefore).filter((c) => c === 'StreamUnstructuredSessionEvents').length, 0);
});
