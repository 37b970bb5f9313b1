// filter_dedup (src/filter/dedup.ts): a real receiver over plain HTTP on
// loopback writing to out_stdout, real journal files; the router's commit
// protocol with a real failing output; and the journal's bounds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';
import { cleanup, type Defer } from '../support/cleanup.ts';
import { DedupFilter } from '../../src/filter/dedup.ts';
import { KeyJournal, JOURNAL_FILE } from '../../src/filter/dedup-journal.ts';
import { EventRouter } from '../../src/router/event-router.ts';
import { compilePatterns } from '../../src/router/pattern.ts';
import type { Event, Output } from '../../src/plugin-api.ts';
import { EventTime } from '../../src/time/event-time.ts';
import { ConfigElement } from '../../src/params/element.ts';
import { makeContext } from './helpers.ts';

function conf(stateDir: string, extra = ''): string {
  return `<source>
  @type http
  port 0
  bind 127.0.0.1
</source>
<filter test.log>
  @type dedup
  key uid
  path ${stateDir}
  ${extra}
</filter>
<match test.log>
  @type stdout
  <format>
    @type json
  </format>
</match>
`;
}

function tempDir(defer: Defer, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function start(defer: Defer, stateDir: string, extra = ''): Promise<TestReceiver> {
  const r = await startTestReceiver(conf(stateDir, extra), tempDir(defer, 'ar-dedup-recv-'));
  defer(() => r.receiver.close());
  return r;
}

async function post(r: TestReceiver, record: Record<string, unknown>): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${r.port}/test.log`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(record),
  });
  await res.text();
  return res.status;
}

/** out_stdout's JSON event lines carrying `uid`. */
function uidsOut(r: TestReceiver): string[] {
  const out: string[] = [];
  for (const l of r.log.rawLines()) {
    const m = /"uid":"([^"]+)"/.exec(l);
    if (m) out.push(m[1]);
  }
  return out;
}

test('the same uid twice: one record out, both answered 200; a new uid passes', async (t) => {
  const defer = cleanup(t);
  const state = tempDir(defer, 'ar-dedup-state-');
  const r = await start(defer, state);
  assert.equal(await post(r, { uid: 'u-1', event: 'user.login' }), 200);
  assert.equal(await post(r, { uid: 'u-1', event: 'user.login' }), 200);
  assert.equal(await post(r, { uid: 'u-2', event: 'user.login' }), 200);
  assert.equal(await post(r, { event: 'no.uid' }), 200);
  assert.deepEqual(uidsOut(r), ['u-1', 'u-2']);
  assert.equal(r.log.rawLines().filter((l) => l.includes('no.uid')).length, 1, 'an event without the key passes');
  const journal = readFileSync(join(state, JOURNAL_FILE), 'utf8').trim().split('\n');
  assert.deepEqual(journal.map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as string), ['u-1', 'u-2']);
});

test('concurrent repeats of one uid: exactly one record out, all 200', async (t) => {
  const defer = cleanup(t);
  const r = await start(defer, tempDir(defer, 'ar-dedup-state-'));
  const statuses = await Promise.all(Array.from({ length: 20 }, () => post(r, { uid: 'same' })));
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.deepEqual(uidsOut(r), ['same']);
});

test('a restart on the same path still deduplicates; key sid,ei combines fields', async (t) => {
  const defer = cleanup(t);
  const state = tempDir(defer, 'ar-dedup-state-');
  const extra = 'key sid,ei';
  const first = await start(defer, state, extra);
  assert.equal(await post(first, { sid: 's1', ei: 1, uid: 'a' }), 200);
  assert.equal(await post(first, { sid: 's1', ei: 2, uid: 'b' }), 200);
  assert.deepEqual(uidsOut(first), ['a', 'b']);
  await first.receiver.close();
  const second = await start(defer, state, extra);
  assert.equal(await post(second, { sid: 's1', ei: 1, uid: 'a-again' }), 200);
  assert.equal(await post(second, { sid: 's1', ei: 3, uid: 'c' }), 200);
  assert.deepEqual(uidsOut(second), ['c']);
  assert.ok(second.log.entries().some((e) => e.msg === 'dedup journal replayed' && e.keys === 2));
});

test('window expiry: the key is accepted again, also after a restart', async (t) => {
  const defer = cleanup(t);
  const state = tempDir(defer, 'ar-dedup-state-');
  const r = await start(defer, state, 'window 0.4');
  assert.equal(await post(r, { uid: 'w' }), 200);
  assert.equal(await post(r, { uid: 'w' }), 200);
  assert.deepEqual(uidsOut(r), ['w']);
  await new Promise((res) => setTimeout(res, 500));
  assert.equal(await post(r, { uid: 'w' }), 200);
  assert.deepEqual(uidsOut(r), ['w', 'w']);
  await r.receiver.close();
  await new Promise((res) => setTimeout(res, 500));
  const again = await start(defer, state, 'window 0.4');
  assert.ok(again.log.entries().some((e) => e.msg === 'dedup journal replayed' && e.keys === 0 && e.expired === 2));
  assert.equal(await post(again, { uid: 'w' }), 200);
  assert.deepEqual(uidsOut(again), ['w']);
});

test('a failed output emit leaves no key behind: the retry is accepted', async (t) => {
  const defer = cleanup(t);
  const state = tempDir(defer, 'ar-dedup-state-');
  const el = new ConfigElement('filter', 'test.log', { file: 'fluent.conf', line: 1 });
  for (const [key, value] of [['key', 'uid'], ['path', state]]) el.params.set(key, { key, value, pos: { file: 'fluent.conf', line: 2 } });
  const { ctx } = makeContext();
  const filter = new DedupFilter(el, ctx);
  await filter.start();
  defer(() => filter.stop());
  let failNext = true;
  const stored: string[] = [];
  const output: Output = {
    emit: async (_tag, events) => {
      await new Promise((res) => setTimeout(res, 20));
      if (failNext) {
        failNext = false;
        throw new Error('buffer refused');
      }
      for (const e of events) stored.push(String((e.record as { uid: string }).uid));
    },
  };
  const router = new EventRouter([
    { kind: 'filter', matcher: compilePatterns('test.log', { file: 'x', line: 1 }), filter },
    { kind: 'match', matcher: compilePatterns('test.log', { file: 'x', line: 1 }), output },
  ], pino({ level: 'silent' }));
  const ev = (uid: string): Event[] => [{ time: new EventTime(1, 0), record: { uid } }];
  // The repeat arrives while the first emit is in flight: it waits, and is accepted when that one fails.
  const first = Promise.resolve(router.emit('test.log', ev('x')));
  const repeat = Promise.resolve(router.emit('test.log', ev('x')));
  await assert.rejects(first, /buffer refused/);
  await repeat;
  await router.emit('test.log', ev('x'));
  assert.deepEqual(stored, ['x']);
  assert.deepEqual(filter.counters(), { accepted: 1, dropped: 1, unkeyed: 0 });
});

test('journal bounds: max_keys evicts the oldest, compaction keeps the file near the live keys, a torn line is dropped', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer, 'ar-dedup-journal-');
  const j = new KeyJournal({ dir, windowMs: 3_600_000, maxKeys: 1000, fsync: false });
  j.open(Date.now());
  for (let i = 0; i < 5000; i++) await j.record([`k${i}`], Date.now());
  assert.equal(j.size, 1000);
  assert.ok(!j.has('k3999', Date.now()) && j.has('k4000', Date.now()) && j.has('k4999', Date.now()));
  const lines = readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n').length - 1;
  assert.ok(lines <= 2 * 1024 + 1, `journal has ${lines} lines for 1000 live keys`);
  await j.close();
  writeFileSync(join(dir, JOURNAL_FILE), `${readFileSync(join(dir, JOURNAL_FILE), 'utf8')}${Date.now()} "torn`);
  const again = new KeyJournal({ dir, windowMs: 3_600_000, maxKeys: 1000, fsync: false });
  const r = again.open(Date.now());
  assert.deepEqual(r, { live: 1000, expired: 0, torn: 1 });
  assert.ok(again.has('k4999', Date.now()) && !again.has('k0', Date.now()));
  assert.equal(readFileSync(join(dir, JOURNAL_FILE), 'utf8').split('\n').length - 1, 1000);
  await again.close();
});

test('config mistakes are one line each', async (t) => {
  const defer = cleanup(t);
  const state = tempDir(defer, 'ar-dedup-state-');
  const make = (params: Record<string, string>): DedupFilter => {
    const el = new ConfigElement('filter', 'test.log', { file: 'fluent.conf', line: 1 });
    for (const [key, value] of Object.entries(params)) el.params.set(key, { key, value, pos: { file: 'fluent.conf', line: 2 } });
    return new DedupFilter(el, makeContext().ctx);
  };
  assert.throws(() => make({ key: 'uid' }), /path/);
  assert.throws(() => make({ path: state }), /key/);
  assert.throws(() => make({ key: 'uid', path: state, window: '0' }), /window.*positive/);
});

test('fsync journal: concurrent records share datasyncs and all resolve; the file holds every key', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer, 'ar-dedup-journal-');
  const j = new KeyJournal({ dir, windowMs: 3_600_000, maxKeys: 10_000, fsync: true });
  j.open(Date.now());
  defer(() => j.close());
  const started = Date.now();
  await Promise.all(Array.from({ length: 200 }, (_, i) => j.record([`f${i}`], Date.now())));
  t.diagnostic(`200 concurrent fsync records in ${Date.now() - started} ms`);
  const keys = readFileSync(join(dir, JOURNAL_FILE), 'utf8').trim().split('\n');
  assert.equal(keys.length, 200);
});
