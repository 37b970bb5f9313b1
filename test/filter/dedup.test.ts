// filter_dedup (src/filter/dedup.ts): a real receiver over plain HTTP on
// loopback writing to out_stdout, real journal files; the router's commit
// protocol with a real failing output; and the journal's bounds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';
import { cleanup, type Defer } from '../support/cleanup.ts';
import { DedupFilter } from '../../src/filter/dedup.ts';
import { loadReceiver } from '../../src/receiver.ts';
import { KeyJournal, JOURNAL_FILE } from '../../src/filter/dedup-journal.ts';
import { EventRouter } from '../../src/router/event-router.ts';
import { compilePatterns } from '../../src/router/pattern.ts';
import type { Event, Output } from '../../src/plugin-api.ts';
import { EventTime } from '../../src/time/event-time.ts';
import { ConfigElement } from '../../src/params/element.ts';
import { makeContext } from './helpers.ts';
import { makeCerts } from '../support/certs.ts';
import { allLines, MtlsClient, REPO_ROOT, S3Store, seedConf, tally, waitFor } from '../e2e/harness.ts';

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

test('a key stored in the buffer but missing from the journal (kill between append and journal line) is recovered at start', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer, 'ar-dedup-recover-');
  const state = join(dir, 'dedup');
  const text = `<source>
  @type http
  port 0
  bind 127.0.0.1
</source>
<filter test.log>
  @type dedup
  key uid
  path ${state}
</filter>
<match test.log>
  @type file
  path ${join(dir, 'out')}/events
  append true
  <format>
    @type json
  </format>
  <buffer>
    @type file
    path ${join(dir, 'buffer')}
    flush_at_shutdown false
  </buffer>
</match>
`;
  const first = await startTestReceiver(text, tempDir(defer, 'ar-dedup-recv-'));
  defer(() => first.receiver.close());
  assert.equal(await post(first, { uid: 'r-1' }), 200);
  await first.receiver.close();
  rmSync(join(state, JOURNAL_FILE)); // the line the kill prevented
  const second = await startTestReceiver(text, tempDir(defer, 'ar-dedup-recv-'));
  defer(() => second.receiver.close());
  assert.ok(second.log.entries().some((e) => e.msg === 'dedup remembered keys of buffered events missing from its journal' && e.keys === 1));
  assert.equal(await post(second, { uid: 'r-1' }), 200);
  assert.equal(await post(second, { uid: 'r-2' }), 200);
  await second.receiver.flushAll();
  const written = readdirSync(join(dir, 'out')).map((f) => readFileSync(join(dir, 'out', f), 'utf8')).join('');
  assert.deepEqual(written.trim().split('\n').map((l) => (JSON.parse(l) as { uid: string }).uid), ['r-1', 'r-2']);
});

test('fsync follows the file buffer after the filter unless set', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer, 'ar-dedup-fsync-');
  const fsyncOf = async (dedupExtra: string, bufferFsync: string): Promise<boolean> => {
    const confPath = join(dir, 'fluent.conf');
    writeFileSync(confPath, `<filter test.log>
  @type dedup
  key uid
  path ${join(dir, 'dedup')}
  ${dedupExtra}
</filter>
<match test.log>
  @type file
  path ${join(dir, 'out')}/events
  <format>
    @type json
  </format>
  <buffer>
    @type file
    path ${join(dir, 'buffer')}
    ${bufferFsync}
  </buffer>
</match>
`);
    const { agent } = await loadReceiver({ configPath: confPath, processLog: { log: pino({ level: 'silent' }), writeLine: () => {}, flush: () => {} } });
    return (agent.filters[0] as DedupFilter).fsync;
  };
  assert.equal(await fsyncOf('', ''), false);
  assert.equal(await fsyncOf('', 'fsync true'), true);
  assert.equal(await fsyncOf('fsync false', 'fsync true'), false);
  assert.equal(await fsyncOf('fsync true', ''), true);
});

/** `bin/auditrelay -c conf` as a child; resolves once it listens (port from its "listening http" line). */
async function startChild(confPath: string, defer: Defer): Promise<{ proc: ChildProcess; port: number; exited: Promise<unknown> }> {
  const proc = spawn(join(REPO_ROOT, 'bin/auditrelay'), ['-c', confPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  defer(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
  let output = '';
  proc.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      output += line + '\n';
      if (line.includes('"listening http"')) resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then((code) => reject(new Error(`auditrelay exited (${String(code)}) before listening:\n${output}`)));
  });
  return { proc, port, exited };
}

test('kill -9 three times under load, each uid posted until 200: every uid in S3 exactly once', async (t) => {
  const defer = cleanup(t);
  const certs = await makeCerts();
  defer(() => rm(certs.dir, { recursive: true, force: true }));
  const s3 = new S3Store();
  defer(() => s3.remove());
  await s3.start();
  const dir = tempDir(defer, 'ar-dedup-kill-');
  const bufferPath = join(dir, 'buffer');
  const statePath = join(dir, 'dedup');
  const confPath = join(dir, 'fluent.conf');
  const seed = seedConf({ certs, endpoint: s3.endpoint, bufferPath, timekey: 2, bufferExtra: 'flush_thread_interval 0.2\nflush_thread_burst_interval 0.1' });
  writeFileSync(confPath, seed.replace('<match test.log>', `<filter test.log>\n  @type dedup\n  key uid\n  path ${statePath}\n</filter>\n<match test.log>`));

  let child = await startChild(confPath, defer);
  let client = new MtlsClient(child.port, certs, 8);
  let generation = 0;
  let retried = 0;
  const retriedUids = new Set<string>();
  // Senders run until every kill and restart is behind them, so each kill lands under load.
  let done = false;
  const sent: string[] = [];
  const sender = async (s: number): Promise<void> => {
    for (let i = 0; !done; i++) {
      const uid = `s${s}-${i}`;
      sent.push(uid);
      for (;;) {
        const seen = generation;
        try {
          const a = await client.post('test.log', JSON.stringify({ event: 'user.login', code: 'T1000I', uid, user: 'alice' }));
          if (a.status === 200) break;
        } catch {
          // the receiver is gone: wait for the next one, post the same uid again
        }
        retried += 1;
        retriedUids.add(uid);
        while (generation === seen) await new Promise((r) => setTimeout(r, 10));
      }
    }
  };
  const senders = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(sender));
  const journaledAtKill: string[] = [];
  for (let kill = 0; kill < 3; kill++) {
    await new Promise((r) => setTimeout(r, 300 + Math.floor(Math.random() * 700)));
    child.proc.kill('SIGKILL');
    await child.exited;
    client.close();
    child = await startChild(confPath, defer);
    // Read after the restart: the keys recovered from the resumed buffer are journaled by then.
    journaledAtKill.push(...readFileSync(join(statePath, JOURNAL_FILE), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as string));
    client = new MtlsClient(child.port, certs, 8);
    generation += 1;
  }
  await new Promise((r) => setTimeout(r, 300));
  done = true;
  await senders;
  client.close();
  await waitFor('the buffer drained to S3', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 30_000, 100);
  const counts = tally(allLines(await s3.objects()).map((l) => (JSON.parse(l) as { uid: string }).uid));
  const journaled = new Set(journaledAtKill);
  const answerLost = [...retriedUids].filter((u) => journaled.has(u)).length;
  t.diagnostic(`uids ${sent.length}, posts retried after a kill ${retried} (${retriedUids.size} uids), ` +
    `of which stored before the kill but unanswered ${answerLost}, in S3 ${counts.size} uids`);
  assert.deepEqual(sent.filter((u) => !counts.has(u)), [], 'uids missing from S3');
  assert.deepEqual([...counts].filter(([, n]) => n > 1), [], 'uids in S3 more than once');
  assert.equal(counts.size, sent.length, 'S3 holds uids never sent');
  assert.ok(retriedUids.size > 0, 'no kill hit a request in flight: nothing was tested');
});
