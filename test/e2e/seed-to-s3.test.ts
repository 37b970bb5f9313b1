// Issue 5 acceptance, end to end: the seed fluent.conf (certs, endpoint and
// credentials, buffer path and timekey changed only) over real mTLS, the file
// buffer on disk and s3rver over HTTP. Expected S3 lines are built from the
// input alone (harness.fluentdLine), never from our formatter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestReceiver } from '../support/receiver.ts';
import { e2eWorld } from '../support/world.ts';
import {
  allLines, eventSeconds, fixtureEvents, fluentdLine, isoAt, MtlsClient, seedConf, slice, waitFor,
} from './harness.ts';

const KEY_SHAPE = /^teleport\/logs\d{14}_\d+\.gz$/;

async function setup(t: import('node:test').TestContext, timekey: number, bufferExtra = '') {
  const { defer, certs, s3, dir } = await e2eWorld(t, 'ar-e2e-seed-');
  const bufferPath = join(dir, 'buffer', 's3-events');
  const r = await startTestReceiver(seedConf({ certs, endpoint: s3.endpoint, bufferPath, timekey, bufferExtra }), dir);
  defer(() => r.receiver.close());
  const client = new MtlsClient(r.port, certs);
  defer(() => client.close());
  return { s3, r, client, bufferPath };
}

/** Expected objects: input lines grouped by time slice, in arrival order. */
function expectBySlice(inputs: readonly string[], timekey: number): Map<string, string> {
  const bySlice = new Map<string, string>();
  for (const input of inputs) {
    const s = eventSeconds(input);
    const prefix = `teleport/logs${slice(s - (s % timekey))}`;
    bySlice.set(prefix, (bySlice.get(prefix) ?? '') + fluentdLine(input));
  }
  return bySlice;
}

/** Actual objects concatenated per slice, `_0`, `_1`, … in index order. */
function joinBySlice(objects: Map<string, string>): Map<string, string> {
  const bySlice = new Map<string, string>();
  for (const [key, body] of objects) {
    const prefix = key.replace(/_\d+\.gz$/, '');
    bySlice.set(prefix, (bySlice.get(prefix) ?? '') + body);
  }
  return bySlice;
}

async function postAll(client: MtlsClient, inputs: readonly string[]): Promise<void> {
  for (const input of inputs) {
    const a = await client.post('test.log', input);
    assert.equal(a.status, 200, a.body);
  }
}

test('seed config: fixture + generated events land as Fluentd lays them out, byte for byte, in order', async (t) => {
  const timekey = 60;
  const { s3, client, bufferPath } = await setup(t, timekey);
  const now = Math.floor(Date.now() / 1000);
  const minute = now - (now % 60);
  const generated: string[] = [];
  for (let i = 0; i < 120; i++) {
    // three closed minutes before the current one, several events per second
    const at = minute - 180 + Math.floor(i * 1.5);
    generated.push(JSON.stringify({
      cluster_name: 'teleport.example.com', code: 'T1000I', ei: i, event: 'user.login', method: 'local',
      success: true, time: isoAt(at), uid: `gen-${i}`, user: `user-${i % 7}`, user_agent: 'Mozilla/5.0 "e2e"',
    }));
  }
  const inputs = [...fixtureEvents(), ...generated];
  const started = Date.now();
  await postAll(client, inputs);
  const expected = expectBySlice(inputs, timekey);
  const objects = await waitFor('every slice in S3', async () => {
    const got = await s3.objects();
    return allLines(got).length >= inputs.length ? got : undefined;
  }, 15_000, 100);
  t.diagnostic(`${inputs.length} events, ${objects.size} objects, all in S3 ${Date.now() - started} ms after the first POST`);
  for (const key of objects.keys()) assert.match(key, KEY_SHAPE);
  assert.deepEqual(joinBySlice(objects), expected);
  assert.equal(allLines(objects).length, inputs.length);
  // Uploaded chunks leave nothing behind in the buffer directory.
  await waitFor('empty buffer dir', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 5_000);
});

test('different minutes → different slices; chunk_limit_size splits a slice into _0, _1, … in order', async (t) => {
  const timekey = 60;
  const { s3, client } = await setup(t, timekey, 'chunk_limit_size 1k');
  const now = Math.floor(Date.now() / 1000);
  const minute = now - (now % 60);
  const inputs: string[] = [];
  for (let i = 0; i < 40; i++) {
    const at = i < 30 ? minute - 120 + i : minute - 60 + i; // 30 in one minute, 10 in the next
    inputs.push(JSON.stringify({ event: 'session.command', i, pad: 'x'.repeat(120), time: isoAt(at), uid: `split-${i}` }));
  }
  await postAll(client, inputs);
  const objects = await waitFor('all events in S3', async () => {
    const got = await s3.objects();
    return allLines(got).length >= inputs.length ? got : undefined;
  }, 15_000, 100);
  const keys = [...objects.keys()];
  const first = `teleport/logs${slice(minute - 120)}`;
  const second = `teleport/logs${slice(minute - 60)}`;
  const firstKeys = keys.filter((k) => k.startsWith(first));
  const secondKeys = keys.filter((k) => k.startsWith(second));
  assert.equal(firstKeys.length + secondKeys.length, keys.length);
  // 30 lines of ~190 bytes in 1 KiB chunks: at least 6 objects, numbered from 0 without gaps.
  assert.ok(firstKeys.length >= 6, `first minute split into ${firstKeys.length} objects`);
  assert.deepEqual(firstKeys, firstKeys.map((_, i) => `${first}_${i}.gz`));
  assert.deepEqual(secondKeys, secondKeys.map((_, i) => `${second}_${i}.gz`));
  for (const body of objects.values()) assert.ok(Buffer.byteLength(body) <= 1024, `object of ${Buffer.byteLength(body)} bytes`);
  assert.deepEqual(joinBySlice(objects), expectBySlice(inputs, timekey));
  t.diagnostic(`slices: ${firstKeys.length} + ${secondKeys.length} objects`);
});

test('timekey_wait: a chunk is not uploaded before timekey + timekey_wait has passed', async (t) => {
  const timekey = 2;
  const wait = 2;
  const { s3, client } = await setup(t, timekey, `timekey_wait ${wait}\nflush_thread_interval 0.1`);
  const now = Math.floor(Date.now() / 1000);
  const input = JSON.stringify({ event: 'user.login', time: isoAt(now), uid: 'wait-1' });
  await postAll(client, [input]);
  const closesAt = (now - (now % timekey) + timekey + wait) * 1000;
  let firstSeen = 0;
  const objects = await waitFor('the object', async () => {
    const got = await s3.objects();
    if (got.size === 0) return undefined;
    firstSeen = Date.now();
    return got;
  }, (timekey + wait + 5) * 1000, 50);
  t.diagnostic(`uploaded ${firstSeen - closesAt} ms after timekey + timekey_wait`);
  assert.ok(firstSeen >= closesAt, `uploaded ${closesAt - firstSeen} ms too early`);
  assert.ok(firstSeen < closesAt + 3000, `uploaded ${firstSeen - closesAt} ms late`);
  assert.deepEqual([...objects], [[`teleport/logs${slice(now - (now % timekey))}_0.gz`, fluentdLine(input)]]);
});
