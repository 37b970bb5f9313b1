// buf_memory (lib/fluent/plugin/buf_memory.rb): chunks in process memory,
// nothing to resume.

import type { ChunkMetadata } from '../plugin-api.ts';
import type { BufferChunk } from './chunk.ts';
import { generateChunkId } from './chunk-id.ts';
import { MemoryChunk } from './memory-chunk.ts';
import type { ChunkStorage, ResumedChunks } from './storage.ts';

export class MemoryBuffer implements ChunkStorage {
  readonly persistent = false;
  readonly #compressed: boolean;

  constructor(compressed: boolean) {
    this.#compressed = compressed;
  }

  async start(): Promise<ResumedChunks> {
    return { staged: [], queued: [] };
  }

  createChunk(metadata: ChunkMetadata, metadataKey: string): BufferChunk {
    return new MemoryChunk(generateChunkId(), metadata, metadataKey, Math.floor(Date.now() / 1000), this.#compressed);
  }

  async evacuate(): Promise<void> {}
}
