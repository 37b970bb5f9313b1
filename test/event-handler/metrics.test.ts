// `--metrics-addr` (issue 15 §5): Prometheus text on /metrics while a start runs against the fake
// Teleport. Phase 1 exports the backlog; phase 2 adds newer events to the fake, and the scrape
// shows the counters, the cursor time and the lag move. The setting resolves as a flag,
// `metrics-addr` / `metrics_addr` in the TOML and $FDFWD_METRICS_ADDR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runStart } from '../../src/event-handler/start/start.ts';
import { loadStartConfig } from '../../src/event-handler/start/start-config.ts';
import { cleanup } from '../support/cleanup.ts';
import { captureLog, config, FAST, makeWorld } from './start-helpers.ts';

type Scrape = Map<string, number>;

async function scrape(addr: string): Promise<Scrape> {
  const res = await fetch(`http://${addr}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const out: Scrape = new Map();
  for (const line of (await res.text()).split('\n')) {
    const m = /^(auditrelay_exporter_\w+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m !== null) out.set(m[1], Number(m[2]));
  }
  return out;
}

/** Scrapes until `done` holds (bounded: the run is local, this only waits for it). */
async function scrapeUntil(addr: string, done: (s: Scrape) => boolean): Promise<Scrape> {
  let s = await scrape(addr);
  for (let i = 0; i < 600 && !done(s); i++) {
    await sleep(50);
    s = await scrape(addr);
  }
  return s;
}

const AUDIT_SENT = 'auditrelay_exporter_events_sent_total{kind="audit"}';

test('a scrape during start: fetched/sent counters, cursor time, lag and open session streams move', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: false, count: 200, days: 1, perSession: 10, sessions: 2 });
  defer(() => w.close());
  const cap = captureLog();
  const stop = new AbortController();
  const cfg = config(w, { 'metrics-addr': '127.0.0.1:0', 'exit-on-last-event': 'false' });
  const running = runStart(cfg, { log: cap.log, tuning: FAST, signal: stop.signal });
  defer(async () => {
    stop.abort();
    await running.catch(() => {});
  });
  let addr: string | undefined;
  for (let i = 0; i < 200 && addr === undefined; i++) {
    addr = cap.lines.find((l) => String(l.msg).startsWith('Serving exporter metrics'))?.addr as string | undefined;
    if (addr === undefined) await sleep(10);
  }
  assert.ok(addr !== undefined, 'the listener logged its address');
  const sessionEvents = [...w.fake.sessions.values()].reduce((n, l) => n + l.filter((e) => e.type !== 'print').length, 0);

  const one = await scrapeUntil(addr, (s) => s.get(AUDIT_SENT) === 200 && s.get('auditrelay_exporter_events_sent_total{kind="session"}') === sessionEvents && s.get('auditrelay_exporter_session_streams_open') === 0);
  assert.equal(one.get(AUDIT_SENT), 200);
  assert.equal(one.get('auditrelay_exporter_events_fetched_total{kind="audit"}'), 200);
  assert.equal(one.get('auditrelay_exporter_events_sent_total{kind="session"}'), sessionEvents);
  assert.ok(one.get('auditrelay_exporter_events_fetched_total{kind="session"}')! >= sessionEvents);
  assert.equal(one.get('auditrelay_exporter_send_failures_total'), 0);
  assert.equal(one.get('auditrelay_exporter_session_streams_open'), 0);
  assert.equal(one.get('auditrelay_exporter_sessions_given_up_total'), 0);
  const lastMs = w.fake.events.at(-1)!.timeMs;
  assert.equal(one.get('auditrelay_exporter_cursor_timestamp_seconds'), lastMs / 1000);
  assert.ok(one.get('auditrelay_exporter_lag_seconds')! >= 3500, `the backlog ends an hour ago (lag ${one.get('auditrelay_exporter_lag_seconds')})`);

  // Phase 2: 30 newer events (a minute old) arrive at the fake.
  const base = Date.now() - 60_000;
  for (let i = 0; i < 30; i++) {
    const timeMs = base + i;
    const uid = randomUUID();
    w.fake.events.push({ type: 'exec', id: uid, timeMs, index: 200 + i, json: { event: 'exec', n: 200 + i, time: new Date(timeMs).toISOString(), uid } as never });
  }
  const two = await scrapeUntil(addr, (s) => s.get(AUDIT_SENT) === 230);
  assert.equal(two.get(AUDIT_SENT), 230);
  assert.equal(two.get('auditrelay_exporter_events_fetched_total{kind="audit"}'), 230);
  assert.equal(two.get('auditrelay_exporter_cursor_timestamp_seconds'), (base + 29) / 1000);
  assert.ok(two.get('auditrelay_exporter_lag_seconds')! < one.get('auditrelay_exporter_lag_seconds')!, 'the lag shrank');
  assert.ok(two.get('auditrelay_exporter_lag_seconds')! >= 59);
  const notFound = await fetch(`http://${addr}/other`);
  assert.equal(notFound.status, 404);
  await notFound.text();
});

test('metrics-addr: flag, TOML metrics-addr / metrics_addr (no unknown-key warning), $FDFWD_METRICS_ADDR; a bad value is refused', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: false, count: 1, days: 1 });
  defer(() => w.close());
  const load = (o: { flags?: Record<string, string>; env?: Record<string, string> }) => {
    const warnings: string[] = [];
    const cfg = loadStartConfig({ configPath: w.tomlPath, flags: o.flags, env: o.env ?? {}, cwd: w.dir, onWarning: (m) => warnings.push(m) });
    return { cfg, warnings };
  };
  assert.equal(load({}).cfg.metricsAddr, undefined, 'off by default');
  assert.equal(load({ env: { FDFWD_METRICS_ADDR: ':9464' } }).cfg.metricsAddr, ':9464');
  assert.equal(load({ flags: { 'metrics-addr': '127.0.0.1:9500' }, env: { FDFWD_METRICS_ADDR: ':9464' } }).cfg.metricsAddr, '127.0.0.1:9500');
  const original = readFileSync(w.tomlPath, 'utf8');
  for (const key of ['metrics_addr', 'metrics-addr']) {
    writeFileSync(w.tomlPath, `${key} = "0.0.0.0:9464"\n${original}`);
    const r = load({ env: { FDFWD_METRICS_ADDR: ':1' } });
    assert.equal(r.cfg.metricsAddr, '0.0.0.0:9464', key);
    assert.deepEqual(r.warnings, [], key);
  }
  writeFileSync(w.tomlPath, original);
  assert.throws(() => load({ flags: { 'metrics-addr': 'localhost' } }), { code: 'AR_EXPORTER_CONFIG', message: /metrics-addr "localhost" is not host:port/ });
});
