// Issue 5 acceptance: kill -9 the receiver (a real `bin/auditrelay` child)
// in the middle of a load, restart it on the same buffer path: every event
// that got a 2xx is in S3 exactly once (counted by `uid`), none twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { newTally, runLoad, startChild } from '../support/child.ts';
import { allLines, MtlsClient, tally, waitFor } from './harness.ts';
import { childWorld } from '../support/world.ts';

test('kill -9 mid-load, restart on the same buffer: every acknowledged event in S3 exactly once', async (t) => {
  // A 2 s timekey keeps chunks closing (and uploading) all through the load.
  const { defer, certs, s3, bufferPath, confPath, children } = await childWorld(t, 'ar-e2e-kill-', 2, 'flush_thread_interval 0.2\nflush_thread_burst_interval 0.1');

  const first = await startChild(confPath);
  children.push(first);
  const client = new MtlsClient(first.port, certs, 4);
  defer(() => client.close());
  const load = newTally();
  const { sent, acked } = load;
  const loadStarted = Date.now();
  const senders = runLoad(client, load, 'uid');
  // Kill once uploads have happened and more events are staged.
  await waitFor('a first upload under load', async () => ((await s3.objects()).size > 0 && Date.now() - loadStarted > 2500 ? true : undefined), 15_000, 100);
  first.proc.kill('SIGKILL');
  await first.exited;
  await senders;
  const beforeRestart = allLines(await s3.objects()).length;
  const leftOnDisk = (await readdir(bufferPath)).filter((f) => f.endsWith('.log')).length;

  const restartedAt = Date.now();
  const second = await startChild(confPath);
  children.push(second);
  const uidsInS3 = async (): Promise<Map<string, number>> =>
    tally(allLines(await s3.objects()).map((l) => (JSON.parse(l) as { uid: string }).uid));
  // Drained = every chunk file gone from the buffer directory.
  await waitFor('the resumed chunks uploaded', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 20_000, 100)
    .catch(async (err: Error) => {
      throw new Error(`${err.message}; left in ${bufferPath}: ${(await readdir(bufferPath)).join(' ')}\n` +
        `after restart:\n${second.lines.join('\n')}`);
    });
  const counts = await uidsInS3();
  const drainedMs = Date.now() - restartedAt;
  t.diagnostic(`sent ${sent.size}, acknowledged ${acked.size}, in S3 before restart ${beforeRestart} lines, ` +
    `${leftOnDisk} chunk files left by the kill, drained ${drainedMs} ms after restart, in S3 ${counts.size} uids`);
  assert.ok(acked.size >= 50, `only ${acked.size} events acknowledged before the kill`);
  assert.ok(leftOnDisk > 0, 'the kill left no chunk behind: nothing was tested');
  const missing = [...acked].filter((u) => !counts.has(u));
  assert.deepEqual(missing, [], 'acknowledged events missing from S3');
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'events stored more than once');
  for (const uid of counts.keys()) assert.ok(sent.has(uid), `unknown uid ${uid}`);
});
