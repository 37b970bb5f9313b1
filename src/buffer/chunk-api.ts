// What a buffered output sees of a chunk, and what it must provide to the
// buffer. Fluentd's split: the buffer owns staging, timekeys, queueing, retries
// and recovery; the output only turns one chunk into one delivery
// (out_s3: one object). Formatting happens at append time, so a chunk holds
// the output's formatted bytes (e.g. JSON lines), as Fluentd's file chunks do.

import type { Readable } from 'node:stream';
import type { Formatter } from '../plugin-api.ts';

export interface ChunkMetadata {
  /** Start of the time window (unix seconds) when `time` is a chunk key. */
  readonly timekey?: number;
  /** The tag when `tag` is a chunk key. */
  readonly tag?: string;
  /** Values of record-key chunk keys, e.g. { sid: "…" }. */
  readonly variables?: Readonly<Record<string, string>>;
}

export interface ChunkView {
  /** 16-byte unique id, Fluentd's unique_id layout. */
  readonly id: Buffer;
  /** 32 lowercase hex chars of `id` (${chunk_id}, file names). */
  readonly idHex: string;
  readonly metadata: ChunkMetadata;
  readonly recordCount: number;
  readonly byteSize: number;
  readonly createdAt: number;
  /** Streams the formatted bytes (large chunks: bounded memory). */
  open(): Readable;
  /** All formatted bytes at once (small chunks). */
  read(): Promise<Buffer>;
  /**
   * Output-owned attributes that survive retries and restarts, stored in the
   * chunk's metadata (e.g. the S3 object key reserved before the first PUT).
   */
  attribute(name: string): string | undefined;
  /** Durably records an attribute before returning (write-then-rename). */
  setAttribute(name: string, value: string): Promise<void>;
}

/** How the buffer cuts chunks, for sinks that expand placeholders from a chunk's metadata. */
export interface ChunkKeyInfo {
  readonly chunkKeyTime: boolean;
  readonly chunkKeyTag: boolean;
  readonly recordKeys: readonly string[];
  readonly timekey: number | undefined;
  /** '+0000' with timekey_use_utc, else timekey_zone. */
  readonly timekeyZone: string;
}

/** The output half of a buffered output (out_s3, out_file, …). */
export interface ChunkSink {
  readonly formatter: Formatter;
  /** Called once by the BufferedOutput that drives this sink, with its chunk keys. */
  bind?(keys: ChunkKeyInfo): void;
  start?(): Promise<void>;
  /** Delivers one chunk; throws to have the buffer retry it with backoff. */
  write(chunk: ChunkView): Promise<void>;
  stop?(): Promise<void>;
}

/** Thrown by a sink for failures a retry cannot fix (chunk is backed up and dropped). */
export class UnrecoverableChunkError extends Error {
  override readonly name = 'UnrecoverableChunkError';
}
