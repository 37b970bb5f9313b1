// start end to end: fake Teleport (gRPC over mTLS) → exporter → the real receiver (mTLS), both
// audit paths, several days of events, recordings, UNAVAILABLE now and then, NOT_FOUND once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStart } from '../../src/event-handler/start/start.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { byChunk, config, FAST, makeWorld, quietLog, received } from './start-helpers.ts';
import type { World } from './start-helpers.ts';

/** Audit bodies in arrival order, and each session's bodies. */
function split(w: World) {
  const audit: string[] = [];
  const sessions = new Map<string, string[]>();
  for (const r of received(w)) {
    const text = JSON.stringify(r.body);
    if (r.tag === 'test.log') audit.push(text);
    else {
      const m = /^session\.(.+)\.log$/.exec(r.tag);
      assert.ok(m, `unexpected tag ${r.tag}`);
      sessions.set(m[1], [...(sessions.get(m[1]) ?? []), text]);
    }
  }
  return { audit, sessions };
}

async function settle(w: World, expected: number): Promise<void> {
  await w.recv.log.waitFor(() => received(w).length >= expected, 5000).catch(() => {});
}

for (const c of [
  { name: 'window/page path, sequential (--fluentd-max-in-flight 1)', bulk: false, inFlight: '1' },
  { name: 'window/page path, pipelined', bulk: false, inFlight: '0' },
  { name: 'bulk export path, pipelined', bulk: true, inFlight: '0' },
]) {
  test(`start: ${c.name}: every event arrives, bodies as the server's JSON, tags test.log / session.<sid>.log`, async (t) => {
    const w = await makeWorld({ bulk: c.bulk, count: 2000, days: 4, perSession: 25, sessions: 5, unavailableEvery: 13, chunkSize: 150 });
    t.after(() => w.close());
    // One recording is not uploaded yet on the first try: NOT_FOUND → missing_recording, retried.
    w.fake.missing.set(w.gen.sessionIds[0], 1);
    const cfg = config(w, { 'fluentd-max-in-flight': c.inFlight, 'window-size': '24h' });
    const result = await runStart(cfg, { log: quietLog(), tuning: { ...FAST, missingDelayMs: 60_000 } });
    assert.equal(result.path, c.bulk ? 'bulk' : 'legacy');

    const expectedAudit = w.fake.events.map((e) => eventBody(e.json));
    const expectedSessions = new Map([...w.fake.sessions].map(([sid, evs]) => [sid, evs.filter((e) => e.type !== 'print').map((e) => eventBody(e.json))]));
    // The missing recording waits for the retry schedule (a later run here).
    const missingSid = w.gen.sessionIds[0];
    const sessionTotal = [...expectedSessions.values()].reduce((n, l) => n + l.length, 0) - expectedSessions.get(missingSid)!.length;
    await settle(w, expectedAudit.length + sessionTotal);

    const got = split(w);
    assert.equal(got.audit.length, expectedAudit.length);
    // Sequential, and pipelined on one HTTP/1.1 connection: the receiver gets them in the server's
    // order; on the bulk path 3 chunks are read at once, each in its stream order.
    if (c.bulk) {
      assert.deepEqual([...got.audit].sort(), [...expectedAudit].sort());
      assert.deepEqual(byChunk(w.fake, 150, got.audit), byChunk(w.fake, 150, expectedAudit));
    } else assert.deepEqual(got.audit, expectedAudit);
    for (const [sid, bodies] of expectedSessions) {
      if (sid !== missingSid) assert.deepEqual(got.sessions.get(sid), bodies, `session ${sid}`);
    }
    assert.equal(got.sessions.get(missingSid), undefined);
    // Its upload is days old: past upstream's 48 h cut-off, so it is given up, not parked.
    assert.deepEqual(readdirSync(result.stateDir).filter((f) => f.startsWith('missing_recording')), []);
    // Every other recording finished: no session<sid> key left.
    assert.deepEqual(readdirSync(result.stateDir).filter((f) => f.startsWith('session')), []);
    assert.ok(w.fake.calls.length > 10);
  });
}

test('start: a recording reported NOT_FOUND is fetched again by the missing-recording schedule', async (t) => {
  const w = await makeWorld({ bulk: false, count: 60, days: 1, perSession: 10, sessions: 1 });
  t.after(() => w.close());
  const sid = w.gen.sessionIds[0];
  w.fake.missing.set(sid, 1);
  const stop = new AbortController();
  const run = runStart(config(w, { 'exit-on-last-event': 'false' }), { log: quietLog(), tuning: { ...FAST, missingDelayMs: 400 }, signal: stop.signal });
  // First NOT_FOUND parks it as missing_recording<sid> (upload is recent: < 48 h) with Attempt 1.
  const stateDir = join(w.dir, 'storage', `127.0.0.1_${w.fake.port}`);
  const file = join(stateDir, `missing_recording${sid}`);
  const deadline = Date.now() + 10_000;
  let parked: Record<string, unknown> | undefined;
  while (parked === undefined && Date.now() < deadline) {
    try {
      parked = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  assert.ok(parked, 'missing_recording file written');
  assert.deepEqual(Object.keys(parked), ['Index', 'Attempt', 'Timestamp']);
  assert.equal(parked.Attempt, 1);
  assert.match(String(parked.Timestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const want = w.fake.sessions.get(sid)!.filter((e) => e.type !== 'print').length;
  await w.recv.log.waitFor(() => received(w).filter((r) => r.tag === `session.${sid}.log`).length >= want, 15_000);
  // The session's state files are removed after its last event was answered 200: that
  // write may still be under way when the receiver already has every event.
  const leftovers = () => readdirSync(stateDir).filter((f) => f.startsWith('missing_recording') || f.startsWith('session'));
  const cleanDeadline = Date.now() + 10_000;
  while (leftovers().length > 0 && Date.now() < cleanDeadline) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  const result = await run;
  assert.equal(result.stateDir, stateDir);
  assert.deepEqual(leftovers(), []);
});
