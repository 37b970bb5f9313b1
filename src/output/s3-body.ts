// The body of a large object as a series of buffers, with as little garbage
// as the stages allow (issue 16): fs.ReadStream allocates a fresh buffer for
// every read, and V8 frees those only at a GC; with little JS allocation that
// is the one external memory starts after growing by 64 MiB. Reading a 256 MiB
// chunk that way raised RSS by 26 MiB with the file buffer's 64 KiB reads
// (bench/s3-multipart.bench.ts; a bare 1 MiB-read stream alone: +73 MiB).
// Here the chunk file is read into one reused buffer, and gzip gets the next
// read only once it has consumed the previous one.
//
// Contract of every generator here: a yielded buffer is valid until the next
// one is asked for (uploadStream copies it into a part before that).

import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { createGzip, type Gzip } from 'node:zlib';
import type { ChunkView } from '../plugin-api.ts';
import { S3OutputError } from './s3-errors.ts';

const READ_SIZE = 64 * 1024;

/** The chunk's formatted bytes: positional reads into one buffer, or the chunk's own stream. */
export async function* formattedBytes(chunk: ChunkView): AsyncGenerator<Buffer> {
  const file = chunk.formattedFile;
  if (file === undefined) {
    for await (const data of chunk.open()) yield data as Buffer;
    return;
  }
  const fh = await open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(READ_SIZE);
    for (let position = 0; position < chunk.byteSize;) {
      const { bytesRead } = await fh.read(buffer, 0, Math.min(READ_SIZE, chunk.byteSize - position), position);
      if (bytesRead === 0) {
        throw new S3OutputError('AR_S3_CHUNK_SHORT',
          `out_s3: ${file} ends at byte ${position} but chunk ${chunk.idHex} holds ${chunk.byteSize}; something truncated the buffer file`);
      }
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** `source` through one gzip stream (Node's zlib, default level: the bytes do not depend on how the input is cut). */
export async function* gzipped(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const gzip = createGzip();
  const feeding = feed(source, gzip);
  try {
    for await (const out of gzip) yield out as Buffer;
  } finally {
    gzip.destroy();
    await feeding;
  }
}

// Writes each buffer and waits for zlib to have consumed it (the write
// callback) before asking the source for the next, which may reuse it.
async function feed(source: AsyncIterable<Buffer>, gzip: Gzip): Promise<void> {
  try {
    for await (const data of source) await consumed(gzip, data);
    gzip.end();
  } catch (err) {
    gzip.destroy(err as Error);
  }
}

function consumed(gzip: Gzip, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const closed = (): void => reject(new Error('gzip stream closed'));
    gzip.once('close', closed);
    gzip.write(data, (err) => {
      gzip.off('close', closed);
      if (err) reject(err);
      else resolve();
    });
  });
}

/** `source` unchanged, every byte counted into `hasher`; the hasher is finished when the source ends. */
export async function* hashed(source: AsyncIterable<Buffer>, hasher: PartHasher): AsyncGenerator<Buffer> {
  for await (const data of source) {
    hasher.update(data);
    yield data;
  }
  hasher.finish();
}

/**
 * Computes the ETags the stored object can have: the body's MD5 for one part,
 * else MD5 of the concatenated part MD5s + `-N` (AWS, MinIO). uploadStream
 * cuts at exact multiples of partSize, so the part boundaries here are the
 * same ones. Stores that give multipart objects the plain body MD5 (s3rver)
 * are matched by the whole-body digest.
 */
export class PartHasher {
  readonly #partSize: number;
  readonly #partDigests: Buffer[] = [];
  #hash: Hash = createHash('md5');
  readonly #whole: Hash = createHash('md5');
  #wholeDigest = '';
  #inPart = 0;
  #total = 0;
  finished = false;

  constructor(partSize: number) {
    this.#partSize = partSize;
  }

  update(data: Buffer): void {
    for (let offset = 0; offset < data.length;) {
      if (this.#inPart === this.#partSize) {
        this.#partDigests.push(this.#hash.digest());
        this.#hash = createHash('md5');
        this.#inPart = 0;
      }
      const take = Math.min(this.#partSize - this.#inPart, data.length - offset);
      this.#hash.update(offset === 0 && take === data.length ? data : data.subarray(offset, offset + take));
      this.#inPart += take;
      offset += take;
    }
    this.#whole.update(data);
    this.#total += data.length;
  }

  finish(): void {
    this.#partDigests.push(this.#hash.digest());
    this.#wholeDigest = this.#whole.digest('hex');
    this.finished = true;
  }

  /** Valid once finish() ran. */
  etags(): string[] {
    const whole = `"${this.#wholeDigest}"`;
    if (this.#partDigests.length === 1) return [whole];
    const combined = createHash('md5').update(Buffer.concat(this.#partDigests)).digest('hex');
    return [`"${combined}-${this.#partDigests.length}"`, whole];
  }

  get byteCount(): number {
    return this.#total;
  }
}
