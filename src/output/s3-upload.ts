// One chunk → one S3 object (docs/compatibility.md §9 "Upload"), with a conditional
// write so that nobody's object is ever replaced (issue 5 "No duplicates").
//
// Encodings are fluent-plugin-s3's compressors (out_s3.rb GzipCompressor,
// JsonCompressor, TextCompressor): the chunk's formatted bytes, gzip'ed or as
// they are, with the same Content-Type and extension.
//
// gzip deliberately differs in one header byte range: Node's zlib writes
// mtime 0 where Ruby's GzipWriter writes "now". That makes the body of a
// chunk byte-identical across retries, so its MD5 (and so the ETag S3
// returns) is a stable fingerprint: after a 412 we can tell "the object is
// the one this chunk already wrote" from "another writer took the key".

import { createHash } from 'node:crypto';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { HeadObjectCommand, PutObjectCommand, type PutObjectCommandInput, type S3Client } from '@aws-sdk/client-s3';
import type { ChunkView } from '../plugin-api.ts';
import { PartPool, uploadStream } from './s3-multipart.ts';
import { formattedBytes, gzipped, hashed, PartHasher } from './s3-body.ts';

const gzipAsync = promisify(gzip);

export interface StoreAs {
  readonly name: 'gzip' | 'json' | 'text';
  readonly extension: string;
  readonly contentType: string;
}

/** out_s3.rb COMPRESSOR_REGISTRY, the built-in three. */
export const storeAsTypes: Readonly<Record<string, StoreAs>> = {
  gzip: { name: 'gzip', extension: 'gz', contentType: 'application/x-gzip' },
  json: { name: 'json', extension: 'json', contentType: 'application/json' },
  text: { name: 'text', extension: 'txt', contentType: 'text/plain' },
};

/** Object options that ride on every PUT (storage class, SSE, ACL). */
export type ObjectOptions = Omit<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body' | 'ContentType' | 'ContentMD5' | 'IfNoneMatch'>;

export interface UploaderOptions {
  readonly client: S3Client;
  readonly bucket: string;
  readonly storeAs: StoreAs;
  readonly objectOptions: ObjectOptions;
  /** Chunks of at least this many (unencoded) bytes stream through multipart. */
  readonly multipartThreshold: number;
  readonly partSize: number;
  readonly queueSize: number;
  /** How long the HEAD after a 412 may take before the key counts as taken (ms). */
  readonly probeTimeoutMs?: number;
}

/** The HEAD after a 412 is bounded: a store that hangs must not stall a chunk. */
export const DEFAULT_PROBE_TIMEOUT_MS = 10_000;

/**
 * - `written`: this call created (or, unconditionally, replaced) the object;
 * - `ours`: the key was taken, and by this very body (an earlier attempt whose
 *   answer was lost): nothing more to do;
 * - `taken`: another writer's object holds the key: pick another one.
 */
export type UploadOutcome = 'written' | 'ours' | 'taken';

export class ObjectUploader {
  readonly #o: UploaderOptions;
  /** Part buffers kept for the next multipart chunk: one upload's worth. */
  readonly #parts: PartPool;

  constructor(o: UploaderOptions) {
    this.#o = o;
    this.#parts = new PartPool(o.partSize, o.queueSize + 1);
  }

  /** Uploads the chunk to `key`; `conditional` adds `If-None-Match: *`; `sent` learns the object's size. */
  async upload(chunk: ChunkView, key: string, conditional: boolean, sent?: (objectBytes: number) => void): Promise<UploadOutcome> {
    return chunk.byteSize < this.#o.multipartThreshold
      ? this.#putSingle(chunk, key, conditional, sent)
      : this.#putStreaming(chunk, key, conditional, sent);
  }

  async #putSingle(chunk: ChunkView, key: string, conditional: boolean, sent: ((n: number) => void) | undefined): Promise<UploadOutcome> {
    const raw = await chunk.read();
    const body = this.#o.storeAs.name === 'gzip' ? await gzipAsync(raw) : raw;
    const md5 = createHash('md5').update(body).digest();
    try {
      await this.#o.client.send(new PutObjectCommand({
        ...this.#o.objectOptions,
        Bucket: this.#o.bucket,
        Key: key,
        Body: body,
        ContentType: this.#o.storeAs.contentType,
        ContentMD5: md5.toString('base64'),
        IfNoneMatch: conditional ? '*' : undefined,
      }));
      sent?.(body.length);
      return 'written';
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      return this.#compareExisting(key, [`"${md5.toString('hex')}"`], sent);
    }
  }

  // Bounded memory: the chunk file is read into a reused buffer, gzip'ed and
  // copied into queueSize + 1 reused parts of partSize bytes (s3-body.ts,
  // s3-multipart.ts). The params ride on CompleteMultipartUpload too, so
  // IfNoneMatch makes the completion conditional (AWS S3 and MinIO honour it
  // there); a body that fits in one part goes out as a plain conditional PutObject.
  async #putStreaming(chunk: ChunkView, key: string, conditional: boolean, sent: ((n: number) => void) | undefined): Promise<UploadOutcome> {
    const hasher = new PartHasher(this.#o.partSize);
    const raw = formattedBytes(chunk);
    const body = this.#o.storeAs.name === 'gzip' ? gzipped(raw) : raw;
    try {
      await uploadStream(hashed(body, hasher), {
        ...this.#o.objectOptions,
        Bucket: this.#o.bucket,
        Key: key,
        ContentType: this.#o.storeAs.contentType,
        IfNoneMatch: conditional ? '*' : undefined,
      }, { client: this.#o.client, pool: this.#parts, queueSize: this.#o.queueSize });
      sent?.(hasher.byteCount);
      return 'written';
    } catch (err) {
      if (!isPreconditionFailed(err) || !hasher.finished) throw err;
      return this.#compareExisting(key, hasher.etags(), sent);
    }
  }

  // A 412 already says "the key is taken"; the HEAD only tells whether it is
  // taken by this very body. A HEAD that cannot tell (404 from a store whose
  // reads lag its writes, 403, a timeout, a reset) leaves "taken": the caller
  // reserves the next index. Never an overwrite, never a stall; at worst a
  // chunk whose earlier answer was lost lands twice under two indexes.
  async #compareExisting(key: string, expectedEtags: readonly string[], sent: ((n: number) => void) | undefined): Promise<UploadOutcome> {
    const timeout = this.#o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    try {
      const head = await this.#o.client.send(new HeadObjectCommand({ Bucket: this.#o.bucket, Key: key }),
        { abortSignal: AbortSignal.timeout(timeout) });
      if (head.ETag === undefined || !expectedEtags.includes(head.ETag)) return 'taken';
      if (head.ContentLength !== undefined) sent?.(head.ContentLength);
      return 'ours';
    } catch {
      return 'taken';
    }
  }
}

export function isPreconditionFailed(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'PreconditionFailed' || e?.$metadata?.httpStatusCode === 412;
}

export function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}
