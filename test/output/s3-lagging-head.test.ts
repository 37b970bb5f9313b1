// Issue 12.1: a 412 means "the key is taken". A HEAD after it that cannot
// tell (404 from a store whose reads lag its writes, 403, no answer) must not
// stall the chunk: it lands under the next index, once, and the object that
// held the key is never overwritten. Real s3rver behind a real HTTP proxy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RVER_KEY, type TestS3 } from '../support/s3.ts';
import { proxiedS3World } from '../support/world.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { newS3Output, seedMatch } from '../support/s3-plugin.ts';
import { ObjectUploader, storeAsTypes } from '../../src/output/s3-upload.ts';
import { Strftime } from '../../src/time/strftime.ts';
import { localZone } from '../../src/time/zone.ts';

const BUCKET = 'audit';
const TIMEKEY = 1700000000 - (1700000000 % 60);
const SLICE = new Strftime('%Y%m%d%H%M%S').format(TIMEKEY, 0, localZone());
const key = (i: number): string => `teleport/logs${SLICE}_${i}.gz`;
const CONF_EXTRA = 'time_slice_format %Y%m%d%H%M%S';

async function setup(t: import('node:test').TestContext) {
  const { s3, proxy, dir } = await proxiedS3World(t, [BUCKET], 'ar-s3-lag-');
  // Another writer's object already holds index 0.
  await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key(0), Body: gzipSync('{"uid":"other"}\n') }));
  return { s3, proxy, dir };
}

async function bodies(s3: TestS3): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const k of await s3.listKeys(BUCKET)) out.set(k, gunzipSync((await s3.getObject(BUCKET, k)).body).toString());
  return out;
}

function uploader(endpoint: string, probeTimeoutMs?: number): { up: ObjectUploader; client: S3Client } {
  const client = new S3Client({
    endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  const up = new ObjectUploader({
    client, bucket: BUCKET, storeAs: storeAsTypes.gzip!, objectOptions: {},
    multipartThreshold: 16 << 20, partSize: 5 << 20, queueSize: 1, probeTimeoutMs,
  });
  return { up, client };
}

test('lagging store: HEADs answer 404 for a key that exists → 412 → next index, once, nothing overwritten', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const { output, logs } = newS3Output(seedMatch(proxy.endpoint, BUCKET, CONF_EXTRA));
  await output.start();
  t.after(() => output.stop());
  proxy.answerHeads(404);
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"a"}\n', '{"uid":"b"}\n']);
  await output.write(chunk); // used to throw NotFound here, on every retry
  assert.equal(proxy.preconditionFailures, 1);
  assert.deepEqual([...(await bodies(s3)).entries()], [
    [key(0), '{"uid":"other"}\n'],
    [key(1), '{"uid":"a"}\n{"uid":"b"}\n'],
  ]);
  assert.equal(chunk.storedAttributes().s3_key, key(1));
  assert.equal(logs.filter((l) => l.msg.includes(`${key(0)} was written by another writer`)).length, 1);
});

test('the HEAD after a 412 answers 403: the key counts as taken (no throw, no overwrite)', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const { up, client } = uploader(proxy.endpoint);
  t.after(() => client.destroy());
  proxy.answerHeads(403);
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"a"}\n']);
  assert.equal(await up.upload(chunk, key(0), true), 'taken');
  assert.equal(proxy.preconditionFailures, 1);
  assert.deepEqual([...(await bodies(s3)).entries()], [[key(0), '{"uid":"other"}\n']]);
});

test('the HEAD after a 412 never answers: the probe is bounded and the key counts as taken', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const { up, client } = uploader(proxy.endpoint, 300);
  t.after(() => client.destroy());
  proxy.answerHeads('hang');
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"a"}\n']);
  assert.equal(await up.upload(chunk, key(0), true), 'taken');
  assert.deepEqual([...(await bodies(s3)).entries()], [[key(0), '{"uid":"other"}\n']]);
  proxy.answerHeads(undefined);
  // With an honest HEAD the same body is still recognised as our own.
  const own = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"uid":"other"}\n']);
  assert.equal(await up.upload(own, key(0), true), 'ours');
});
