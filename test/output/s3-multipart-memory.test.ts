// Issue 16 (flat RSS while a big chunk uploads) by construction rather than by
// a timed measurement (that is bench/s3-multipart.bench.ts): the source's
// reused read buffer is copied before the next read, the part buffers come
// from a pool that allocates queueSize + 1 of them once, the part boundaries
// are lib-storage's, a refused part aborts the upload, and the real file
// buffer's chunk is read only up to its committed length.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RVER_KEY } from '../support/s3.ts';
import { proxiedS3World, type ProxiedS3World } from '../support/world.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { PartPool, uploadStream } from '../../src/output/s3-multipart.ts';
import { ObjectUploader, storeAsTypes } from '../../src/output/s3-upload.ts';
import { FileChunk } from '../../src/buffer/file-chunk.ts';

const BUCKET = 'audit';
const MiB = 1024 * 1024;

async function world(t: import('node:test').TestContext): Promise<ProxiedS3World & { client: S3Client }> {
  const w = await proxiedS3World(t, [BUCKET], 'ar-s3-mpmem-');
  const client = new S3Client({
    endpoint: w.proxy.endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  t.after(() => client.destroy());
  return { ...w, client };
}

async function objectBytes(client: S3Client, key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** `total` bytes through ONE buffer, rewritten for every yield (as formattedBytes does). */
async function* reusedBuffer(total: number, seed: number): AsyncGenerator<Buffer> {
  const buffer = Buffer.alloc(64 * 1024);
  for (let sent = 0, i = 0; sent < total; i++) {
    const n = Math.min(buffer.length - (i % 7) * 1000, total - sent);
    buffer.fill((seed + i) % 251, 0, n);
    buffer.writeUInt32BE(i, 0);
    sent += n;
    yield buffer.subarray(0, n);
    buffer.fill(0); // the consumer must have copied it by now
  }
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of source) out.push(Buffer.from(b));
  return Buffer.concat(out);
}

test('a reused source buffer is copied before the next read; the pool allocates queueSize + 1 parts once', async (t) => {
  const { client, proxy } = await world(t);
  const pool = new PartPool(5 * MiB, 3);
  const params = { Bucket: BUCKET, Key: 'mem/a.txt', ContentType: 'text/plain' };
  await uploadStream(reusedBuffer(23 * MiB, 1), params, { client, pool, queueSize: 2 });
  assert.equal(sha(await objectBytes(client, 'mem/a.txt')), sha(await collect(reusedBuffer(23 * MiB, 1))));
  assert.equal(proxy.requests.filter((r) => r.startsWith('PUT /audit/mem/a.txt?') && r.includes('partNumber=')).length, 5);
  assert.ok(pool.allocated <= 3, `allocated ${pool.allocated} part buffers for queueSize 2`);
  const first = pool.allocated;
  await uploadStream(reusedBuffer(23 * MiB, 2), { ...params, Key: 'mem/b.txt' }, { client, pool, queueSize: 2 });
  assert.equal(sha(await objectBytes(client, 'mem/b.txt')), sha(await collect(reusedBuffer(23 * MiB, 2))));
  assert.equal(pool.allocated, first, 'the second upload reuses the first one\'s buffers');
});

test('part boundaries: exactly one part is one PutObject, one byte more is two parts', async (t) => {
  const { client, proxy } = await world(t);
  const pool = new PartPool(5 * MiB, 2);
  await uploadStream(reusedBuffer(5 * MiB, 3), { Bucket: BUCKET, Key: 'mem/one.txt' }, { client, pool, queueSize: 1 });
  await uploadStream(reusedBuffer(5 * MiB + 1, 4), { Bucket: BUCKET, Key: 'mem/two.txt' }, { client, pool, queueSize: 1 });
  assert.deepEqual(proxy.requests.filter((r) => r.includes('/mem/one.txt')), ['PUT /audit/mem/one.txt?x-id=PutObject']);
  const two = proxy.requests.filter((r) => r.includes('/mem/two.txt'));
  assert.equal(two.filter((r) => r.includes('partNumber=')).length, 2, two.join('\n'));
  assert.equal((await objectBytes(client, 'mem/one.txt')).length, 5 * MiB);
  assert.equal(sha(await objectBytes(client, 'mem/two.txt')), sha(await collect(reusedBuffer(5 * MiB + 1, 4))));
});

test('a refused UploadPart fails the upload and aborts the multipart upload', async (t) => {
  const { client, proxy } = await world(t);
  proxy.answerParts(403);
  const pool = new PartPool(5 * MiB, 3);
  await assert.rejects(uploadStream(reusedBuffer(16 * MiB, 5), { Bucket: BUCKET, Key: 'mem/refused.txt' }, { client, pool, queueSize: 2 }),
    (err: Error) => err.name === 'AccessDenied');
  assert.ok(proxy.requests.some((r) => r.startsWith('DELETE /audit/mem/refused.txt?uploadId=')), proxy.requests.join('\n'));
  assert.ok(!proxy.requests.some((r) => r.startsWith('POST /audit/mem/refused.txt?uploadId=')), 'never completed');
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'mem/refused.txt' })), { name: 'NotFound' });
  // The same pool serves the next upload (its unsent buffer came back, the refused parts' did not).
  proxy.answerParts(undefined);
  await uploadStream(reusedBuffer(16 * MiB, 6), { Bucket: BUCKET, Key: 'mem/after.txt' }, { client, pool, queueSize: 2 });
  assert.equal(sha(await objectBytes(client, 'mem/after.txt')), sha(await collect(reusedBuffer(16 * MiB, 6))));
});

test('a file-buffer chunk is read up to its committed length; a compressed one through open()', async (t) => {
  const { client, dir } = await world(t);
  const uploader = new ObjectUploader({
    client, bucket: BUCKET, storeAs: storeAsTypes.gzip, objectOptions: {},
    multipartThreshold: 1, partSize: 5 * MiB, queueSize: 2,
  });
  const batches = [0, 1, 2].map(() => Buffer.from(`{"pad":"${randomBytes(1_500_000).toString('hex')}"}\n`));
  const plain = new FileChunk(randomBytes(16), { timekey: 60 }, 'k', join(dir, 'plain.log'), 0, { fsync: false, compressed: false, fileMode: 0o644 });
  t.after(() => plain.close());
  for (const b of batches) await plain.commit(b, 1);
  await appendFile(plain.path, 'a torn, never acknowledged tail');
  assert.equal(plain.formattedFile, plain.path);
  assert.equal(await uploader.upload(plain, 'fc/plain.gz', true), 'written');
  assert.equal(sha(gunzipSync(await objectBytes(client, 'fc/plain.gz'))), sha(Buffer.concat(batches)));

  const packed = new FileChunk(randomBytes(16), { timekey: 60 }, 'k', join(dir, 'packed.log'), 0, { fsync: false, compressed: true, fileMode: 0o644 });
  t.after(() => packed.close());
  for (const b of batches) await packed.commit(gzipSync(b), 1);
  assert.equal(packed.formattedFile, undefined);
  assert.equal(await uploader.upload(packed, 'fc/packed.gz', true), 'written');
  assert.equal(sha(gunzipSync(await objectBytes(client, 'fc/packed.gz'))), sha(Buffer.concat(batches)));
});

test('a buffer file shorter than its chunk says fails with AR_S3_CHUNK_SHORT', async (t) => {
  const { client, dir } = await world(t);
  const uploader = new ObjectUploader({
    client, bucket: BUCKET, storeAs: storeAsTypes.gzip, objectOptions: {},
    multipartThreshold: 1, partSize: 5 * MiB, queueSize: 2,
  });
  const chunk = await DiskChunk.createLarge(dir, { timekey: 60 }, 2 * MiB, (i) => `{"i":${i}}\n`);
  await truncate(chunk.dataPath, MiB);
  await assert.rejects(uploader.upload(chunk, 'short/x.gz', true), /AR_S3_CHUNK_SHORT/);
  await assert.rejects(client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'short/x.gz' })), { name: 'NotFound' });
});
