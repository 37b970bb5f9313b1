// Issue 12 guarantee "S3 unreachable for 60 s while events keep arriving": a real
// `bin/auditrelay` child (seed config, file buffer, 2 s timekey) takes a steady,
// bounded load while its s3rver is stopped for 60 s and then started again on the
// same port and directory. Every event that got a 2xx is in S3 exactly once after
// the buffer drains; the failed flushes are logged with their next retry time and
// come further and further apart; the child's peak RSS (VmHWM) stays within a fixed
// bound of its steady level before the outage. (test/e2e/s3-down.test.ts is the
// short version with a full buffer and 503s.)

import { RUBY_TIME_TO_S, rubyTimeMs } from '../support/ruby-time.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { newTally, runLoad, startChild } from '../support/child.ts';
import { allLines, MtlsClient, tally, waitFor } from '../e2e/harness.ts';
import { childWorld } from '../support/world.ts';
import { childMemory } from '../support/hostile.ts';

const OUTAGE_MS = 60_000;
/** Peak VmHWM during and after the outage may exceed the steady level before it by at most this. */
const RSS_GROWTH_BOUND_MB = 40;

test('S3 unreachable for 60 s under load: every 2xx event delivered exactly once, growing logged retries, flat RSS', { timeout: 170_000 }, async (t) => {
  const { certs, s3, bufferPath, confPath, children } = await childWorld(t, 'ar-rel-s3down60-', 2,
    'flush_thread_interval 0.1\nflush_thread_burst_interval 0.05\nretry_wait 1');
  const child = await startChild(confPath);
  children.push(child);
  const pid = child.proc.pid!;
  const client = new MtlsClient(child.port, certs, 2);
  t.after(() => client.close());

  const load = newTally();
  let stopLoad = false;
  // 2 senders, one event each every 50 ms: at most ~40 events/s.
  const senders = runLoad(client, load, 'e', { senders: 2, pauseMs: 50, stop: () => stopLoad });
  let peakMB = 0;
  const sampler = setInterval(() => void childMemory(pid).then((m) => (peakMB = Math.max(peakMB, m.hwmMB)), () => {}), 200);
  t.after(() => clearInterval(sampler));

  // Steady state with S3 up: chunks close every 2 s and upload.
  await new Promise((r) => setTimeout(r, 6000));
  const steady = await childMemory(pid);
  const ackedBefore = load.acked.size;
  await s3.stop();
  const downAt = Date.now();
  await new Promise((r) => setTimeout(r, OUTAGE_MS));
  const ackedDuring = load.acked.size - ackedBefore;
  const failuresDuring = child.lines.filter((l) => l.includes('"failed to flush the buffer."')).length;
  await s3.start();
  const upAt = Date.now();
  await new Promise((r) => setTimeout(r, 3000));
  stopLoad = true;
  await senders;

  await waitFor('the buffer drained after S3 returned', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 60_000, 200)
    .catch(async (err: Error) => {
      throw new Error(`${err.message}; left in ${bufferPath}: ${(await readdir(bufferPath)).join(' ')}`);
    });
  const drainedMs = Date.now() - upAt;
  const end = await childMemory(pid);
  peakMB = Math.max(peakMB, end.hwmMB);

  const counts = tally(allLines(await s3.objects()).map((l) => (JSON.parse(l) as { uid: string }).uid));
  const lost = [...load.acked].filter((u) => !counts.has(u));
  const twice = [...counts].filter(([, n]) => n > 1);
  const unknown = [...counts.keys()].filter((u) => !load.sent.has(u));

  const failures = child.lines.filter((l) => l.includes('"failed to flush the buffer."')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const at = failures.map((f) => f.time as number);
  const gaps = at.slice(1).map((v, i) => v - at[i]);
  const retried = child.lines.some((l) => l.includes('"retry succeeded."'));
  t.diagnostic(`S3 down ${upAt - downAt} ms; sent ${load.sent.size}, acknowledged ${load.acked.size} (${ackedDuring} during the outage), ` +
    `refused ${load.refused}; in S3 ${counts.size} uids: lost ${lost.length}, duplicated ${twice.length}, unknown ${unknown.length}; ` +
    `${failures.length} failed flushes (${failuresDuring} during the outage), gaps ${gaps.map((g) => (g / 1000).toFixed(1)).join(', ')} s; ` +
    `drained ${drainedMs} ms after S3 returned; VmHWM steady ${steady.hwmMB.toFixed(1)} MB, peak ${peakMB.toFixed(1)} MB ` +
    `(+${(peakMB - steady.hwmMB).toFixed(1)} MB, bound ${RSS_GROWTH_BOUND_MB})`);

  assert.ok(ackedDuring >= 500, `only ${ackedDuring} events acknowledged during the outage: the load did not keep arriving`);
  assert.deepEqual(lost, [], 'acknowledged events missing from S3');
  assert.deepEqual(twice, [], 'events stored more than once');
  assert.deepEqual(unknown, [], 'uids in S3 that were never sent');

  assert.ok(failures.length >= 4, `only ${failures.length} failed flushes logged`);
  for (const f of failures) {
    assert.match(String(f.next_retry_time), RUBY_TIME_TO_S, 'next_retry_time is printed as Ruby Time#to_s, as Fluentd logs it');
    assert.ok(rubyTimeMs(String(f.next_retry_time)) >= (f.time as number) - 1000, 'next_retry_time lies ahead of the failure');
    assert.equal(typeof f.chunk, 'string');
  }
  // retry_wait 1, base 2, ±12.5 %: the gaps between failed attempts grow (~1, 2, 4, 8, 16 s).
  const firstGaps = gaps.slice(0, 4);
  for (let i = 1; i < firstGaps.length; i++) assert.ok(firstGaps[i] > firstGaps[i - 1], `backoff did not grow: gaps ${gaps.join(', ')} ms`);
  assert.ok(Math.max(...gaps) >= 8000, `the longest gap is ${Math.max(...gaps)} ms: the backoff never reached 8 s`);
  assert.ok(retried, 'no "retry succeeded." log line');

  assert.ok(peakMB - steady.hwmMB < RSS_GROWTH_BOUND_MB,
    `VmHWM grew ${(peakMB - steady.hwmMB).toFixed(1)} MB over the steady ${steady.hwmMB.toFixed(1)} MB (bound ${RSS_GROWTH_BOUND_MB} MB)`);
});
