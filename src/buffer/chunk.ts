// What both chunk kinds (file, memory) share: identity, committed counters,
// state, and the ChunkView read side with `compress gzip` undone on read
// (Fluentd's Compressable: each appended batch is one gzip member).

import { Readable } from 'node:stream';
import { createGunzip, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { ChunkMetadata, ChunkView } from '../plugin-api.ts';
import { chunkIdHex } from './chunk-id.ts';

const gunzipAsync = promisify(gunzip);

export type ChunkState = 'staged' | 'queued' | 'purged';

export abstract class BufferChunk implements ChunkView {
  readonly id: Buffer;
  readonly idHex: string;
  readonly metadata: ChunkMetadata;
  /** Grouping key of `metadata` (stage map key). */
  readonly metadataKey: string;
  readonly createdAt: number;
  readonly compressed: boolean;
  state: ChunkState = 'staged';
  modifiedAt: number;
  protected committedBytes = 0;
  protected committedRecords = 0;
  protected attrs: Record<string, string> = {};

  // Bookkeeping owned by BufferedOutput's write batcher: bytes/records appended
  // but not yet committed, so limits are checked against what the chunk WILL hold.
  reservedBytes = 0;
  reservedRecords = 0;
  /** No more appends: enqueue once the in-flight/pending writes are committed. */
  sealed = false;
  /** A commit is running for this chunk. */
  writing = false;

  constructor(id: Buffer, metadata: ChunkMetadata, metadataKey: string, createdAt: number, compressed: boolean) {
    this.id = id;
    this.idHex = chunkIdHex(id);
    this.metadata = metadata;
    this.metadataKey = metadataKey;
    this.createdAt = createdAt;
    this.modifiedAt = createdAt;
    this.compressed = compressed;
  }

  get recordCount(): number {
    return this.committedRecords;
  }

  /** Bytes as stored (compressed when `compress gzip`). */
  get byteSize(): number {
    return this.committedBytes;
  }

  attribute(name: string): string | undefined {
    return this.attrs[name];
  }

  async read(): Promise<Buffer> {
    const raw = await this.readStored();
    return this.compressed && raw.length > 0 ? gunzipAsync(raw) : raw;
  }

  open(): Readable {
    const stored = this.openStored();
    return this.compressed ? stored.pipe(createGunzip()) : stored;
  }

  /** Appends `data` (already compressed when `compressed`) holding `records` records, durably. */
  abstract commit(data: Buffer, records: number): Promise<void>;
  abstract setAttribute(name: string, value: string): Promise<void>;
  /** Staged → queued (file: rename b → q). */
  abstract enqueue(): Promise<void>;
  /** Deletes the chunk's storage. */
  abstract purge(): Promise<void>;
  /** Releases handles, keeps storage (shutdown without flush). */
  abstract close(): Promise<void>;
  /** Stored bytes (as on disk). */
  protected abstract readStored(): Promise<Buffer>;
  protected abstract openStored(): Readable;
}
