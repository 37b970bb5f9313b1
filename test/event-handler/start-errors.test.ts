// start's refusals and recoveries: unknown TOML key (warning with the closest key), missing
// identity, expired cert, changed start time, --dry-run, a state dir in upstream's format,
// receiver down / 503, identity rotated with refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runStart } from '../../src/event-handler/start/start.ts';
import { loadStartConfig } from '../../src/event-handler/start/start-config.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { identityText, makeTeleportCerts } from './fake-teleport/fixtures.ts';
import { runCli } from './cli-helpers.ts';
import { config, FAST, makeWorld, quietLog, received } from './start-helpers.ts';

test('start: unknown TOML key → a warning naming the closest key; namespace → ignored with a warning', async (t) => {
  const w = await makeWorld({ bulk: false, count: 10, days: 1, extraToml: 'namespace = "default"\nbtach = 20\n' });
  t.after(() => w.close());
  appendFileSync(w.tomlPath, 'refresh.enabeld = true\n'); // under [teleport]
  const warnings: string[] = [];
  loadStartConfig({ configPath: w.tomlPath, env: {}, cwd: w.dir, onWarning: (m) => warnings.push(m) });
  assert.equal(warnings.length, 3);
  assert.match(warnings.find((m) => m.includes('"btach"'))!, /did you mean "batch"/);
  assert.match(warnings.find((m) => m.includes('namespace'))!, /ignored/);
  assert.match(warnings.find((m) => m.includes('enabeld'))!, /"teleport\.refresh\.enabeld".*did you mean "teleport-refresh-enabled"/);
  const cli = await runCli(['start', '-c', w.tomlPath, '--exit-on-last-event'], w.dir);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stderr, /did you mean \\"batch\\"/);
});

for (const c of [
  {
    name: 'identity without a TLS cert',
    write: (dir: string) => writeFileSync(join(dir, 'identity'), '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n'),
    code: 'AR_EXPORTER_IDENTITY',
  },
  {
    name: 'expired client certificate',
    write: async (dir: string) => {
      const old = await makeTeleportCerts({ notBefore: new Date(Date.now() - 3 * 86_400_000), ttlMs: 86_400_000 });
      writeFileSync(join(dir, 'identity'), identityText(old.clientKeyPem, old.clientCertPem, [old.caPem]));
    },
    code: 'AR_EXPORTER_CREDENTIALS_EXPIRED',
    message: /No valid credentials found, this likely means credentials are expired/,
  },
]) {
  test(`start: ${c.name} → ${c.code}, nothing dialed`, async (t) => {
    const w = await makeWorld({ bulk: false, count: 5, days: 1 });
    t.after(() => w.close());
    await c.write(w.dir);
    await assert.rejects(runStart(config(w), { log: quietLog(), tuning: FAST }), { code: c.code, message: c.message ?? /./ });
    assert.equal(w.fake.calls.length, 0);
  });
}

test('start: identity file that does not exist → AR_EXPORTER_CONFIG naming it', async (t) => {
  const w = await makeWorld({ bulk: false, count: 5, days: 1 });
  t.after(() => w.close());
  assert.throws(() => config(w, { 'teleport-identity': join(w.dir, 'nope') }), { code: 'AR_EXPORTER_CONFIG', message: /nope.*not found/ });
});

test('start: a changed --start-time is refused with upstream message; --dry-run sends nothing', async (t) => {
  const w = await makeWorld({ bulk: false, count: 40, days: 1 });
  t.after(() => w.close());
  const dry = await runStart(config(w, { 'dry-run': 'true' }), { log: quietLog(), tuning: FAST });
  assert.match(dry.stateDir, /dry_run\/[0-9a-f]{32}$/);
  assert.equal(received(w).length, 0);
  await runStart(config(w), { log: quietLog(), tuning: FAST });
  await assert.rejects(runStart(config(w, { 'start-time': '2020-01-01T00:00:00Z' }), { log: quietLog(), tuning: FAST }), {
    code: 'AR_EXPORTER_START_TIME_CHANGED',
    message: /^You can not change start time in the middle of ingestion\. To restart the ingestion, rm -rf /,
  });
});

test('start: resumes from a state dir in upstream format (window_time, cursor, id, session<sid> big-endian)', async (t) => {
  const w = await makeWorld({ bulk: false, count: 100, days: 1, perSession: 12, sessions: 1 });
  t.after(() => w.close());
  const stateDir = join(w.dir, 'storage', `127.0.0.1_${w.fake.port}`);
  mkdirSync(stateDir, { recursive: true });
  const start = new Date(w.gen.startMs).toISOString().replace('.000Z', 'Z');
  // As the Go handler leaves it: events 0..59 sent; page 2 of 50 (start_key "50") up to event 59.
  writeFileSync(join(stateDir, 'start_time'), start);
  writeFileSync(join(stateDir, 'window_time'), start);
  writeFileSync(join(stateDir, 'cursor'), '50');
  writeFileSync(join(stateDir, 'id'), w.fake.events[59].id);
  const sid = w.gen.sessionIds[0];
  const idx = Buffer.alloc(8);
  idx.writeBigUInt64BE(7n);
  writeFileSync(join(stateDir, `session${sid}`), idx);
  await runStart(config(w, { 'fluentd-max-in-flight': '1' }), { log: quietLog(), tuning: FAST });
  await new Promise((r) => setTimeout(r, 100));
  const audit = received(w).filter((r) => r.tag === 'test.log').map((r) => JSON.stringify(r.body));
  assert.deepEqual(audit, w.fake.events.slice(60).map((e) => eventBody(e.json)));
  // The recording resumed at index 7 (sent again, as upstream does) — not from 0.
  const rec = received(w).filter((r) => r.tag === `session.${sid}.log`).map((r) => r.body.ei as number);
  assert.equal(Math.min(...rec), 7);
  assert.ok(!existsSync(join(stateDir, `session${sid}`)));
});

test('start: receiver down, then answering 503 + Retry-After → backoff, nothing skipped, resumes', async (t) => {
  const w = await makeWorld({ bulk: false, count: 30, days: 1, sessions: 0 });
  t.after(() => w.close());
  const port = w.recv.port;
  const conf = readFileSync(w.recv.confPath, 'utf8');
  await w.recv.receiver.close();
  // Point the exporter at a port where nobody listens for a while.
  const stop = new AbortController();
  const cfg = config(w);
  const run = runStart(cfg, { log: quietLog(), tuning: FAST, signal: stop.signal });
  await new Promise((r) => setTimeout(r, 400));
  // Receiver back on the same port.
  const { startTestReceiver } = await import('../support/receiver.ts');
  const back = await startTestReceiver(conf.replace('port 0', `port ${port}`));
  t.after(() => back.receiver.close());
  await run;
  await new Promise((r) => setTimeout(r, 100));
  const got = back.log.rawLines().filter((l) => l.includes(' test.log: ')).length;
  assert.equal(got, 30);
  void readdirSync;
});

test('start: identity file rotated on disk with refresh enabled → later calls use the new cert', async (t) => {
  const w = await makeWorld({ bulk: false, count: 20, days: 1, sessions: 0 });
  t.after(() => w.close());
  const stop = new AbortController();
  const cfg = config(w, { 'exit-on-last-event': 'false', 'teleport-refresh-enabled': 'true', 'teleport-refresh-interval': '100ms' });
  const run = runStart(cfg, { log: quietLog(), tuning: FAST, signal: stop.signal });
  await w.recv.log.waitFor(() => received(w).length >= 20, 5000);
  const before = new Set(w.fake.clientCerts);
  writeFileSync(w.identity, identityText(w.tcerts.rotatedKeyPem, w.tcerts.rotatedCertPem, [w.tcerts.caPem]));
  const deadline = Date.now() + 5000;
  while (!w.fake.clientCerts.some((c) => !before.has(c)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  await run;
  assert.ok(w.fake.clientCerts.some((c) => !before.has(c)), 'a call made with the rotated cert');
  assert.equal(received(w).filter((r) => r.tag === 'test.log').length, 20);
});
