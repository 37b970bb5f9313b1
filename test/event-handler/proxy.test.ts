// start through a Proxy Service in TLS-routing mode (docs/compatibility-event-handler.md §4.6): a
// fake proxy that routes by the ClientHello's ALPN without terminating TLS (fake-teleport/proxy.ts)
// in front of the fake Auth Service; the direct route and the TLS-routing route raced.
import { test } from 'node:test';
import pkg from '../../package.json' with { type: 'json' };
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { runStart } from '../../src/event-handler/start/start.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { loadIdentityFile } from '../../src/event-handler/teleport/identity.ts';
import { clusterNameOf, encodeClusterName, selectRoute } from '../../src/event-handler/teleport/routes.ts';
import { cleanup } from '../support/cleanup.ts';
import { FakeProxy, parseClientHello } from './fake-teleport/proxy.ts';
import { FakeUpgradeLb } from './fake-teleport/upgrade-lb.ts';
import { BIN } from './cli-helpers.ts';
import { byChunk, config, FAST, FAST_ENV, makeWorld, received } from './start-helpers.ts';
import type { World } from './start-helpers.ts';

function capture(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (out.push(c.toString()), cb()) });
  return { log: pino({ level: 'info' }, sink) as Logger, lines: () => out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function proxyFor(w: World, cluster: string): Promise<FakeProxy> {
  const proxy = new FakeProxy({
    cluster,
    authPort: w.fake.port,
    webCertPem: readFileSync(w.fcerts.serverCert, 'utf8'),
    webKeyPem: readFileSync(w.fcerts.serverKey, 'utf8'),
    webKeyPassphrase: w.fcerts.passphrase,
  });
  await proxy.start();
  return proxy;
}

test('EncodeClusterName is hex + ".teleport.cluster.local"; the cluster is the identity cert\'s Issuer CN', async (t) => {
  assert.equal(encodeClusterName('test.example.com'), '746573742e6578616d706c652e636f6d.teleport.cluster.local');
  const w = await makeWorld({ bulk: true, count: 1, days: 1, sessions: 0 });
  cleanup(t)(() => w.close());
  // The test CA's subject is CN=CA (src/pki/mtls.ts), so the identity's cluster reads as "CA".
  assert.equal(clusterNameOf(await loadIdentityFile(w.identity)), 'CA');
  assert.equal(parseClientHello(Buffer.from([23, 3, 3, 0, 1, 0])) instanceof Error, true);
});

for (const bulk of [true, false]) {
  test(`start --teleport-addr <proxy>: ${bulk ? 'bulk' : 'window/page'} path through TLS routing, every audit and session event in order`, async (t) => {
    const defer = cleanup(t);
    const w = await makeWorld({ bulk, count: 600, days: 2, perSession: 15, sessions: 3, chunkSize: 100 });
    defer(() => w.close());
    const proxy = await proxyFor(w, 'CA');
    defer(() => proxy.close());
    const cap = capture();
    const cfg = config(w, { 'teleport-addr': `127.0.0.1:${proxy.port}`, 'window-size': '24h' });
    const t0 = Date.now();
    // A route that never connects makes start retry forever: the timeout turns that into a failure.
    const result = await runStart(cfg, { log: cap.log, tuning: FAST, signal: AbortSignal.timeout(30_000) });
    const ms = Date.now() - t0;
    assert.equal(result.path, bulk ? 'bulk' : 'legacy');

    const expectedAudit = w.fake.events.map((e) => eventBody(e.json));
    const expectedSessions = [...w.fake.sessions].map(([sid, evs]) => [sid, evs.filter((e) => e.type !== 'print').map((e) => eventBody(e.json))] as const);
    const total = expectedAudit.length + expectedSessions.reduce((n, [, l]) => n + l.length, 0);
    await w.recv.log.waitFor(() => received(w).length >= total, 5000).catch(() => {});
    const got = received(w);
    // Bulk: chunks are read 3 at once, each in its stream order.
    const gotAudit = got.filter((r) => r.tag === 'test.log').map((r) => JSON.stringify(r.body));
    if (bulk) assert.deepEqual(byChunk(w.fake, 100, gotAudit), byChunk(w.fake, 100, expectedAudit));
    else assert.deepEqual(gotAudit, expectedAudit);
    for (const [sid, bodies] of expectedSessions) {
      assert.deepEqual(got.filter((r) => r.tag === `session.${sid}.log`).map((r) => JSON.stringify(r.body)), bodies, `session ${sid}`);
    }

    // The route the log names, and what the proxy saw: the TLS-routing hello forwarded to Auth,
    // the direct route's hello terminated by the proxy's web certificate (which the identity's
    // CAs do not trust).
    const connected = cap.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('Connected to Teleport'));
    assert.equal(connected?.route, 'tls-routing');
    assert.equal(connected?.cluster, 'CA');
    const toAuth = proxy.routed.filter((r) => r.to === 'auth');
    assert.ok(toAuth.length >= 2, 'the probe and the gRPC channel both went through the proxy to Auth');
    for (const r of toAuth) {
      assert.deepEqual(r.alpn, [`teleport-auth@${Buffer.from('CA').toString('hex')}.teleport.cluster.local`, 'h2']);
      assert.equal(r.sni, 'teleport.cluster.local');
    }
    // (The upgrade route's probe, cancelled once TLS routing won, may also have reached the web listener.)
    const web = proxy.routed.filter((r) => r.to === 'web').map((r) => r.alpn.join(','));
    assert.ok(web.includes('h2') && web.every((a) => a === 'h2' || a === 'http/1.1'), web.join(' '));
    // Auth saw the identity's client certificate on every call (the TLS ended there).
    assert.ok(w.fake.calls.length > 3);
    assert.equal(new Set(w.fake.clientCerts).size, 1);
    console.log(`# proxy ${bulk ? 'bulk' : 'legacy'}: ${expectedAudit.length} audit + ${total - expectedAudit.length} session events through TLS routing in ${ms} ms`);
  });
}

test('start --teleport-addr <load balancer>: only the WebSocket connection upgrade gets through; every event delivered in order', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 400, days: 2, perSession: 15, sessions: 2, chunkSize: 100 });
  defer(() => w.close());
  const proxy = await proxyFor(w, 'CA');
  defer(() => proxy.close());
  const lb = new FakeUpgradeLb({ certPem: readFileSync(w.fcerts.serverCert, 'utf8'), keyPem: readFileSync(w.fcerts.serverKey, 'utf8'), passphrase: w.fcerts.passphrase, proxyPort: proxy.port });
  await lb.start();
  defer(() => lb.close());
  const cap = capture();
  const cfg = config(w, { 'teleport-addr': `127.0.0.1:${lb.port}` });
  const t0 = Date.now();
  const tuning = { ...FAST, proxyWebCaPems: [readFileSync(w.fcerts.ca, 'utf8')] };
  const result = await runStart(cfg, { log: cap.log, tuning, signal: AbortSignal.timeout(30_000) });
  const ms = Date.now() - t0;
  assert.equal(result.path, 'bulk');
  const expectedAudit = w.fake.events.map((e) => eventBody(e.json));
  const expectedSessions = [...w.fake.sessions].map(([sid, evs]) => [sid, evs.filter((e) => e.type !== 'print').map((e) => eventBody(e.json))] as const);
  const total = expectedAudit.length + expectedSessions.reduce((n, [, l]) => n + l.length, 0);
  await w.recv.log.waitFor(() => received(w).length >= total, 5000).catch(() => {});
  const got = received(w);
  assert.deepEqual(byChunk(w.fake, 100, got.filter((r) => r.tag === 'test.log').map((r) => JSON.stringify(r.body))), byChunk(w.fake, 100, expectedAudit));
  for (const [sid, bodies] of expectedSessions) {
    assert.deepEqual(got.filter((r) => r.tag === `session.${sid}.log`).map((r) => JSON.stringify(r.body)), bodies, `session ${sid}`);
  }
  const connected = cap.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('Connected to Teleport'));
  assert.equal(connected?.route, 'tls-routing-upgrade');
  assert.ok(lb.upgrades.length >= 2, 'the probe and the gRPC channel were both upgraded');
  assert.ok(lb.upgrades.every((u) => u.protocol === 'alpn-ping'));
  for (const u of lb.upgrades) assert.equal(u.userAgent, `auditrelay-event-handler/${pkg.version}`, 'the upgrade request names us');
  assert.ok(lb.pongs >= 1, 'the ping was answered');
  // The direct and TLS-routing hellos end at the LB (its cert is not the cluster's); inside the
  // upgrade the proxy saw the teleport-auth@ hello and forwarded it to Auth.
  const toAuth = proxy.routed.filter((r) => r.to === 'auth');
  assert.ok(toAuth.length >= 2);
  for (const r of toAuth) assert.equal(r.alpn[0], `teleport-auth@${Buffer.from('CA').toString('hex')}.teleport.cluster.local`);
  console.log(`# upgrade: ${expectedAudit.length} audit + ${total - expectedAudit.length} session events through the connection upgrade in ${ms} ms`);
});

test('a proxy that does not route the identity\'s cluster: one error naming each route\'s failure; start keeps retrying until stopped', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 5, days: 1, sessions: 0 });
  defer(() => w.close());
  const proxy = await proxyFor(w, 'other.example.com');
  defer(() => proxy.close());
  const addr = `127.0.0.1:${proxy.port}`;
  const creds = await loadIdentityFile(w.identity);
  const err = await selectRoute({ addr }, creds, 5000).then(
    () => assert.fail('connected'),
    (e: unknown) => e as Error & { code: string },
  );
  assert.equal(err.code, 'AR_EXPORTER_TELEPORT');
  console.log(`# ${err.message}`);
  assert.match(err.message, new RegExp(`^all connection methods failed for ${addr}: direct auth \\(as an auth server at ${addr}\\): .+; TLS routing \\(through the Proxy at ${addr} with TLS routing to cluster CA\\): .+; TLS routing with connection upgrade \\(through the Proxy at ${addr} behind a load balancer \\(WebSocket connection upgrade\\) with TLS routing to cluster CA\\): TLS to the load balancer failed: .+$`));
  assert.deepEqual(proxy.routed.map((r) => r.to).sort(), ['refused', 'web', 'web']);

  const cap = capture();
  const stop = new AbortController();
  const run = runStart(config(w, { 'teleport-addr': addr }), { log: cap.log, tuning: { ...FAST, connectRetryMs: 50 }, signal: stop.signal });
  const deadline = Date.now() + 10_000;
  while (cap.lines().filter((l) => String(l.msg).startsWith('Cannot connect to Teleport')).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  stop.abort();
  const result = await run;
  assert.equal(result.auditEvents, 0);
  const failures = cap.lines().filter((l) => String(l.msg).startsWith('Cannot connect to Teleport'));
  assert.ok(failures.length >= 2, 'retried');
  assert.match(String(failures[0].msg), /all connection methods failed for .*direct auth .*; TLS routing .*cluster CA/);
  assert.equal(w.fake.calls.length, 0);
});

test('straight to the Auth Service both routes connect; direct is preferred and used', async (t) => {
  const w = await makeWorld({ bulk: true, count: 5, days: 1, sessions: 0 });
  cleanup(t)(() => w.close());
  const route = await selectRoute({ addr: `127.0.0.1:${w.fake.port}` }, await loadIdentityFile(w.identity), 5000);
  assert.equal(route.name, 'direct');
});

/** The real CLI process; resolves with its exit code and everything it logged. */
function runExporter(w: World, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  const child = spawn(BIN, ['start', '-c', w.tomlPath, '--exit-on-last-event', ...args], { cwd: w.dir, env: { ...process.env, ...FAST_ENV, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => child.on('close', (code) => (clearTimeout(timer), resolve({ code, output }))));
}

test('the CLI: start --teleport-addr <proxy> (TLS routing), then <load balancer> with NODE_EXTRA_CA_CERTS (upgrade): exit 0, every audit event in order, the route logged', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 300, days: 1, sessions: 0 });
  defer(() => w.close());
  const proxy = await proxyFor(w, 'CA');
  defer(() => proxy.close());
  const lb = new FakeUpgradeLb({ certPem: readFileSync(w.fcerts.serverCert, 'utf8'), keyPem: readFileSync(w.fcerts.serverKey, 'utf8'), passphrase: w.fcerts.passphrase, proxyPort: proxy.port });
  await lb.start();
  defer(() => lb.close());
  const expected = w.fake.events.map((e) => eventBody(e.json));

  const viaProxy = await runExporter(w, ['--teleport-addr', `127.0.0.1:${proxy.port}`], {});
  assert.equal(viaProxy.code, 0, viaProxy.output);
  assert.match(viaProxy.output, /Connected to Teleport through the Proxy Service with TLS routing to cluster CA/);
  await w.recv.log.waitFor(() => received(w).length >= expected.length, 5000).catch(() => {});
  assert.deepEqual(byChunk(w.fake, 100, received(w).map((r) => JSON.stringify(r.body))), byChunk(w.fake, 100, expected));

  // Same events again from a fresh state dir, through the load balancer this time.
  const viaLb = await runExporter(w, ['--teleport-addr', `127.0.0.1:${lb.port}`], { NODE_EXTRA_CA_CERTS: w.fcerts.ca });
  assert.equal(viaLb.code, 0, viaLb.output);
  assert.match(viaLb.output, /Connected to Teleport through the Proxy Service behind a load balancer \(connection upgrade\) with TLS routing to cluster CA/);
  await w.recv.log.waitFor(() => received(w).length >= 2 * expected.length, 5000).catch(() => {});
  assert.deepEqual(byChunk(w.fake, 100, received(w).slice(expected.length).map((r) => JSON.stringify(r.body))), byChunk(w.fake, 100, expected));
  assert.ok(lb.upgrades.length >= 2);
});
