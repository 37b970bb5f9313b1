// Multipart upload of a stream with a fixed set of reused part buffers
// (issue 16: RSS flat while a 256 MB chunk uploads).
//
// @aws-sdk/lib-storage, used before, assembles every part with Buffer.concat:
// one fresh 5 MiB buffer per part. A part lives for its whole request, so its
// buffer is promoted to V8's old generation and freed only by a mark-compact GC,
// which external memory alone starts once it has grown by 64 MiB since the last
// one (V8 kExternalAllocationSoftLimit). Here the
// bytes are copied into at most queueSize + 1 buffers that go back to a pool
// when their part is stored (bench/s3-multipart.bench.ts, 256 MiB chunk:
// arrayBuffers +16 MiB with a fresh buffer per part, +11 with the pool; the
// larger share of the old +39–42 MiB was the reads, see s3-body.ts).
//
// The requests are lib-storage's (same params on each command, same part
// boundaries at exact multiples of partSize, a body that fits in one part goes
// out as one PutObject, CRC32 part checksums when the client computes them,
// AbortMultipartUpload on failure), so the stored object and its ETag are unchanged.

import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type CompletedPart, type PutObjectCommandInput, type S3Client,
} from '@aws-sdk/client-s3';

/** Part buffers of one size, kept for the next part and the next upload. */
export class PartPool {
  readonly partSize: number;
  readonly #keep: number;
  readonly #free: Buffer[] = [];
  /** Buffers allocated so far (the rest of the takes were reuses). */
  allocated = 0;

  /** `keep`: how many idle buffers stay allocated (more are left to the GC). */
  constructor(partSize: number, keep: number) {
    this.partSize = partSize;
    this.#keep = keep;
  }

  take(): Buffer {
    const reused = this.#free.pop();
    if (reused) return reused;
    this.allocated++;
    return Buffer.allocUnsafeSlow(this.partSize);
  }

  give(buffer: Buffer): void {
    if (this.#free.length < this.#keep) this.#free.push(buffer);
  }

  get idle(): number {
    return this.#free.length;
  }
}

export interface MultipartOptions {
  readonly client: S3Client;
  readonly pool: PartPool;
  /** Parts sent at the same time; one more buffer fills meanwhile. */
  readonly queueSize: number;
}

type ObjectParams = Omit<PutObjectCommandInput, 'Body'> & { Bucket: string; Key: string };

/**
 * Uploads the bytes of `source` as one object: PutObject when they fit in one
 * part, else a multipart upload completed with `params` (so an IfNoneMatch
 * there makes the completion conditional). Throws the first failure, after
 * aborting the multipart upload.
 */
export async function uploadStream(source: AsyncIterable<Buffer>, params: ObjectParams, o: MultipartOptions): Promise<void> {
  const { client, pool } = o;
  const partSize = pool.partSize;
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let failure: { error: unknown } | undefined;
  let uploadId: string | undefined;
  let partNumber = 0;

  const send = async (buffer: Buffer, length: number): Promise<void> => {
    while (inFlight.size >= o.queueSize && !failure) await Promise.race(inFlight);
    if (failure) throw failure.error;
    uploadId ??= await createUpload(client, params);
    const number = ++partNumber;
    const request = client.send(new UploadPartCommand({
      ...params, ContentLength: undefined, UploadId: uploadId, Body: buffer.subarray(0, length), PartNumber: number,
    })).then((r) => {
      if (!r.ETag) throw new Error(`Part ${number} is missing ETag in UploadPart response. Missing Bucket CORS configuration for ETag header?`);
      parts.push({
        PartNumber: number, ETag: r.ETag,
        ChecksumCRC32: r.ChecksumCRC32, ChecksumCRC32C: r.ChecksumCRC32C, ChecksumCRC64NVME: r.ChecksumCRC64NVME,
        ChecksumSHA1: r.ChecksumSHA1, ChecksumSHA256: r.ChecksumSHA256,
      });
      pool.give(buffer); // only after the answer: the request no longer reads it
    }).catch((error: unknown) => {
      failure ??= { error };
    }).finally(() => inFlight.delete(request));
    inFlight.add(request);
  };

  let part = pool.take();
  let filled = 0;
  let ours = true; // `part` is not in any request: a failure may give it back
  try {
    for await (const data of source) {
      for (let offset = 0; offset < data.length;) {
        if (filled === partSize) { // full, and more bytes follow: it is not the last part
          await send(part, filled);
          part = pool.take();
          filled = 0;
        }
        const copied = data.copy(part, filled, offset, Math.min(data.length, offset + partSize - filled));
        filled += copied;
        offset += copied;
      }
    }
    if (partNumber === 0) {
      ours = false;
      await client.send(new PutObjectCommand({ ...params, Body: part.subarray(0, filled) }));
      pool.give(part);
      return;
    }
    await send(part, filled);
    ours = false;
    while (inFlight.size > 0) await Promise.race(inFlight);
    if (failure) throw failure.error;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await client.send(new CompleteMultipartUploadCommand({ ...params, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
  } catch (err) {
    if (ours) pool.give(part);
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined) {
      await client.send(new AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId }))
        .catch((abortError: unknown) => {
          if (err instanceof Error && err.cause === undefined) err.cause = abortError;
        });
    }
    throw err;
  }
}

async function createUpload(client: S3Client, params: ObjectParams): Promise<string> {
  const checksums = await client.config.requestChecksumCalculation();
  const created = await client.send(new CreateMultipartUploadCommand({
    ...params,
    ...(checksums === 'WHEN_SUPPORTED' ? { ChecksumAlgorithm: params.ChecksumAlgorithm ?? 'CRC32' } : {}),
  }));
  if (!created.UploadId) throw new Error(`CreateMultipartUpload of ${params.Key} returned no UploadId`);
  return created.UploadId;
}
