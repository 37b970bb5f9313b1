// Issue 5 "No duplicates, ever": the key is fixed per chunk before the first
// PUT and reused by retries (also across a restart); concurrent flushes and
// replicas never overwrite each other. AWS-like If-None-Match comes from the
// conditional proxy in front of s3rver (s3rver itself ignores the header).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { type TestS3 } from '../support/s3.ts';
import { proxiedS3World } from '../support/world.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { newS3Output, seedMatch } from '../support/s3-plugin.ts';
import { Strftime } from '../../src/time/strftime.ts';
import { localZone } from '../../src/time/zone.ts';

const BUCKET = 'audit';
const TIMEKEY = 1700000000 - (1700000000 % 60);
const SLICE = new Strftime('%Y%m%d%H%M%S').format(TIMEKEY, 0, localZone());
const key = (i: number): string => `teleport/logs${SLICE}_${i}.gz`;
const CONF_EXTRA = 'time_slice_format %Y%m%d%H%M%S';

async function setup(t: import('node:test').TestContext, proxyOptions?: { enforce?: boolean }) {
  const { s3, proxy, dir } = await proxiedS3World(t, [BUCKET], 'ar-s3-dup-', proxyOptions);
  return { s3, proxy, dir };
}

async function bodies(s3: TestS3): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await s3.listKeys(BUCKET)) out.set(k, gunzipSync((await s3.getObject(BUCKET, k)).body).toString());
  return out;
}

test('PUT stored but its answer lost: the SDK retry gets 412, sees its own ETag, no second object', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const { output, logs } = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  await output.start();
  t.after(() => output.stop());
  proxy.dropPutResponse(1);
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"a"}\n', '{"uid":"b"}\n']);
  await output.write(chunk);
  assert.equal(proxy.droppedResponses, 1);
  assert.equal(proxy.preconditionFailures, 1);
  assert.deepEqual([...(await bodies(s3)).keys()], [key(0)]);
  assert.equal(chunk.storedAttributes().s3_key, key(0));
  assert.ok(logs.some((l) => l.msg.includes('already holds chunk')));
});

test('every answer lost, then a restart: the persisted key is reused (store ignoring If-None-Match)', async (t) => {
  const { s3, proxy, dir } = await setup(t, { enforce: false });
  const first = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  await first.output.start();
  for (let n = 1; n <= 3; n++) proxy.dropPutResponse(n); // every SDK attempt (maxAttempts 3)
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"a"}\n']);
  await assert.rejects(first.output.write(chunk));
  await first.output.stop();
  assert.equal(proxy.objectPuts, 3);
  assert.deepEqual(await s3.listKeys(BUCKET), [key(0)]);

  // "Restart": a new plugin instance and the chunk read back from disk.
  const second = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  await second.output.start();
  t.after(() => second.output.stop());
  const resumed = await DiskChunk.reopen(dir, chunk.idHex);
  assert.equal(resumed.attribute('s3_key'), key(0));
  await second.output.write(resumed);
  assert.equal(resumed.attributeWrites, 0); // no new key was picked
  assert.deepEqual([...(await bodies(s3)).entries()], [[key(0), '{"uid":"a"}\n']]);
});

test('every answer lost, then a retry, through an AWS-like store: 412 + same ETag = done', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const { output } = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  await output.start();
  t.after(() => output.stop());
  proxy.dropPutResponse(1);
  proxy.dropPutResponse(2);
  proxy.dropPutResponse(3);
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"a"}\n']);
  await output.write(chunk); // attempt 1 stored + lost, attempt 2 → 412 (proxy answers itself)
  await output.write(chunk); // a buffer-level retry of the same chunk
  assert.deepEqual([...(await bodies(s3)).keys()], [key(0)]);
  assert.equal(chunk.attributeWrites, 2); // s3_index + s3_key, once
});

test('two replicas probe the same free index: conditional PUT keeps both objects', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const a = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  const b = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  await a.output.start();
  await b.output.start();
  t.after(async () => {
    await a.output.stop();
    await b.output.stop();
  });
  proxy.gateHeads(2); // both HEADs of `_0` answer 404 together
  const ca = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"from-a"}\n']);
  const cb = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"from-b"}\n']);
  await Promise.all([a.output.write(ca), b.output.write(cb)]);
  assert.equal(proxy.preconditionFailures, 1);
  const got = await bodies(s3);
  assert.deepEqual([...got.keys()], [key(0), key(1)]);
  assert.deepEqual([...got.values()].sort(), ['{"uid":"from-a"}\n', '{"uid":"from-b"}\n']);
  const loser = [...a.logs, ...b.logs].filter((l) => l.msg.includes('was written by another writer'));
  assert.equal(loser.length, 1);
});

test('concurrent flushes in one instance reserve distinct indexes (no HEAD race)', async (t) => {
  const { s3, dir } = await setup(t);
  const { output } = newS3Output(seedMatch(s3.endpoint, BUCKET, CONF_EXTRA));
  await output.start();
  t.after(() => output.stop());
  const chunks = await Promise.all([0, 1, 2, 3, 4].map((i) => DiskChunk.create(dir, { timekey: TIMEKEY }, [`{"uid":"${i}"}\n`])));
  await Promise.all(chunks.map((c) => output.write(c)));
  const got = await bodies(s3);
  assert.deepEqual([...got.keys()], [0, 1, 2, 3, 4].map(key));
  assert.deepEqual([...got.values()].sort(), chunks.map((_, i) => `{"uid":"${i}"}\n`));
});

test('a format without %{index} whose key is taken: duplicated path error, or overwrite with a warning', async (t) => {
  const { s3, dir } = await setup(t);
  const fixed = 's3_object_key_format %{path}/fixed.%{file_extension}';
  const { output } = newS3Output(seedMatch(s3.endpoint, BUCKET, fixed));
  await output.start();
  t.after(() => output.stop());
  await output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"n":1}\n']));
  await assert.rejects(output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"n":2}\n'])),
    (err: Error & { code?: string }) => err.code === 'AR_S3_DUPLICATED_PATH' &&
      err.message.includes('duplicated path is generated. use %{index} in s3_object_key_format: path = teleport/logs/fixed.gz'));

  const over = newS3Output(seedMatch(s3.endpoint, BUCKET, `${fixed}\n  overwrite true`));
  await over.output.start();
  t.after(() => over.output.stop());
  await over.output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"n":3}\n']));
  assert.ok(over.logs.some((l) => l.level === 40 && l.msg === 'teleport/logs/fixed.gz already exists, but will overwrite'));
  assert.deepEqual([...(await bodies(s3)).entries()], [['teleport/logs/fixed.gz', '{"n":3}\n']]);
});
