// Where chunks live: the file buffer (persistent, resumable) or memory. The
// scheduler in buffered-output.ts only talks to this interface.

import { mkdir } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { ChunkMetadata } from '../plugin-api.ts';
import type { BufferChunk } from './chunk.ts';

export interface ResumedChunks {
  readonly staged: BufferChunk[];
  readonly queued: BufferChunk[];
}

export interface ChunkStorage {
  /** Survives restarts (flush_at_shutdown defaults to false when true). */
  readonly persistent: boolean;
  /** The directory the chunk files are in (file buffer), for the shutdown line. */
  readonly location?: string;
  start(): Promise<ResumedChunks>;
  createChunk(metadata: ChunkMetadata, metadataKey: string): BufferChunk;
  /** Evacuates a chunk's files before the queue is cleared on retry limit (buf_file#evacuate_chunk). */
  evacuate(chunk: BufferChunk): Promise<void>;
}

/** Stage-map key of a metadata triple; variables sorted so key order never splits a chunk. */
export function metadataKeyOf(m: ChunkMetadata): string {
  let key = `${m.timekey ?? ''}\u0000${m.tag ?? ''}`;
  if (m.variables) {
    const names = Object.keys(m.variables).sort();
    for (const n of names) key += `\u0000${n}=${m.variables[n]}`;
  }
  return key;
}

export interface BackupLocation {
  /** Fluentd: system root_dir, else $FLUENT_BACKUP_DIR, else /tmp/fluent. */
  readonly baseDir: string;
  readonly workerId: number;
  /** plugin @id (safe_owner_id applied here). */
  readonly ownerId: string;
}

export function safeOwnerId(id: string): string {
  return id.replace(/[ "/\\:;|*<>?]/g, '_');
}

/**
 * Buffer#backup (docs/compatibility.md §8): an unrecoverable chunk's formatted bytes go to
 * `<base>/backup/worker<N>/<owner>/<hex>.log` with Fluentd's warn line.
 */
export async function backupChunk(chunk: BufferChunk, where: BackupLocation, log: Logger): Promise<string> {
  const file = join(where.baseDir, 'backup', `worker${where.workerId}`, safeOwnerId(where.ownerId), `${chunk.idHex}.log`);
  log.warn(`bad chunk is moved to ${file}`);
  await mkdir(join(file, '..'), { recursive: true, mode: 0o755 });
  await pipeline(chunk.open(), createWriteStream(file, { flags: 'a', mode: 0o644 }));
  return file;
}
