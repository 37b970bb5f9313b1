// The lock feature end to end (docs/compatibility-event-handler.md §4.5, §5 "Lock feature"): failed
// `user.login` events flow through the real exporter to the fake Teleport's
// /proto.AuthService/UpsertLock, and each case checks the LockV2 as the server decoded it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { toJson } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { runStart } from '../../src/event-handler/start/start.ts';
import { LockV2Schema } from '../../src/event-handler/teleport/grpc-service.ts';
import { FixedWindowBuckets } from '../../src/event-handler/audit/locks.ts';
import { config, FAST, makeWorld, received } from './start-helpers.ts';
import type { World } from './start-helpers.ts';

const HOUR = 3_600_000;

/** `failures` failed logins of alice as root, among successful logins and a failure of bob as admin. */
function loadEvents(w: World, failures: number): void {
  w.fake.events.length = 0;
  const at = (i: number) => w.gen.startMs + 1000 + i * 1000;
  let i = 0;
  const push = (json: Record<string, unknown>) => {
    const n = i++;
    const id = `ev-${n}`;
    w.fake.events.push({ type: String(json['event']), id, timeMs: at(n), index: n, json: { ...json, uid: id, time: new Date(at(n)).toISOString(), n } as never });
  };
  push({ event: 'user.login', code: 'T1000I', user: 'alice', login: 'root', success: true });
  for (let k = 0; k < failures; k++) {
    push({ event: 'user.login', code: 'T1000W', user: 'alice', login: 'root', success: false, error: 'bad password', method: 'local' });
    push({ event: 'cert.create', code: 'TC000I', user: 'alice' });
  }
  push({ event: 'user.login', code: 'T1000W', user: 'bob', login: 'admin', success: false, error: 'bad password', method: 'local' });
}

function capture(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (out.push(c.toString()), cb()) });
  return { log: pino({ level: 'info' }, sink) as Logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const cases = [
  { name: 'count+1 failures within lock-period → one lock with exact fields and Expires', failures: 4, flags: { 'lock-for': '1h' }, locks: 1, expiresMs: HOUR },
  { name: 'count failures → no lock (memorystore: the (count+1)-th take is the first refused)', failures: 3, flags: {}, locks: 0 },
  { name: 'lock-for unset (0) → no Expires', failures: 4, flags: {}, locks: 1, expiresMs: undefined },
  { name: '6 failures → a lock per refused take, as upstream', failures: 6, flags: {}, locks: 3, expiresMs: undefined },
  { name: 'dry-run → no lock', failures: 6, flags: { 'dry-run': 'true' }, locks: 0 },
  { name: 'UpsertLock failing twice → logged, retried, forwarding goes on', failures: 4, flags: {}, locks: 1, expiresMs: undefined, lockFailures: 2 },
] as const;

for (const bulk of [false, true]) {
  test(`start (${bulk ? 'bulk' : 'window/page'} path): lock-enabled → UpsertLock as upstream`, async (t) => {
    const w = await makeWorld({ bulk, count: 0, days: 1 });
    t.after(() => w.close());
    let run = 0;
    for (const c of cases) {
      await t.test(c.name, async () => {
        loadEvents(w, c.failures);
        w.fake.locks.length = 0;
        w.fake.lockFailures = 'lockFailures' in c ? c.lockFailures : 0;
        const sentBefore = received(w).filter((r) => r.tag === 'test.log').length;
        const { log, lines } = capture();
        const before = Date.now();
        await runStart(config(w, { storage: join(w.dir, `storage-${run++}`), 'lock-enabled': 'true', 'lock-failed-attempts-count': '3', 'lock-period': '1h', ...c.flags }), { log, tuning: FAST });
        const after = Date.now();
        const dry = 'dry-run' in c.flags;
        // Forwarding is never held back by the locks.
        assert.equal(received(w).filter((r) => r.tag === 'test.log').length - sentBefore, dry ? 0 : w.fake.events.length);
        const accepted = w.fake.locks.slice('lockFailures' in c ? c.lockFailures : 0);
        assert.equal(accepted.length, c.locks);
        for (const lock of accepted) {
          const json = toJson(LockV2Schema, lock) as Record<string, Record<string, unknown>>;
          const expires = lock.Spec?.Expires;
          if (c.locks > 0 && 'expiresMs' in c && c.expiresMs !== undefined) {
            assert.ok(expires !== undefined, 'Spec.Expires set');
            const ms = timestampMs(expires);
            assert.ok(ms >= before + c.expiresMs && ms <= after + c.expiresMs, `Expires ${new Date(ms).toISOString()} = now + lock-for`);
            delete json['Spec']!['Expires'];
          } else {
            assert.equal(expires, undefined, 'no Spec.Expires');
          }
          assert.deepEqual(json, {
            Metadata: { Name: 'event-handler-auto-lock-alice-root' },
            Spec: {
              Target: { User: 'alice', Login: 'root' },
              Message: 'User is locked due to too many failed login attempts',
              CreatedAt: '0001-01-01T00:00:00Z',
            },
          });
        }
        if ('lockFailures' in c) {
          assert.equal(w.fake.locks.length, c.lockFailures + 1);
          assert.equal(lines().filter((l) => l['msg'] === 'Failed to lock user, retrying').length, c.lockFailures);
        }
        assert.equal(lines().filter((l) => l['msg'] === 'User login is locked').length, c.locks);
      });
    }
  });
}

test('FixedWindowBuckets: go-limiter memorystore semantics', () => {
  let now = 1_000_000;
  const b = new FixedWindowBuckets(2, 60_000, () => now);
  const takes = (key: string, n: number) => Array.from({ length: n }, () => b.take(key));
  assert.deepEqual(takes('root', 3), [true, true, false]);
  assert.deepEqual(takes('admin', 1), [true], 'keyed by login');
  now += 59_999;
  assert.deepEqual(takes('root', 1), [false], 'still the first interval');
  now += 1;
  assert.deepEqual(takes('root', 3), [true, true, false], 'whole bucket refilled at the boundary counted from the first take');
  now += 3 * 60_000 + 30_000;
  assert.deepEqual(takes('root', 3), [true, true, false]);
  assert.deepEqual(new FixedWindowBuckets(0, 0, () => now).take('x'), true, 'Tokens 0 → 1');
});
