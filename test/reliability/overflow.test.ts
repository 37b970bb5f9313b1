// Guarantee "Overflow": more than total_limit_size buffered (S3 down) → exactly
// the configured overflow_action (docs/compatibility.md §8):
// throw_exception → 503 + Retry-After; block → the request waits and completes
// once the queue drains; drop_oldest_chunk → the oldest chunk dropped, logged
// (with chunk_limit_size < total_limit_size: as in Fluentd, a staged chunk alone
// over the limit leaves nothing queued to drop, and the write fails).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from '../support/certs.ts';
import { cleanup } from '../support/cleanup.ts';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';
import { allLines, isoAt, MtlsClient, S3Store, seedConf, tally, waitFor, type Answer } from '../e2e/harness.ts';

interface Rig { r: TestReceiver; s3: S3Store; client: MtlsClient; bufferPath: string; post: (uid: string) => Promise<Answer> }

async function rig(t: TestContext, action: string, extra = ''): Promise<Rig> {
  const defer = cleanup(t);
  const certs = await makeCerts();
  defer(() => rm(certs.dir, { recursive: true, force: true }));
  const dir = await mkdtemp(join(tmpdir(), 'ar-rel-ovf-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const s3 = new S3Store();
  defer(() => s3.remove());
  await s3.start();
  const bufferPath = join(dir, 'buffer', 's3-events');
  const r = await startTestReceiver(seedConf({
    certs, endpoint: s3.endpoint, bufferPath, timekey: 60,
    bufferExtra: `total_limit_size 3k\noverflow_action ${action}\nflush_thread_interval 0.1\nflush_thread_burst_interval 0.05\n` +
      'retry_wait 0.2\nretry_max_interval 0.5' + extra,
  }), dir);
  defer(() => r.receiver.close());
  const client = new MtlsClient(r.port, certs, 4);
  defer(() => client.close());
  await s3.stop();
  const minute = Math.floor(Date.now() / 60_000) * 60 - 120;
  let n = 0;
  const post = (uid: string): Promise<Answer> =>
    client.post('test.log', JSON.stringify({ event: 'user.login', time: isoAt(minute + (n++ % 60)), uid, user: 'bob' }));
  return { r, s3, client, bufferPath, post };
}

const uidsIn = async (s3: S3Store): Promise<Map<string, number>> =>
  tally(allLines(await s3.objects()).map((l) => (JSON.parse(l.slice(l.indexOf('{'))) as { uid: string }).uid));

test('overflow_action throw_exception: 503 + Retry-After once total_limit_size is reached', async (t) => {
  const { post } = await rig(t, 'throw_exception');
  let a: Answer | undefined;
  let i = 0;
  for (; i < 300; i++) {
    a = await post(`t-${i}`);
    if (a.status !== 200) break;
  }
  assert.ok(a && a.status === 503, `no 503 after ${i} events (last ${a?.status})`);
  assert.equal(a.body, '503 Service Unavailable\nbuffer space has too many data\n');
  assert.match(String(a.headers['retry-after']), /^[1-9]\d*$/);
  t.diagnostic(`throw_exception: 503 after ${i} accepted events`);
});

test('overflow_action block: the request waits while the buffer is full and completes once S3 drains it', async (t) => {
  const { post, s3, bufferPath } = await rig(t, 'block');
  const acked: string[] = [];
  let pending: Promise<Answer> | undefined;
  for (let i = 0; i < 300 && !pending; i++) {
    const p = post(`b-${i}`);
    const first = await Promise.race([p, new Promise<undefined>((res) => setTimeout(() => res(undefined), 1500))]);
    if (first === undefined) pending = p;
    else {
      assert.equal(first.status, 200);
      acked.push(`b-${i}`);
    }
  }
  assert.ok(pending, `no request blocked after ${acked.length} events`);
  const upAt = Date.now();
  await s3.start();
  const a = await pending;
  const waitedMs = Date.now() - upAt;
  assert.equal(a.status, 200, `blocked request answered ${a.status}: ${a.body}`);
  acked.push(`b-${acked.length}`);
  await waitFor('the buffer drained', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 20_000);
  const counts = await uidsIn(s3);
  for (const uid of acked) assert.equal(counts.get(uid), 1, `${uid} stored ${counts.get(uid) ?? 0} times`);
  t.diagnostic(`block: ${acked.length} acknowledged, blocked request completed ${waitedMs} ms after S3 returned`);
});

test('overflow_action drop_oldest_chunk: requests keep succeeding, the oldest chunks are dropped and logged', async (t) => {
  const { post, s3, bufferPath, r } = await rig(t, 'drop_oldest_chunk', '\nchunk_limit_size 1k');
  const acked: string[] = [];
  for (let i = 0; i < 150; i++) {
    const a = await post(`d-${i}`);
    assert.equal(a.status, 200, `d-${i}: ${a.status} ${a.body}\n${r.log.lines.filter((l) => /drop|overflow|flush/.test(l)).slice(-8).join('\n')}`);
    acked.push(`d-${i}`);
    await new Promise((res) => setTimeout(res, 5));
  }
  const drops = r.log.entries().filter((e) => e.msg === 'dropping oldest chunk to make space after buffer overflow');
  assert.ok(drops.length > 0, 'no chunk was dropped');
  await s3.start();
  await waitFor('the buffer drained', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 20_000);
  const counts = await uidsIn(s3);
  for (const [uid, c] of counts) assert.equal(c, 1, `${uid} stored ${c} times`);
  const lost = acked.filter((u) => !counts.has(u));
  const loggedRecords = drops.reduce((sum, e) => sum + (e.records as number), 0);
  assert.equal(lost.length, loggedRecords, 'events missing from S3 != records of the chunks logged as dropped');
  assert.ok(lost.length > 0, 'chunks were logged as dropped but nothing is missing');
  // The dropped ones are the oldest queued chunks. A chunk that is being written at that moment
  // (its upload retrying while S3 is down) is not in the queue, so it survives although it is
  // older (Fluentd drops from the queue too): at most one chunk's records older than the newest
  // dropped event may be stored, and everything newer than it is stored.
  const idx = (u: string): number => Number(u.slice(2));
  const newestLost = Math.max(...lost.map(idx));
  const storedBefore = [...counts.keys()].filter((u) => idx(u) < newestLost);
  const perChunk = Math.max(...drops.map((e) => e.records as number));
  assert.ok(storedBefore.length <= perChunk, `more than one chunk older than a dropped one survived: ${storedBefore.join(',')}`);
  assert.ok(acked.filter((u) => idx(u) > newestLost).every((u) => counts.has(u)), 'an event newer than every dropped chunk is missing');
  t.diagnostic(`drop_oldest_chunk: ${acked.length} acknowledged, ${drops.length} chunks dropped (logged), ${lost.length} events in them, ${counts.size} in S3`);
});
