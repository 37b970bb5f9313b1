// Every request the exporter makes carries `User-Agent: auditrelay-event-handler/<package.json
// version>` (issue 14 §4): the receiver sees it on the pipelined audit POSTs and the pooled session
// POSTs, the fake Teleport on every gRPC call (before grpc-js's own token).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pkg from '../../package.json' with { type: 'json' };
import { runStart } from '../../src/event-handler/start/start.ts';
import { cleanup } from '../support/cleanup.ts';
import { startRawServer } from './raw-http-server.ts';
import { config, FAST, makeWorld, quietLog } from './start-helpers.ts';

const UA = `auditrelay-event-handler/${pkg.version}`;

for (const maxInFlight of ['0', '1']) {
  test(`start (max-in-flight ${maxInFlight}): the receiver and the fake Teleport see User-Agent ${UA} on every request`, async (t) => {
    const defer = cleanup(t);
    const w = await makeWorld({ bulk: true, count: 60, days: 1, perSession: 5, sessions: 2 });
    defer(() => w.close());
    const raw = await startRawServer(w.fcerts, () => ({ status: 200 }));
    defer(() => raw.close());
    const cfg = config(w, {
      'fluentd-url': `https://localhost:${raw.port}/test.log`,
      'fluentd-session-url': `https://localhost:${raw.port}/session`,
      'fluentd-max-in-flight': maxInFlight,
    });
    const result = await runStart(cfg, { log: quietLog(), tuning: FAST, signal: AbortSignal.timeout(60_000) });
    assert.equal(result.auditEvents, 60);
    assert.ok(result.sessionEvents > 0);
    const sessionPosts = raw.requests.filter((r) => r.head.startsWith('POST /session.'));
    assert.ok(sessionPosts.length > 0, 'session events were posted');
    assert.equal(raw.requests.filter((r) => r.head.startsWith('POST /test.log ')).length, 60);
    for (const r of raw.requests) {
      const ua = /^user-agent: (.*)$/im.exec(r.head)?.[1];
      assert.equal(ua, UA, `request ${r.head.split('\r\n')[0]}`);
    }
    assert.ok(w.fake.userAgents.length >= 3);
    for (const ua of w.fake.userAgents) assert.match(ua, new RegExp(`^${UA.replaceAll('.', '\\.')} grpc-node-js/`));
  });
}
