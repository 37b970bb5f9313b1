// buf_file's chunk (buffer/file_chunk.rb, docs/compatibility.md §8): `<prefix>.b<hex><suffix>`
// holds the formatted bytes, `<...>.meta` Fluentd's meta map. Crash safety:
// data is written at the committed offset first, then the meta (with the new
// committed length and record count) replaces the old one by
// write-then-rename, and only then is the append acknowledged. Whatever
// instant the process dies, the meta on disk names a prefix of the data file
// that was fully written; resume cuts anything beyond it.
//
// Line records (JSON lines, the seed's format): every record ends with its only
// `\n`, so the data file alone tells what was committed — resume keeps the
// bytes up to the last `\n` and counts them. The per-batch meta rewrite (temp
// file + rename, measured at more than half of the seed pipeline's cost in
// bench/receiver) is then skipped; the meta is brought up to date when the chunk
// is enqueued, closed or gets an attribute. An acknowledged batch was fully
// written, so it always ends in `\n`; a batch torn by a crash loses its
// incomplete last line, and complete lines of an unacknowledged batch may be
// kept (at-least-once, never a loss).

import { open, rename, writeFile, copyFile, type FileHandle } from 'node:fs/promises';
import { BufferDiskFullError, isNoSpace } from './errors.ts';
import { createReadStream, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { ChunkMetadata } from '../plugin-api.ts';
import { BufferChunk } from './chunk.ts';
import { removeFile, type RemoveLog } from './remove-file.ts';
import { encodeMeta, type ChunkMeta } from './meta.ts';

/**
 * Batches up to this size are written with one synchronous pwrite, as Fluentd's
 * buf_file does (Ruby File#write): a page-cache write of a few KB costs ~1–3 µs
 * where the thread-pool round trip of fs/promises costs 10–45 µs of CPU and
 * wall time on a 2-core VM (bench/receiver profile: 19% of the seed
 * pipeline's busy time). Bigger batches, rare, keep the asynchronous write so a
 * slow disk cannot hold the event loop for long.
 */
const SYNC_WRITE_MAX = 256 * 1024;

export interface FileChunkOptions {
  readonly fsync: boolean;
  readonly compressed: boolean;
  readonly fileMode: number;
  /** Records end with their only `\n` (and the chunk is not compressed). */
  readonly lineRecords?: boolean;
  /** Where a failed unlink is reported (the file buffer's logger). */
  readonly log?: RemoveLog;
}

export class FileChunk extends BufferChunk {
  path: string;
  metaPath: string;
  readonly #opts: FileChunkOptions;
  #fh: FileHandle | undefined;
  /** Serialises meta rewrites (commit vs setAttribute). */
  #metaChain: Promise<void> = Promise.resolve();
  /** Line records: the meta on disk lags the data file (see the header). */
  #metaStale = false;

  constructor(
    id: Buffer,
    metadata: ChunkMetadata,
    metadataKey: string,
    path: string,
    createdAt: number,
    opts: FileChunkOptions,
  ) {
    super(id, metadata, metadataKey, createdAt, opts.compressed);
    this.path = path;
    this.metaPath = path + '.meta';
    this.#opts = opts;
  }

  /** A chunk found on disk at resume; `meta` already validated by the file buffer. */
  static restored(
    path: string,
    state: 'staged' | 'queued',
    meta: ChunkMeta,
    metadataKey: string,
    committedBytes: number,
    opts: FileChunkOptions,
  ): FileChunk {
    const c = new FileChunk(meta.id, meta.metadata, metadataKey, path, meta.createdAt, opts);
    c.state = state;
    c.modifiedAt = meta.modifiedAt;
    c.committedBytes = committedBytes;
    c.committedRecords = meta.records;
    c.reservedBytes = committedBytes;
    c.reservedRecords = meta.records;
    c.attrs = { ...meta.attributes };
    return c;
  }

  async commit(data: Buffer, records: number): Promise<void> {
    try {
      await this.#commit(data, records);
    } catch (err) {
      if (isNoSpace(err)) throw new BufferDiskFullError(this.path, err);
      throw err;
    }
  }

  async #commit(data: Buffer, records: number): Promise<void> {
    if (!this.#fh) {
      if (this.committedBytes === 0 && this.committedRecords === 0) {
        // Meta first (as FileChunk#create_new_chunk): a data file never exists without one.
        await this.#writeMeta(0, 0, this.modifiedAt);
        this.#fh = await open(this.path, 'wx', this.#opts.fileMode);
      } else {
        this.#fh = await open(this.path, 'r+');
      }
    }
    const fh = this.#fh;
    const at = this.committedBytes;
    try {
      let off = 0;
      while (off < data.length) {
        off += data.length <= SYNC_WRITE_MAX
          ? writeSync(fh.fd, data, off, data.length - off, at + off)
          : (await fh.write(data, off, data.length - off, at + off)).bytesWritten;
      }
      if (this.#opts.fsync) await fh.datasync();
      const now = Math.floor(Date.now() / 1000);
      if (this.#opts.lineRecords && !this.#opts.fsync) this.#metaStale = true;
      else await this.#writeMeta(at + data.length, this.committedRecords + records, now);
      this.committedBytes = at + data.length;
      this.committedRecords += records;
      this.modifiedAt = now;
    } catch (err) {
      // FileChunk#rollback: drop the uncommitted tail so the next batch starts clean.
      await fh.truncate(at).catch(() => {});
      throw err;
    }
  }

  async setAttribute(name: string, value: string): Promise<void> {
    this.attrs = { ...this.attrs, [name]: value };
    this.#metaStale = false; // the rewrite below carries the current length too
    await this.#writeMeta(this.committedBytes, this.committedRecords, this.modifiedAt);
  }

  /** Line records: write the exact meta the per-batch commits skipped. */
  async #syncStaleMeta(): Promise<void> {
    if (!this.#metaStale) return;
    this.#metaStale = false;
    await this.#writeMeta(this.committedBytes, this.committedRecords, this.modifiedAt);
  }

  async enqueue(): Promise<void> {
    await this.#closeHandle();
    await this.#syncStaleMeta();
    await this.#metaChain;
    const queuedPath = queuedPathOf(this.path, this.idHex);
    // Data first, then meta, as FileChunk#enqueued!; resume looks for the meta
    // under either state letter, so a crash between the renames loses nothing.
    await rename(this.path, queuedPath);
    await rename(this.metaPath, queuedPath + '.meta');
    this.path = queuedPath;
    this.metaPath = queuedPath + '.meta';
    this.state = 'queued';
  }

  async purge(): Promise<void> {
    await this.#closeHandle();
    await this.#metaChain.catch(() => {});
    this.state = 'purged';
    await removeFile(this.path, this.#opts.log, 'purging a flushed chunk');
    await removeFile(this.metaPath, this.#opts.log, 'purging a flushed chunk');
  }

  async close(): Promise<void> {
    await this.#closeHandle();
    await this.#syncStaleMeta().catch(() => {});
    await this.#metaChain.catch(() => {});
    if (this.committedBytes === 0 && this.state === 'staged') {
      // FileChunk#close: an empty chunk leaves nothing behind.
      await removeFile(this.path, this.#opts.log, 'closing an empty chunk');
      await removeFile(this.metaPath, this.#opts.log, 'closing an empty chunk');
    }
  }

  /** Copies data and meta into `dir` (buf_file's evacuate_chunk). */
  async copyTo(dir: string, baseName: (p: string) => string): Promise<void> {
    await copyFile(this.path, `${dir}/${baseName(this.path)}`);
    await copyFile(this.metaPath, `${dir}/${baseName(this.metaPath)}`).catch(() => {});
  }

  protected async readStored(): Promise<Buffer> {
    if (this.committedBytes === 0) return Buffer.alloc(0);
    const fh = await open(this.path, 'r');
    try {
      const out = Buffer.allocUnsafe(this.committedBytes);
      let off = 0;
      while (off < out.length) {
        const { bytesRead } = await fh.read(out, off, out.length - off, off);
        if (bytesRead === 0) break;
        off += bytesRead;
      }
      return off === out.length ? out : out.subarray(0, off);
    } finally {
      await fh.close();
    }
  }

  /** The data file, unless its bytes are compressed (its first byteSize bytes are committed). */
  get formattedFile(): string | undefined {
    return this.compressed ? undefined : this.path;
  }

  protected openStored(): Readable {
    // Only the committed prefix: bytes past it were never acknowledged.
    return createReadStream(this.path, { start: 0, end: Math.max(0, this.committedBytes - 1) });
  }

  async #closeHandle(): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (fh) await fh.close().catch(() => {});
  }

  #writeMeta(bytes: number, records: number, modifiedAt: number): Promise<void> {
    const next = this.#metaChain.catch(() => {}).then(() => this.#replaceMeta(bytes, records, modifiedAt));
    this.#metaChain = next;
    return next;
  }

  async #replaceMeta(bytes: number, records: number, modifiedAt: number): Promise<void> {
    const bin = encodeMeta({
      metadata: this.metadata,
      id: this.id,
      records,
      createdAt: this.createdAt,
      modifiedAt,
      committedBytes: bytes,
      lineRecords: this.#opts.lineRecords === true,
      attributes: this.attrs,
    });
    const tmp = this.metaPath + '.tmp';
    if (this.#opts.fsync) {
      const fh = await open(tmp, 'w', this.#opts.fileMode);
      try {
        await fh.writeFile(bin);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.metaPath);
      // The rename itself is only durable once the directory is synced.
      const dir = await open(dirname(this.metaPath), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
    } else {
      await writeFile(tmp, bin, { mode: this.#opts.fileMode });
      await rename(tmp, this.metaPath);
    }
  }
}

/** FileChunk.generate_queued_chunk_path. */
export function queuedPathOf(path: string, idHex: string): string {
  const staged = `.b${idHex}.`;
  return path.includes(staged) ? path.replace(staged, `.q${idHex}.`) : `${path}.q${idHex}.chunk`;
}
