// The pipelined audit stream (src/event-handler/forward/pipelined-pipeline.ts + pipelined-client.ts) against a
// real mTLS socket server that answers in order: events reach it in the stream's order on one
// connection with several requests outstanding; 503/500 answers, a dropped connection and
// `Connection: close` are resent from the first unaccepted event, nothing skipped, the cursor
// never passes an event the server did not accept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { makeCerts } from '../support/certs.ts';
import type { CertFiles } from '../support/certs.ts';
import { Forwarder, parseTarget } from '../../src/event-handler/forward/forwarder.ts';
import { PipelinedPipeline } from '../../src/event-handler/forward/pipelined-pipeline.ts';
import { quietLog } from './start-helpers.ts';
import { startRawServer } from './raw-http-server.ts';
import type { Policy, RawRequest } from './raw-http-server.ts';

const FAST = { backoffBaseMs: 5, backoffMaxMs: 20, roundPauseMs: 10 } as const;
const N = 300;
const WINDOW = 8;

const certs: Promise<CertFiles> = makeCerts();
const seqOf = (r: RawRequest) => (JSON.parse(r.body) as { seq: number }).seq;

/** Fails the listed events the given number of times, then accepts them. */
function failing(times: Map<number, number>, answer: { status: number; retryAfter?: string; close?: 'drop' }): Policy {
  const seen = new Map<number, number>();
  return (req) => {
    const s = seqOf(req);
    const n = (seen.get(s) ?? 0) + 1;
    seen.set(s, n);
    return n <= (times.get(s) ?? 0) ? answer : { status: 200 };
  };
}

/** Index of request numbers at which to act (counted over all requests the server takes). */
function atRequests(indexes: ReadonlySet<number>, answer: { status: number; close?: 'header' | 'drop' }): Policy {
  return (_req, index) => (indexes.has(index) ? answer : { status: 200 });
}

const expected = Array.from({ length: N }, (_, i) => JSON.stringify({ seq: i }));

for (const c of [
  { name: 'every answer 200: exactly in order, one connection', policy: (): Policy => () => ({ status: 200 }), exact: true, minConns: 1, maxConns: 1 },
  { name: 'chunked 200 answers', policy: (): Policy => () => ({ status: 200, chunked: true }), exact: true, minConns: 1, maxConns: 1 },
  {
    name: '503 + Retry-After for some events (twice each), then 200',
    policy: () => failing(new Map([[5, 2], [77, 2], [298, 1]]), { status: 503, retryAfter: '0' }),
    exact: false, minConns: 1, maxConns: 1, minFailures: 5,
  },
  { name: '500 without Retry-After → jittered backoff, then 200', policy: () => failing(new Map([[0, 1], [150, 3]]), { status: 500 }), exact: false, minConns: 1, maxConns: 1, minFailures: 4 },
  { name: 'connection dropped mid-pipeline (3 times)', policy: () => atRequests(new Set([40, 41, 170]), { status: 200, close: 'drop' }), exact: false, minConns: 4, maxConns: 4, minFailures: 3 },
  { name: 'event dropped on every try for a whole retry round', policy: () => failing(new Map([[60, 7]]), { status: 0, close: 'drop' }), exact: false, minConns: 8, maxConns: 8, minFailures: 7 },
  { name: 'answers with Connection: close → resent on a new connection', policy: () => atRequests(new Set([30, 200]), { status: 200, close: 'header' }), exact: false, minConns: 3, maxConns: 3 },
]) {
  test(`pipelined stream: ${c.name}: nothing skipped, last arrivals in order, cursor only past accepted events`, async (t) => {
    const cf = await certs;
    const srv = await startRawServer(cf, c.policy());
    t.after(() => srv.close());
    const commits: number[] = [];
    const accepted = new Set<string>();
    const p = new PipelinedPipeline<number>(
      { target: parseTarget(`https://localhost:${srv.port}/test.log`), tls: { ca: readFileSync(cf.ca), cert: readFileSync(cf.clientCert), key: readFileSync(cf.clientKey) }, maxInFlight: WINDOW, ...FAST },
      quietLog(),
      (i) => {
        // The cursor never passes an event the server has not accepted.
        for (const b of srv.accepted) accepted.add(b);
        for (let j = commits.at(-1) ?? 0; j <= i; j++) assert.ok(accepted.has(expected[j]), `committed ${i} before ${j} was accepted`);
        commits.push(i);
      },
    );
    t.after(() => p.close());
    const target = parseTarget(`https://localhost:${srv.port}/test.log`);
    for (let i = 0; i < N; i++) await p.push(i, target, expected[i]);
    await p.drain();

    assert.equal(commits.at(-1), N - 1);
    assert.equal(p.sent, N, 'each event counted once');
    assert.ok(srv.maxPending > 1, `requests were pipelined (max pending ${srv.maxPending})`);
    assert.ok(srv.maxPending <= WINDOW, `at most ${WINDOW} outstanding (saw ${srv.maxPending})`);
    assert.ok(srv.connections >= c.minConns && srv.connections <= c.maxConns, `connections: ${srv.connections}`);
    assert.ok(p.failures >= (c.minFailures ?? 0), `failures: ${p.failures}`);
    if (c.exact) assert.deepEqual(srv.accepted, expected);
    // Every event accepted; taking each event's LAST acceptance, the order is the stream's;
    // extra copies only from the window pipelined behind a failure.
    assert.deepEqual(new Set(srv.accepted), new Set(expected));
    const last = new Map<string, number>();
    srv.accepted.forEach((b, i) => last.set(b, i));
    assert.deepEqual([...last.entries()].sort((a, b) => a[1] - b[1]).map(([b]) => b), expected);
    assert.ok(srv.accepted.length - N <= p.failures * WINDOW, `duplicates ${srv.accepted.length - N} within the window`);
  });
}

test('pipelined stream: requests are byte for byte what Forwarder (node:https) sends', async (t) => {
  const cf = await certs;
  for (const path of ['/test.log', '/session.abc.log?x=1']) {
    const srv = await startRawServer(cf, () => ({ status: 200 }));
    t.after(() => srv.close());
    const target = parseTarget(`https://localhost:${srv.port}${path}`);
    const body = JSON.stringify({ event: 'user.login', 'ü': 'ß' });
    const f = new Forwarder({ ca: cf.ca, cert: cf.clientCert, key: cf.clientKey, maxConnections: 2, dryRun: false }, quietLog());
    t.after(() => f.close());
    await f.send(target, body);
    const p = new PipelinedPipeline<number>({ target, tls: { ca: readFileSync(cf.ca), cert: readFileSync(cf.clientCert), key: readFileSync(cf.clientKey) }, maxInFlight: 4 }, quietLog(), () => {});
    t.after(() => p.close());
    await p.push(0, target, body);
    await p.drain();
    assert.equal(srv.requests.length, 2);
    assert.equal(srv.requests[1].conn, 1);
    const fromForwarder = Buffer.concat(srv.bytes[0]).toString('latin1');
    assert.match(fromForwarder, new RegExp(`^POST ${path.replace('?', '\\?')} HTTP/1\\.1\\r\\nContent-Type: application/json\\r\\n`));
    assert.equal(Buffer.concat(srv.bytes[1]).toString('latin1'), fromForwarder);
  }
});
