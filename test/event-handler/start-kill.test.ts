// kill -9 of the exporter process at random points, then restarts: every event arrives at least
// once, duplicates only from the in-flight window, the state directory stays readable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { BIN } from './cli-helpers.ts';
import { FAST_ENV, makeWorld, received } from './start-helpers.ts';
import type { World } from './start-helpers.ts';

function runChild(w: World, killAfterLines: number | undefined): Promise<number | null> {
  const child = spawn(BIN, ['start', '-c', w.tomlPath, '--exit-on-last-event', '--fluentd-max-connections', '4'], {
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
    for (let k = 1; k <= kills; k++) {
      const at = Math.floor((total * k) / (kills + 1) + Math.random() * 100);
      const code = await runChild(w, at);
      assert.equal(code, null, 'killed by the signal');
    }
    assert.equal(await runChild(w, undefined), 0);
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
