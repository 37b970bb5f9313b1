// kill -9 of the exporter process at random points, then restarts: every event arrives at least
// once, duplicates only from the in-flight window, the state directory stays readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { renderFluentConf } from '../../src/event-handler/configure/configure-templates.ts';
import { tempDir } from './fake-teleport/fixtures.ts';
import { BIN } from './cli-helpers.ts';
import { FAST_ENV, makeWorld, received } from './start-helpers.ts';
import type { World } from './start-helpers.ts';

function runChild(w: World, killAfterLines: number | undefined, args: readonly string[] = []): Promise<number | null> {
  const child = spawn(BIN, ['start', '-c', w.tomlPath, '--exit-on-last-event', '--fluentd-max-connections', '4', ...args], {
    cwd: w.dir,
    env: { ...process.env, ...FAST_ENV },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let timer: NodeJS.Timeout | undefined;
  if (killAfterLines !== undefined) {
    timer = setInterval(() => {
      if (received(w).length >= killAfterLines) {
        clearInterval(timer);
        child.kill('SIGKILL');
      }
    }, 2);
  }
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearInterval(timer);
      if (code !== 0 && killAfterLines === undefined) process.stderr.write(stderr);
      resolve(code);
    }),
  );
}

for (const bulk of [false, true]) {
  test(`start (${bulk ? 'bulk' : 'window/page'} path): kill -9 at random points, restart: at least once, few duplicates`, async (t) => {
    const w = await makeWorld({ bulk, count: 1200, days: 3, perSession: 30, sessions: 3, chunkSize: 200 });
    t.after(() => w.close());
    const total = w.fake.events.length;
    const kills = 3;
    // A window of 4 in flight, so that the bound below is about the resume, not the window
    // (the default, PIPELINE_WINDOW, is the exactly-once test's below).
    const window = ['--fluentd-max-in-flight', '4'];
    for (let k = 1; k <= kills; k++) {
      const at = Math.floor((total * k) / (kills + 1) + Math.random() * 100);
      const code = await runChild(w, at, window);
      assert.equal(code, null, 'killed by the signal');
    }
    assert.equal(await runChild(w, undefined, window), 0);
    await new Promise((r) => setTimeout(r, 200));

    const got = received(w).filter((r) => r.tag === 'test.log').map((r) => JSON.stringify(r.body));
    const counts = new Map<string, number>();
    for (const b of got) counts.set(b, (counts.get(b) ?? 0) + 1);
    for (const e of w.fake.events) assert.ok(counts.has(eventBody(e.json)), `event ${e.id} missing`);
    const duplicates = got.length - counts.size;
    // Per kill: the POSTs in flight plus what was acknowledged after the last completed position
    // write (the saver is latest-wins and asynchronous, as upstream's). That lag grows with the
    // machine's load: 15–45 on an idle 2-core machine, up to 185 for 3 kills with six other test
    // runs on the same cores. The bound below catches a resume that re-sends from the day's or
    // the chunk's start (400 events a day here); exactly once is the dedup filter's job
    // (test/reliability/teleport-kill9.test.ts, test/e2e/kill-restart.test.ts).
    t.diagnostic(`${duplicates} duplicates after ${kills} kills`);
    assert.ok(duplicates <= kills * 100, `${duplicates} duplicates after ${kills} kills`);
    // Recordings: every non-print event at least once.
    for (const [sid, evs] of w.fake.sessions) {
      const bodies = new Set(received(w).filter((r) => r.tag === `session.${sid}.log`).map((r) => JSON.stringify(r.body)));
      for (const e of evs) if (e.type !== 'print') assert.ok(bodies.has(eventBody(e.json)), `session ${sid} event ${e.index} missing`);
    }
  });
}

// Issue 14 acceptance: kill -9 of the exporter 3 times with the generated fluent.conf's dedup
// filters in the receiver: every audit event (by uid) and every recording event (by sid+ei)
// reaches the output exactly once. The filters are taken from what `configure` writes.
test('start (window/page path) → receiver with the generated dedup filters: kill -9 ×3, every event exactly once', async (t) => {
  const generated = renderFluentConf({ caCertFileName: 'ca.crt', serverCertFileName: 'server.crt', serverKeyFileName: 'server.key', passphrase: 'x' });
  const filters = [...generated.matchAll(/<filter [^>]+>\n  @type dedup\n[\s\S]*?<\/filter>\n/g)].map((m) => m[0]);
  assert.equal(filters.length, 2, 'configure writes a dedup filter for audit and one for session events');
  const dedupDir = tempDir('ar-dedup-');
  const w = await makeWorld({
    bulk: false, count: 1200, days: 3, perSession: 30, sessions: 3, chunkSize: 200,
    receiverFilters: filters.join('').replaceAll('/var/log/fluent/dedup/', `${dedupDir}/`),
  });
  t.after(() => w.close());
  const total = w.fake.events.length;
  const kills = 3;
  for (let k = 1; k <= kills; k++) {
    const at = Math.floor((total * k) / (kills + 1) + Math.random() * 100);
    assert.equal(await runChild(w, at), null, 'killed by the signal');
  }
  assert.equal(await runChild(w, undefined), 0);
  await new Promise((r) => setTimeout(r, 200));

  const audit = received(w).filter((r) => r.tag === 'test.log');
  const byUid = new Map<unknown, number>();
  for (const r of audit) byUid.set(r.body.uid, (byUid.get(r.body.uid) ?? 0) + 1);
  const lost = w.fake.events.filter((e) => !byUid.has(e.id)).length;
  const duplicated = [...byUid.values()].reduce((n, c) => n + c - 1, 0);
  let sessionDup = 0;
  let sessionLost = 0;
  for (const [sid, evs] of w.fake.sessions) {
    const seen = new Map<unknown, number>();
    for (const r of received(w).filter((x) => x.tag === `session.${sid}.log`)) seen.set(r.body.ei, (seen.get(r.body.ei) ?? 0) + 1);
    sessionDup += [...seen.values()].reduce((n, c) => n + c - 1, 0);
    sessionLost += evs.filter((e) => e.type !== 'print' && !seen.has(e.index)).length;
  }
  t.diagnostic(`audit: ${total} exported, ${audit.length} delivered, ${lost} lost, ${duplicated} duplicated; recordings: ${sessionLost} lost, ${sessionDup} duplicated (${kills} kills)`);
  assert.equal(lost, 0);
  assert.equal(duplicated, 0);
  assert.equal(sessionLost, 0);
  assert.equal(sessionDup, 0);
});
