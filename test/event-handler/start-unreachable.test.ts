// A start against a Teleport it cannot reach says what it tried and why each attempt failed
// (issue 14 §4): no route connects at start (every route named with its socket error), Teleport
// gone after the route race (the watch loop names the RPC, the route and the cause, never grpc-js's
// empty "Resolution note:", and what each route gives now), an unresolvable host through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { runStart } from '../../src/event-handler/start/start.ts';
import { cleanup } from '../support/cleanup.ts';
import { BIN } from './cli-helpers.ts';
import { captureLog, config, FAST, makeWorld } from './start-helpers.ts';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

const ROUTES = [/direct auth \(as an auth server at /, /TLS routing \(through the Proxy at /, /TLS routing with connection upgrade \(/];

test('no route connects at start: one line names each route and its socket error with a hint, and it retries', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 5, days: 1 });
  defer(() => w.close());
  const port = await closedPort();
  const stop = new AbortController();
  const cap = captureLog((l) => String(l.msg).startsWith('Cannot connect to Teleport') && cap.lines.filter((x) => String(x.msg).startsWith('Cannot')).length >= 2 && stop.abort());
  await runStart(config(w, { 'teleport-addr': `127.0.0.1:${port}` }), { log: cap.log, tuning: { ...FAST, connectRetryMs: 20 }, signal: stop.signal });
  const failures = cap.lines.filter((l) => String(l.msg).startsWith('Cannot connect to Teleport'));
  assert.ok(failures.length >= 2, 'retried');
  const msg = String(failures[0].msg);
  for (const r of ROUTES) assert.match(msg, r);
  assert.equal(msg.match(/connect ECONNREFUSED 127\.0\.0\.1:\d+ \(nothing accepts connections there/g)?.length, 3, msg);
  assert.equal(w.fake.calls.length, 0);
});

test('Teleport gone after the route race: the watch loop names the RPC, route and cause, and what each route gives now', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 5, days: 1 });
  defer(() => w.close());
  const stop = new AbortController();
  const cap = captureLog((l) => {
    // Synchronously inside connectTeleport's log call: the listener is gone before the first RPC.
    if (String(l.msg).startsWith('Connected to Teleport')) void w.fake.close();
    if (String(l.msg).startsWith('Unexpected error in watch loop')) stop.abort();
  });
  await runStart(config(w), { log: cap.log, tuning: FAST, signal: stop.signal });
  const line = cap.lines.find((l) => String(l.msg).startsWith('Unexpected error in watch loop'));
  assert.ok(line !== undefined, JSON.stringify(cap.lines));
  const error = String(line.error);
  assert.match(error, new RegExp(`^14 UNAVAILABLE: GetEventExportChunks to Teleport as an auth server at 127\\.0\\.0\\.1:${w.fake.port} failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${w.fake.port} \\(nothing accepts connections there`));
  assert.doesNotMatch(error, /Resolution note/);
  assert.equal(line.addr, `127.0.0.1:${w.fake.port}`);
  const routes = String(line.routes);
  for (const r of ROUTES) assert.match(routes, r);
  assert.equal(routes.match(/ECONNREFUSED/g)?.length, 3, routes);
});

test('the CLI, an unresolvable host: stderr names each route and says the name does not resolve', async (t) => {
  const defer = cleanup(t);
  const w = await makeWorld({ bulk: true, count: 5, days: 1 });
  defer(() => w.close());
  const child = spawn(BIN, ['start', '-c', w.tomlPath, '--teleport-addr', 'no-such-host.invalid:3025'], { cwd: w.dir, env: { ...process.env, AUDITRELAY_EXPORTER_PROBE_RETRY_MS: '50' } });
  let stderr = '';
  const closed = new Promise((r) => child.on('close', r));
  defer(() => (child.exitCode === null ? (child.kill('SIGKILL'), closed) : undefined));
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (/Cannot connect to Teleport/.test(stderr) && stderr.endsWith('\n')) resolve();
    });
    child.on('close', () => resolve());
  });
  child.kill('SIGTERM');
  await closed;
  const line = stderr.split('\n').find((l) => l.includes('Cannot connect to Teleport'));
  assert.ok(line !== undefined, stderr);
  for (const r of ROUTES) assert.match(line, r);
  assert.equal(line.match(/no-such-host\.invalid/g)!.length >= 3, true);
  assert.match(line, /ENOTFOUND no-such-host\.invalid \(the host name does not resolve/);
});
