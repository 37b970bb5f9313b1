// An in-process s3rver on 127.0.0.1:<random port> over a temp directory, plus
// a plain S3 client to inspect what the plugin wrote. s3rver accepts any
// signature made with its fixed S3RVER/S3RVER keys.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { GetObjectCommand, HeadObjectCommand, ListObjectsCommand, S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error s3rver ships no type declarations
import S3rver from 's3rver';

export const S3RVER_KEY = 'S3RVER';

export interface TestS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly dir: string;
  readonly client: S3Client;
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType?: string; storageClass?: string; metadata?: Record<string, string>; etag?: string; contentEncoding?: string }>;
  close(): Promise<void>;
}

export async function startS3(buckets: readonly string[] = []): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'ar-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const addr = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  return {
    endpoint,
    port: addr.port,
    dir,
    client,
    async listKeys(bucket, prefix) {
      const keys: string[] = [];
      let marker: string | undefined;
      for (;;) {
        const out = await client.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
        for (const o of out.Contents ?? []) keys.push(o.Key!);
        if (!out.IsTruncated) break;
        marker = out.Contents?.at(-1)?.Key;
      }
      return keys.sort();
    },
    async getObject(bucket, key) {
      const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return {
        body: Buffer.from(await out.Body!.transformToByteArray()),
        contentType: out.ContentType,
        storageClass: head.StorageClass,
        metadata: out.Metadata,
        etag: out.ETag,
        contentEncoding: out.ContentEncoding,
      };
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
