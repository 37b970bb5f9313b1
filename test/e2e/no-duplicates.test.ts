// Issue 5 acceptance "No duplicates, ever", through the whole receiver (mTLS
// in, file buffer, out_s3) and the conditional-write proxy in front of s3rver:
// a PUT stored but its answer lost is retried under the same key; two
// receivers writing the same slice keep both objects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type CertFiles } from '../support/certs.ts';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';
import { ConditionalProxy } from '../support/conditional-proxy.ts';
import { allLines, fluentdLine, isoAt, MtlsClient, seedConf, slice, tally, waitFor } from './harness.ts';
import { e2eWorld } from '../support/world.ts';
import type { Defer } from '../support/cleanup.ts';

const FAST = 'flush_thread_interval 0.1\nflush_thread_burst_interval 0.05\nretry_wait 0.2';

async function world(t: import('node:test').TestContext, enforce: boolean) {
  const { defer, certs, s3, dir } = await e2eWorld(t, 'ar-e2e-dup-');
  const proxy = new ConditionalProxy(s3.endpoint, { enforce });
  await proxy.listen();
  defer(() => proxy.close());
  return { defer, certs, s3, proxy, dir };
}

async function receiver(defer: Defer, certs: CertFiles, endpoint: string, dir: string, name: string): Promise<{ r: TestReceiver; client: MtlsClient }> {
  const home = join(dir, name);
  await mkdir(home);
  const r = await startTestReceiver(seedConf({ certs, endpoint, bufferPath: join(home, 'buffer'), timekey: 60, bufferExtra: FAST }), home);
  defer(() => r.receiver.close());
  const client = new MtlsClient(r.port, certs);
  defer(() => client.close());
  return { r, client };
}

function closedMinute(): number {
  return Math.floor(Date.now() / 60_000) * 60 - 60;
}

for (const c of [
  { name: 'first answer lost: the SDK retry gets 412, sees its own ETag', enforce: true, drops: [1], bufferRetry: false },
  // Without If-None-Match enforcement the SDK's 3 attempts all lose their
  // answer, the chunk goes back to the queue and the buffer's retry PUTs the
  // persisted key once more (with enforcement the 2nd attempt already ends it).
  { name: 'store ignoring If-None-Match: the buffer retry overwrites the same key', enforce: false, drops: [1, 2, 3], bufferRetry: true },
]) {
  test(`PUT stored, answer dropped (${c.name}): one object, no duplicate`, async (t) => {
    const { defer, certs, s3, proxy, dir } = await world(t, c.enforce);
    for (const d of c.drops) proxy.dropPutResponse(d);
    const { r, client } = await receiver(defer, certs, proxy.endpoint, dir, 'a');
    const minute = closedMinute();
    const inputs: string[] = [];
    for (let i = 0; i < 20; i++) {
      inputs.push(JSON.stringify({ event: 'user.login', time: isoAt(minute + i), uid: `lost-${i}`, user: 'carol' }));
    }
    // One array body = one emit = one chunk, whatever the enqueue timer does.
    assert.equal((await client.post('test.log', `[${inputs.join(',')}]`)).status, 200);
    const key = `teleport/logs${slice(minute)}_0.gz`;
    const objects = await waitFor('the object, and the buffer retry done', async () => {
      const got = await s3.objects();
      const retried = !c.bufferRetry || r.log.entries().some((e) => e.msg === 'retry succeeded.');
      return got.size > 0 && retried && proxy.droppedResponses === c.drops.length ? got : undefined;
    }, 15_000, 100);
    await r.receiver.flushAll();
    const final = await s3.objects();
    assert.deepEqual([...final.keys()], [key]);
    assert.deepEqual(final, objects);
    assert.equal(final.get(key), inputs.map(fluentdLine).join(''));
    const putKeys = new Set(proxy.requests.filter((q) => q.startsWith('PUT ')).map((q) => q.split('?')[0]));
    assert.deepEqual([...putKeys], [`PUT /teleport-audit/${key}`], 'every attempt used the same key');
    assert.equal(proxy.objectPuts, c.drops.length + 1);
    const failed = r.log.entries().filter((e) => e.msg === 'failed to flush the buffer.').length;
    assert.equal(failed > 0, c.bufferRetry);
    t.diagnostic(`${proxy.objectPuts} PUTs to ${key}, ${proxy.droppedResponses} answers dropped, ` +
      `${proxy.preconditionFailures} × 412, ${failed} buffer retries`);
  });
}

test('two receivers, separate buffers, same bucket/path/minute, racing for _0: both objects kept, every event once', async (t) => {
  const { defer, certs, s3, proxy, dir } = await world(t, true);
  const a = await receiver(defer, certs, proxy.endpoint, dir, 'a');
  const b = await receiver(defer, certs, proxy.endpoint, dir, 'b');
  // Both replicas probe _0 before either writes: the race Fluentd loses (s3 plugin #326).
  proxy.gateHeads(2);
  const minute = closedMinute();
  const inputs = new Map<string, string>();
  const sends: Promise<void>[] = [];
  for (const [name, side] of [['a', a], ['b', b]] as const) {
    sends.push((async () => {
      for (let i = 0; i < 25; i++) {
        const uid = `${name}-${i}`;
        const input = JSON.stringify({ event: 'session.start', time: isoAt(minute + i), uid, login: name });
        inputs.set(uid, input);
        assert.equal((await side.client.post('test.log', input)).status, 200);
      }
    })());
  }
  await Promise.all(sends);
  const objects = await waitFor('both replicas uploaded', async () => {
    const got = await s3.objects();
    return allLines(got).length >= inputs.size ? got : undefined;
  }, 15_000, 100);
  const prefix = `teleport/logs${slice(minute)}`;
  const keys = [...objects.keys()];
  assert.ok(keys.length >= 2, `only ${keys.length} object(s)`);
  assert.deepEqual(keys, keys.map((_, i) => `${prefix}_${i}.gz`));
  assert.ok(proxy.preconditionFailures >= 1, 'the replicas never raced for the same key');
  const lines = allLines(objects);
  const counts = tally(lines.map((l) => (JSON.parse(l) as { uid: string }).uid));
  assert.deepEqual([...counts].filter(([, n]) => n !== 1), []);
  assert.equal(counts.size, inputs.size);
  // Each object is one replica's events, in the order that replica received them.
  for (const body of objects.values()) {
    const uids = body.trimEnd().split('\n').map((l) => (JSON.parse(l) as { uid: string }).uid);
    const side = uids[0].split('-')[0];
    assert.equal(body, uids.map((u) => {
      assert.equal(u.split('-')[0], side, 'an object mixes both replicas');
      return fluentdLine(inputs.get(u)!);
    }).join(''));
  }
  t.diagnostic(`${keys.length} objects, ${lines.length} lines, ${proxy.preconditionFailures} × 412`);
});
