// The buffer area's public surface.
export { BufferedOutput } from './buffered-output.ts';
export type { BufferedOutputOptions, BufferCounters, ChunkKeyInfo } from './buffered-output.ts';
export { UnrecoverableChunkError } from '../plugin-api.ts';
export type { ChunkMetadata, ChunkView, ChunkSink } from '../plugin-api.ts';
export { BufferError, BufferOverflowError, BufferChunkOverflowError } from './errors.ts';
export type { BufferErrorCode } from './errors.ts';
export { params as bufferParams, resolveBufferConfig } from './params.ts';
export type { BufferConfig, BufferDefaults, BufferParams } from './params.ts';
export { RetryState } from './retry-state.ts';
export type { RetryOptions } from './retry-state.ts';
export { generateChunkId, chunkIdHex } from './chunk-id.ts';
export { encodeMeta, decodeMeta } from './meta.ts';
export type { ChunkMeta } from './meta.ts';
export { buffered } from './buffered-plugin.ts';
export type { SinkClass } from './buffered-plugin.ts';
