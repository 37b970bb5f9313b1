// Large chunks stream through gzip into a multipart upload with bounded
// memory; the completion is conditional and a lost completion answer is
// recognised by the multipart ETag (or the whole-body MD5 on s3rver).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { Writable, type Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { S3RVER_KEY } from '../support/s3.ts';
import { proxiedS3World } from '../support/world.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { newS3Output, seedMatch } from '../support/s3-plugin.ts';
import { ObjectUploader, storeAsTypes } from '../../src/output/s3-upload.ts';
import { PartHasher } from '../../src/output/s3-body.ts';

const BUCKET = 'audit';
const TIMEKEY = 1700000000 - (1700000000 % 60);
const MiB = 1024 * 1024;

async function setup(t: import('node:test').TestContext) {
  const { s3, proxy, dir } = await proxiedS3World(t, [BUCKET], 'ar-s3-mp-');
  return { s3, proxy, dir };
}

function sha256Sink(): { sink: Writable; digest: () => string } {
  const h = createHash('sha256');
  const sink = new Writable({ write(c: Buffer, _e, done) { h.update(c); done(); } });
  return { sink, digest: () => h.digest('hex') };
}

async function fileSha256(path: string): Promise<string> {
  const s = sha256Sink();
  await pipeline(createReadStream(path), s.sink);
  return s.digest();
}

// Random hex compresses about 2:1, so 40 MB of lines still needs several 8 MiB parts after gzip.
const line = (i: number): string => `{"uid":"${i}","pad":"${randomBytes(48).toString('hex')}"}\n`;

test('a ~40 MB chunk goes multipart through gzip with bounded memory', async (t) => {
  const { s3, proxy, dir } = await setup(t);
  const chunk = await DiskChunk.createLarge(dir, { timekey: TIMEKEY }, 40 * MiB, line);
  const { output } = newS3Output(seedMatch(proxy.endpoint, BUCKET, 's3_object_key_format %{path}/big_%{index}.%{file_extension}'));
  await output.start();
  t.after(() => output.stop());

  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  try {
    await output.write(chunk);
  } finally {
    clearInterval(sampler);
  }
  assert.ok(proxy.requests.some((r) => r.startsWith('POST /audit/teleport/logs/big_0.gz?uploads')), 'CreateMultipartUpload');
  assert.ok(proxy.requests.filter((r) => r.includes('partNumber=')).length >= 2, 'several parts');
  // Loose: whole-chunk buffering would hold the 40 MB plus its gzip copy plus SDK copies.
  assert.ok(peak - before < 150 * MiB, `rss grew by ${Math.round((peak - before) / MiB)} MiB`);

  const got = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'teleport/logs/big_0.gz' }));
  assert.equal(got.ContentType, 'application/x-gzip');
  const s = sha256Sink();
  await pipeline(got.Body as Readable, createGunzip(), s.sink);
  assert.equal(s.digest(), await fileSha256(chunk.dataPath));
});

test('conditional multipart completion: same body → ours, other body → taken', async (t) => {
  const { proxy, dir } = await setup(t);
  const client = new S3Client({
    endpoint: proxy.endpoint, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  t.after(() => client.destroy());
  const uploader = new ObjectUploader({
    client, bucket: BUCKET, storeAs: storeAsTypes.text, objectOptions: { StorageClass: 'STANDARD' },
    multipartThreshold: 1 * MiB, partSize: 5 * MiB, queueSize: 2,
  });
  const a = await DiskChunk.createLarge(dir, { timekey: TIMEKEY }, 12 * MiB, line);
  const b = await DiskChunk.createLarge(dir, { timekey: TIMEKEY }, 12 * MiB, line);
  assert.equal(await uploader.upload(a, 'k/mp.txt', true), 'written');
  assert.equal(await uploader.upload(a, 'k/mp.txt', true), 'ours');
  assert.equal(await uploader.upload(b, 'k/mp.txt', true), 'taken');
  assert.ok(proxy.preconditionFailures >= 2);
  // Small chunks: the single-PUT path answers the same way.
  const small = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"x":1}\n']);
  const other = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"x":2}\n']);
  assert.equal(await uploader.upload(small, 'k/s.txt', true), 'written');
  assert.equal(await uploader.upload(small, 'k/s.txt', true), 'ours');
  assert.equal(await uploader.upload(other, 'k/s.txt', true), 'taken');
});

for (const c of [
  { name: 'one part', sizes: [100], part: 1000 },
  { name: 'exact multiple of the part size', sizes: [1000, 1000], part: 1000 },
  { name: 'parts split across writes', sizes: [300, 900, 1200, 1], part: 1000 },
]) {
  test(`PartHasher ETag: ${c.name}`, async () => {
    const data = c.sizes.map((n) => randomBytes(n));
    const all = Buffer.concat(data);
    const h = new PartHasher(c.part);
    for (const d of data) h.update(d);
    h.finish();
    const whole = `"${createHash('md5').update(all).digest('hex')}"`;
    const parts: Buffer[] = [];
    for (let o = 0; o < all.length; o += c.part) parts.push(createHash('md5').update(all.subarray(o, o + c.part)).digest());
    const expected = parts.length === 1
      ? [whole]
      : [`"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}"`, whole];
    assert.deepEqual(h.etags(), expected);
  });
}
