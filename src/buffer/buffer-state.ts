// The stage (one writable chunk per metadata), the queue, and the write
// batcher. Appends of one event-loop turn are joined and committed with one
// write per chunk (group commit); the promise an emit waits on settles only
// when that commit (data, then meta) is done — Fluentd's Buffer#write +
// FileChunk#commit, minus its per-event syscalls (docs/compatibility.md "deliberately differs").

import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { DiskFullBurst } from './disk-full.ts';
import type { BufferChunk } from './chunk.ts';
import type { ChunkStorage } from './storage.ts';
import type { BufferConfig } from './params.ts';
import { errorFields } from '../log.ts';

const gzipAsync = promisify(gzip);

/** The formatted lines appended to one chunk during one event-loop turn. */
export class Batch {
  readonly parts: string[] = [];
  bytes = 0;
  records = 0;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (err: unknown) => void;
  constructor() {
    this.done = new Promise<void>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
    // Every emit awaits its batches; this only stops an unawaited rejection from crashing the process.
    this.done.catch(() => {});
  }
}

export class BufferState {
  readonly stage = new Map<string, BufferChunk>();
  readonly queue: BufferChunk[] = [];
  /** Dequeued chunks being written to the output. */
  readonly inFlight = new Set<BufferChunk>();
  stageBytes = 0;
  /** Queued + in-flight bytes (Fluentd subtracts them only on purge). */
  queueBytes = 0;
  readonly cfg: BufferConfig;
  readonly storage: ChunkStorage;
  readonly log: Logger;
  /** Called when a chunk lands in the queue (wakes a flush worker). */
  onQueued: () => void = () => {};
  #pending = new Map<BufferChunk, Batch>();
  #scheduled = false;
  #running: Promise<void> | undefined;
  readonly #sealing = new Set<Promise<void>>();
  // Chunks join the queue in the order they were sealed, not the order their
  // last commits finish: a slice's chunks must reach the output in order.
  readonly #sealedOrder: BufferChunk[] = [];
  readonly #ready = new Set<BufferChunk>();
  readonly #diskFull: DiskFullBurst;
  readonly #runBound = (): void => {
    this.#running = this.#run();
  };

  constructor(cfg: BufferConfig, storage: ChunkStorage, log: Logger) {
    this.cfg = cfg;
    this.storage = storage;
    this.log = log;
    this.#diskFull = new DiskFullBurst(log);
  }

  /** Buffer#storable?: Fluentd compares against stage + queue bytes. */
  storable(): boolean {
    return this.cfg.totalLimitSize > this.stageBytes + this.queueBytes;
  }

  queueFull(): boolean {
    return this.queue.length >= this.cfg.queuedChunksLimitSize;
  }

  /** Buffer#chunk_size_full? on what the chunk holds once its pending batch commits. */
  chunkFull(c: BufferChunk): boolean {
    const t = this.cfg.chunk_full_threshold;
    return c.reservedBytes >= this.cfg.chunkLimitSize * t ||
      (this.cfg.chunk_limit_records !== undefined && c.reservedRecords >= this.cfg.chunk_limit_records * t);
  }

  append(chunk: BufferChunk, text: string, bytes: number): Batch {
    let batch = this.#pending.get(chunk);
    if (batch === undefined) {
      batch = new Batch();
      this.#pending.set(chunk, batch);
      if (!this.#scheduled && this.#running === undefined) {
        this.#scheduled = true;
        setImmediate(this.#runBound);
      }
    }
    batch.parts.push(text);
    batch.bytes += bytes;
    batch.records += 1;
    chunk.reservedBytes += bytes;
    chunk.reservedRecords += 1;
    this.stageBytes += bytes;
    return batch;
  }

  /** Takes `chunk` off the stage; it joins the queue once its pending bytes are committed. */
  requestEnqueue(chunk: BufferChunk): void {
    if (chunk.sealed) return;
    chunk.sealed = true;
    if (this.stage.get(chunk.metadataKey) === chunk) this.stage.delete(chunk.metadataKey);
    this.#sealedOrder.push(chunk);
    if (!chunk.writing && !this.#pending.has(chunk)) this.#track(this.#finishEnqueue(chunk));
  }

  /** Buffer#enqueue_all: `filter` decides per staged chunk; stops at queued_chunks_limit_size unless forced. */
  enqueueAll(filter: ((c: BufferChunk) => boolean) | undefined, force: boolean): void {
    for (const chunk of [...this.stage.values()]) {
      if (!force && this.queueFull()) return;
      if (filter === undefined || filter(chunk)) this.requestEnqueue(chunk);
    }
  }

  /** Resolves when every pending append is committed and every sealed chunk is queued. */
  async settle(): Promise<void> {
    while (this.#running !== undefined || this.#scheduled || this.#pending.size > 0 || this.#sealing.size > 0) {
      if (this.#running) await this.#running;
      else if (this.#sealing.size > 0) await Promise.all(this.#sealing);
      else await new Promise((r) => setImmediate(r));
    }
  }

  dequeue(): BufferChunk | undefined {
    const chunk = this.queue.shift();
    if (chunk) this.inFlight.add(chunk);
    return chunk;
  }

  /** Buffer#takeback_chunk: back to the head of the queue for the retry. */
  takeback(chunk: BufferChunk): void {
    if (!this.inFlight.delete(chunk)) return;
    this.queue.unshift(chunk);
  }

  async purge(chunk: BufferChunk): Promise<void> {
    this.inFlight.delete(chunk);
    const i = this.queue.indexOf(chunk);
    if (i >= 0) this.queue.splice(i, 1);
    this.queueBytes -= chunk.byteSize;
    await chunk.purge();
  }

  /** Puts a resumed chunk on the stage, or straight in the queue (buf_file#resume rule). */
  async restore(staged: readonly BufferChunk[], queued: readonly BufferChunk[]): Promise<void> {
    const toQueue = [...queued];
    for (const c of staged) {
      if (this.stage.has(c.metadataKey) || this.chunkFull(c)) {
        c.sealed = true;
        await c.enqueue();
        toQueue.push(c);
      } else {
        this.stage.set(c.metadataKey, c);
        this.stageBytes += c.reservedBytes;
      }
    }
    toQueue.sort((a, b) => a.modifiedAt - b.modifiedAt);
    for (const c of toQueue) {
      c.sealed = true;
      this.queue.push(c);
      this.queueBytes += c.byteSize;
    }
  }

  #track(p: Promise<void>): void {
    this.#sealing.add(p);
    void p.finally(() => this.#sealing.delete(p));
  }

  async #run(): Promise<void> {
    this.#scheduled = false;
    try {
      while (this.#pending.size > 0) {
        const batches = this.#pending;
        this.#pending = new Map();
        const commits: Promise<void>[] = [];
        for (const [chunk, batch] of batches) commits.push(this.#commit(chunk, batch));
        await Promise.all(commits);
      }
    } finally {
      this.#running = undefined;
      if (this.#pending.size > 0 && !this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#runBound);
      }
    }
  }

  async #commit(chunk: BufferChunk, batch: Batch): Promise<void> {
    chunk.writing = true;
    const before = chunk.byteSize;
    try {
      let data = Buffer.from(batch.parts.length === 1 ? batch.parts[0] : batch.parts.join(''), 'utf8');
      if (chunk.compressed) data = await gzipAsync(data);
      await chunk.commit(data, batch.records);
      // Stage accounting switches from formatted to stored bytes (differs with compress gzip).
      this.stageBytes += chunk.byteSize - before - batch.bytes;
      chunk.reservedBytes += chunk.byteSize - before - batch.bytes;
      this.#diskFull.accepted();
      batch.resolve();
    } catch (err) {
      chunk.reservedBytes -= batch.bytes;
      chunk.reservedRecords -= batch.records;
      this.stageBytes -= batch.bytes;
      if (!this.#diskFull.refused(err)) this.log.error({ chunk_id: chunk.idHex, ...errorFields(err) }, 'failed to write data into buffer chunk');
      batch.reject(err);
    } finally {
      chunk.writing = false;
    }
    if (chunk.sealed) {
      if (!this.#pending.has(chunk)) await this.#finishEnqueue(chunk);
    } else if (this.cfg.resolvedFlushMode === 'immediate' || this.chunkFull(chunk)) {
      this.requestEnqueue(chunk);
    }
  }

  async #finishEnqueue(chunk: BufferChunk): Promise<void> {
    this.stageBytes -= chunk.reservedBytes;
    if (chunk.byteSize === 0) {
      // Buffer#enqueue_chunk: an empty chunk is closed, not queued.
      await chunk.close().catch(() => {});
      this.#sealedOrder.splice(this.#sealedOrder.indexOf(chunk), 1);
      this.#moveReady();
      return;
    }
    try {
      await chunk.enqueue();
    } catch (err) {
      // Fluentd raises "can't enqueue buffer file"; the chunk still goes to the queue
      // under its staged name so its data is delivered.
      this.log.error({ chunk_id: chunk.idHex, ...errorFields(err) }, "can't enqueue buffer file");
    }
    this.#ready.add(chunk);
    this.#moveReady();
  }

  #moveReady(): void {
    let moved = false;
    while (this.#sealedOrder.length > 0 && this.#ready.has(this.#sealedOrder[0])) {
      const c = this.#sealedOrder.shift()!;
      this.#ready.delete(c);
      this.queue.push(c);
      this.queueBytes += c.byteSize;
      moved = true;
    }
    if (moved) this.onQueued();
  }
}
