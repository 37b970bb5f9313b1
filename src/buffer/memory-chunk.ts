// buf_memory's chunk: committed batches kept as Buffers; nothing survives the
// process (hence flush_at_shutdown defaults to true for memory buffers).

import { Readable } from 'node:stream';
import type { ChunkMetadata } from '../plugin-api.ts';
import { BufferChunk } from './chunk.ts';

export class MemoryChunk extends BufferChunk {
  #parts: Buffer[] = [];

  constructor(id: Buffer, metadata: ChunkMetadata, metadataKey: string, createdAt: number, compressed: boolean) {
    super(id, metadata, metadataKey, createdAt, compressed);
  }

  async commit(data: Buffer, records: number): Promise<void> {
    this.#parts.push(data);
    this.committedBytes += data.length;
    this.committedRecords += records;
    this.modifiedAt = Math.floor(Date.now() / 1000);
  }

  async setAttribute(name: string, value: string): Promise<void> {
    this.attrs[name] = value;
  }

  async enqueue(): Promise<void> {
    this.state = 'queued';
  }

  async purge(): Promise<void> {
    this.state = 'purged';
    this.#parts = [];
    this.committedBytes = 0;
    this.committedRecords = 0;
  }

  async close(): Promise<void> {}

  protected async readStored(): Promise<Buffer> {
    return Buffer.concat(this.#parts);
  }

  protected openStored(): Readable {
    return Readable.from(this.#parts.slice());
  }
}
