// Issue 5 acceptance: S3 goes away (s3rver stopped) for a while. Chunks are
// retried with a growing backoff (`failed to flush the buffer` log lines),
// nothing is lost and the queue drains when the same s3rver (same port, same
// directory) returns. With a small total_limit_size the input answers the
// documented backpressure (503 + Retry-After + `buffer space has too many
// data`, docs/compatibility.md "deliberately differs") and accepts again after the drain.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestReceiver } from '../support/receiver.ts';
import { allLines, fluentdLine, isoAt, MtlsClient, seedConf, tally, waitFor, type Answer } from './harness.ts';
import { e2eWorld } from '../support/world.ts';

test('S3 down: backoff retries, 503 + Retry-After when the buffer is full, drained and accepting again when S3 returns', async (t) => {
  const { defer, certs, s3, dir } = await e2eWorld(t, 'ar-e2e-down-');
  const port = new URL(s3.endpoint).port;
  const bufferPath = join(dir, 'buffer', 's3-events');
  const r = await startTestReceiver(seedConf({
    certs, endpoint: s3.endpoint, bufferPath, timekey: 60,
    bufferExtra: 'total_limit_size 3k\nflush_thread_interval 0.1\nflush_thread_burst_interval 0.05\n' +
      'retry_wait 0.2\nretry_max_interval 1',
  }), dir);
  defer(() => r.receiver.close());
  const client = new MtlsClient(r.port, certs, 1);
  defer(() => client.close());

  await s3.stop();
  const downAt = Date.now();
  // Events of a closed minute: their chunk is due at once and fails at once.
  const minute = Math.floor(Date.now() / 60_000) * 60 - 60;
  const inputs = new Map<string, string>();
  let overflow: Answer | undefined;
  let n = 0;
  for (; n < 200 && overflow === undefined; n++) {
    const input = JSON.stringify({ event: 'user.login', time: isoAt(minute + (n % 60)), uid: `down-${n}`, user: 'bob' });
    const a = await client.post('test.log', input);
    if (a.status === 200) inputs.set(`down-${n}`, input);
    else overflow = a;
    await new Promise((res) => setTimeout(res, 10));
  }
  assert.ok(overflow, `no backpressure after ${n} events`);
  assert.equal(overflow.status, 503);
  assert.equal(overflow.body, '503 Service Unavailable\nbuffer space has too many data\n');
  assert.match(String(overflow.headers['retry-after']), /^[1-9]\d*$/);
  const fullAfter = inputs.size;

  // Let the backoff grow over a few failed attempts.
  const failures = (): Record<string, unknown>[] => r.log.entries().filter((e) => e.msg === 'failed to flush the buffer.');
  await waitFor('4 failed flushes', () => (failures().length >= 4 ? true : undefined), 15_000);
  const failed = failures();
  const steps = failed.map((e) => e.retry_times as number);
  assert.deepEqual(steps.slice(0, 4), [0, 1, 2, 3]);
  const at = failed.map((e) => e.time as number);
  const gaps = at.slice(1).map((v, i) => v - at[i]);
  assert.ok(gaps[2] > gaps[0], `backoff did not grow: gaps ${gaps.join(', ')} ms`);
  for (const e of failed) assert.equal(typeof e.chunk, 'string');

  // Still full while S3 is down.
  const again = await client.post('test.log', JSON.stringify({ event: 'x', time: isoAt(minute), uid: 'refused' }));
  assert.equal(again.status, 503);

  await s3.start();
  assert.equal(new URL(s3.endpoint).port, port);
  const upAt = Date.now();
  await waitFor('the buffer drained', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 15_000);
  const drainedMs = Date.now() - upAt;
  assert.ok(r.log.entries().some((e) => e.msg === 'retry succeeded.'), 'no "retry succeeded." log line');

  // Accepting again.
  const after = JSON.stringify({ event: 'user.login', time: isoAt(minute), uid: 'after', user: 'bob' });
  const ok = await client.post('test.log', after);
  assert.equal(ok.status, 200, ok.body);
  inputs.set('after', after);

  const objects = await waitFor('every accepted event in S3', async () => {
    const got = await s3.objects();
    return allLines(got).length >= inputs.size ? got : undefined;
  }, 10_000, 100);
  const lines = allLines(objects);
  const counts = tally(lines.map((l) => (JSON.parse(l) as { uid: string }).uid));
  assert.deepEqual([...counts].filter(([, c]) => c !== 1), [], 'an event stored twice');
  assert.deepEqual([...inputs.keys()].filter((u) => !counts.has(u)), [], 'accepted events lost');
  assert.equal(counts.size, inputs.size, 'an event that got 503 was stored');
  // Each stored line is Fluentd's line for its input.
  const expected = new Set([...inputs.values()].map((i) => fluentdLine(i).trimEnd()));
  for (const l of lines) assert.ok(expected.has(l), `unexpected line ${l}`);
  t.diagnostic(`${fullAfter} events accepted before the 503, S3 down ${upAt - downAt} ms, ` +
    `${failures().length} failed flushes (gaps ${gaps.join(', ')} ms), drained ${drainedMs} ms after S3 returned, ` +
    `${objects.size} objects, ${lines.length} lines`);
});
