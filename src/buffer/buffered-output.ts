// A buffered output (output.rb's buffered half, docs/compatibility.md §8): emit formats
// each event with the sink's formatter at append time, groups events by chunk
// metadata (timekey, tag, record keys), appends them to the staged chunks and
// resolves once the bytes are committed. Chunks are enqueued per flush_mode
// and written to the ChunkSink by flush workers with Fluentd's retries.

import type { ConfigElement, SourcePos } from '../params/element.ts';
import type { Event, Output, PluginContext } from '../plugin-api.ts';
import { fieldOf } from '../value/record-field.ts';
import { JsonFloat } from '../value/json-value.ts';
import type { ChunkKeyInfo, ChunkMetadata, ChunkSink, SecondarySink, StoredReader } from '../plugin-api.ts';
import { createInterface } from 'node:readline';

export type { ChunkKeyInfo } from '../plugin-api.ts';
import type { BufferChunk } from './chunk.ts';
import { BufferState, type Batch } from './buffer-state.ts';
import { BufferChunkOverflowError, BufferError, BufferOverflowError } from './errors.ts';
import { FileBuffer } from './file-buffer.ts';
import { FlushLoop } from './flush-loop.ts';
import { MemoryBuffer } from './memory-buffer.ts';
import { chunkKeyInfoOf, resolveBufferConfig, type BufferConfig, type BufferDefaults } from './params.ts';
import { metadataKeyOf, type BackupLocation, type ChunkStorage } from './storage.ts';
import { TimekeyCalculator } from './timekey.ts';
import type { LatencyBuckets } from './latency.ts';
import { LogRing, type LoggedLine } from './log-ring.ts';
import type { Logger } from 'pino';

/** How long `overflow_action block` waits for space before failing the write anyway. */
const BLOCK_MAX_WAIT_MS = 30_000;
const BLOCK_POLL_MS = 50;

export interface BufferedOutputOptions extends BufferDefaults {
  /** The `<secondary>` output (out_file), used after retry_secondary_threshold and for unrecoverable errors. */
  readonly secondary?: SecondarySink;
  /** plugin @id: names the backup directory (Fluentd's safe_owner_id). */
  readonly pluginId?: string;
  /** Backup base directory; default $FLUENT_BACKUP_DIR or /tmp/fluent (Fluentd's DEFAULT_BACKUP_DIR). */
  readonly backupDir?: string;
  /** The `<match>` of this output: the config line of a buffer path error when nothing closer is written. */
  readonly outputPos?: SourcePos;
}

/** What later metrics read (Fluentd's buffer/output metrics names in comments). */
export interface BufferCounters {
  emitCount: number; // emit_count
  emitRecords: number; // emit_records
  writeCount: number; // write_count
  writeSecondaryCount: number;
  numErrors: number; // num_errors
  rollbackCount: number;
  retryCount: number; // retry steps taken
  dropOldestChunkCount: number;
  flushedRecords: number;
  flushedBytes: number;
  stageLength: number; // stage_length
  stageBytes: number; // stage_byte_size
  queueLength: number; // queue_length
  queueBytes: number; // queue_byte_size
  totalLimitBytes: number; // total_limit_size
  availableSpaceRatio: number; // available_buffer_space_ratios (percent)
  flushTimeMs: number; // flush_time_count
  slowFlushCount: number; // slow_flush_count
  /** Seconds between the retry's start and its next attempt (prometheus retry_wait); 0 when not retrying. */
  retryWaitSeconds: number;
  retrying: boolean;
  oldestTimekey: number | undefined; // buffer_oldest_timekey
  newestTimekey: number | undefined; // buffer_newest_timekey
  /** Distinct timekeys of staged, queued and in-flight chunks (Buffer#timekeys), first seen first. */
  timekeys: number[];
  /** The retry in progress (monitor_agent's `retry`: start, steps, next_time), unix seconds. */
  retry: { start: number; steps: number; nextTime: number } | undefined;
  /** Unix seconds the oldest unflushed chunk was created. */
  oldestChunkCreatedAt: number | undefined;
  /** Unix ms of the first failed write since the last success; undefined while writes succeed. */
  failingSince: number | undefined;
  lastSuccessAt: number | undefined;
  /** Where the last successful write went (an s3:// URL, a file path), when the sink says. */
  lastWritten: string | undefined;
  /** Seconds per sink write (live object, read at scrape time). */
  writeLatency: LatencyBuckets;
}

/** What out_file/out_s3 need to expand `${tag}`, `${key}` and strftime placeholders like Fluentd. */

export class BufferedOutput implements Output {
  readonly config: BufferConfig;
  readonly chunkKeys: ChunkKeyInfo;
  readonly #log: Logger;
  readonly #recentLog = new LogRing();
  readonly #sink: ChunkSink;
  readonly #secondary: SecondarySink | undefined;
  readonly #state: BufferState;
  readonly #flush: FlushLoop;
  readonly #timekeys: TimekeyCalculator | undefined;
  #emitCount = 0;
  #emitRecords = 0;
  #dropOldest = 0;
  #started = false;
  #stopping = false;
  readonly #storedReaders: StoredReader[] = [];
  // Events of one request usually share tag and timekey: remember the last chunk.
  #lastTimekey: number | undefined;
  #lastTag = '';
  #lastChunk: BufferChunk | undefined;

  constructor(bufferSection: ConfigElement | undefined, sink: ChunkSink, ctx: PluginContext, defaults: BufferedOutputOptions) {
    this.#log = this.#recentLog.tee(ctx.log);
    this.#sink = sink;
    this.#secondary = defaults.secondary;
    const warn = (m: string): void => this.#log.warn(m);
    const cfg = resolveBufferConfig(bufferSection, defaults, warn);
    this.config = cfg;
    if (this.#secondary && cfg.retry_forever) warn("<secondary> with 'retry_forever', only unrecoverable errors are moved to secondary");
    this.chunkKeys = chunkKeyInfoOf(cfg);
    // Sinks learn the chunk keys they format with (path placeholders); a secondary
    // gets the primary's (Fluentd's acts_as_secondary).
    sink.bind?.(this.chunkKeys);
    defaults.secondary?.bind?.(this.chunkKeys);
    this.#timekeys = cfg.chunkKeyTime ? new TimekeyCalculator(cfg.timekey!, cfg.timekey_use_utc, cfg.timekeyZoneName) : undefined;
    const backup: BackupLocation = {
      baseDir: defaults.backupDir ?? process.env.FLUENT_BACKUP_DIR ?? '/tmp/fluent',
      workerId: ctx.workerId,
      ownerId: defaults.pluginId ?? 'buffered_output',
    };
    const storage: ChunkStorage = cfg.type === 'file'
      ? new FileBuffer({
          path: cfg.path!, pathSuffix: cfg.path_suffix, dirMode: cfg.dirMode, fileMode: cfg.fileMode,
          fsync: cfg.fsync, compressed: cfg.compress === 'gzip', backup,
          where: bufferSection?.params.get('path')?.pos ?? defaults.defaultPathPos ?? bufferSection?.pos ?? defaults.outputPos,
          lineRecords: cfg.compress !== 'gzip' && sink.formatter.newlineRecords === true,
          ...((ctx.workers ?? 1) > 1 ? { multiWorkerId: ctx.workerId } : {}),
        }, this.#log)
      : new MemoryBuffer(cfg.compress === 'gzip');
    this.#state = new BufferState(cfg, storage, this.#log);
    this.#flush = new FlushLoop(this.#state, sink, this.#secondary, backup, this.#log);
  }

  async start(): Promise<void> {
    await this.#sink.start?.();
    await this.#secondary?.start?.();
    const resumed = await this.#state.storage.start();
    await this.#state.restore(resumed.staged, resumed.queued);
    for (const reader of this.#storedReaders) await reader(this.#storedLines());
    this.#flush.start();
    this.#started = true;
    if (this.#state.queue.length > 0) this.#flush.wake();
  }

  get durability(): { readonly fsync: boolean } {
    return { fsync: this.config.type === 'file' && this.config.fsync };
  }

  readStored(reader: StoredReader): void {
    this.#storedReaders.push(reader);
  }

  /** The records of every resumed chunk, line by line (JSON lines only; nothing for other formats). */
  async *#storedLines(): AsyncIterable<string> {
    if (this.#sink.formatter.newlineRecords !== true) return;
    for (const chunk of [...this.#state.stage.values(), ...this.#state.queue]) {
      for await (const line of createInterface({ input: chunk.open(), crlfDelay: Infinity })) {
        if (line !== '') yield line;
      }
    }
  }

  async emit(tag: string, events: Event[]): Promise<void> {
    if (!this.#started || this.#stopping) throw new BufferError('AR_BUFFER_STOPPED', 'buffered output is not running; events were not stored');
    this.#emitCount += 1;
    this.#emitRecords += events.length;
    if (!this.#state.storable()) await this.#onOverflow();
    const cfg = this.config;
    const st = this.#state;
    const formatter = this.#sink.formatter;
    const limit = cfg.chunkLimitSize;
    const batches: Batch[] = [];
    let lastBatch: Batch | undefined;
    let dropped = 0;
    let firstDropMessage = '';
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      const text = formatter.format(tag, ev.time, ev.record);
      const bytes = Buffer.byteLength(text);
      if (bytes > limit) {
        // Buffer#write_step_by_step: the record is dropped, the others are written.
        dropped += 1;
        if (firstDropMessage === '') firstDropMessage = `a ${bytes}bytes record (nth: ${i}) is larger than buffer chunk limit size (${limit})`;
        continue;
      }
      let chunk = this.#stagedChunk(tag, ev);
      if (chunk.reservedRecords > 0 && (chunk.reservedBytes + bytes > limit ||
          (cfg.chunk_limit_records !== undefined && chunk.reservedRecords + 1 > cfg.chunk_limit_records))) {
        st.requestEnqueue(chunk);
        chunk = this.#stagedChunk(tag, ev);
      }
      const batch = st.append(chunk, text, bytes);
      if (batch !== lastBatch) {
        if (!batches.includes(batch)) batches.push(batch);
        lastBatch = batch;
      }
    }
    if (batches.length === 1) await batches[0].done;
    else if (batches.length > 1) await Promise.all(batches.map((b) => b.done));
    if (dropped > 0) {
      this.#log.warn(firstDropMessage);
      throw new BufferChunkOverflowError(`${firstDropMessage}${dropped > 1 ? ` (and ${dropped - 1} more)` : ''}; raise chunk_limit_size or send smaller records`, dropped);
    }
  }

  /** SIGUSR1 / tests: enqueue every staged chunk and wait until the queue is written (or retrying). */
  async flushAll(): Promise<void> {
    this.#state.enqueueAll(undefined, true);
    await this.#state.settle();
    this.#flush.wake();
    await this.#waitUntil(() => (this.#state.queue.length === 0 && this.#state.inFlight.size === 0) || this.#flush.retry !== undefined);
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#stopping = true;
    // before_shutdown: flush_at_shutdown → force_flush (stops early while retrying).
    if (this.config.flushAtShutdown) await this.flushAll();
    await this.#state.settle();
    await this.#flush.stop();
    const left = [...this.#state.stage.values(), ...this.#state.queue];
    if (this.#state.storage.persistent && !this.config.flushAtShutdown) this.#logLeftBehind(left);
    for (const c of left) await c.close();
    this.#started = false;
    await this.#secondary?.stop?.();
    await this.#sink.stop?.();
  }

  /** flush_at_shutdown false (the file buffer default): say what stays on disk for the next start (issue 13.7). */
  #logLeftBehind(left: readonly BufferChunk[]): void {
    const path = this.#state.storage.location ?? this.config.path ?? '';
    const events = left.reduce((n, c) => n + c.recordCount, 0);
    const queued = this.#state.queue.length;
    if (left.length === 0) {
      this.#log.info({ path, chunks: 0, events: 0 }, `buffer ${path} is empty at shutdown; nothing is left to upload`);
      return;
    }
    const chunks = `${left.length} chunk${left.length === 1 ? '' : 's'} (${left.length - queued} staged, ${queued} queued)`;
    this.#log.info({ path, chunks: left.length, events },
      `${events} event${events === 1 ? '' : 's'} in ${chunks} stay in ${path} (flush_at_shutdown false); they are uploaded at the next start with this path`);
  }

  counters(): BufferCounters {
    const f = this.#flush.counters;
    const st = this.#state;
    const retry = this.#flush.retry;
    const total = st.stageBytes + st.queueBytes;
    let oldestTk: number | undefined;
    let newestTk: number | undefined;
    let oldestAt: number | undefined;
    const timekeys = new Set<number>();
    for (const c of [...st.stage.values(), ...st.queue, ...st.inFlight]) {
      const tk = c.metadata.timekey;
      if (tk !== undefined) {
        timekeys.add(tk);
        if (oldestTk === undefined || tk < oldestTk) oldestTk = tk;
        if (newestTk === undefined || tk > newestTk) newestTk = tk;
      }
      if (c.recordCount > 0 && (oldestAt === undefined || c.createdAt < oldestAt)) oldestAt = c.createdAt;
    }
    return {
      totalLimitBytes: this.config.totalLimitSize,
      availableSpaceRatio: 100 - (total * 100) / this.config.totalLimitSize,
      flushTimeMs: Math.round(f.flushTimeMs),
      slowFlushCount: f.slowFlushCount,
      retryWaitSeconds: retry ? retry.nextTime - retry.start : 0,
      retrying: retry !== undefined,
      oldestTimekey: oldestTk,
      newestTimekey: newestTk,
      timekeys: [...timekeys],
      retry: retry ? { start: retry.start, steps: retry.steps, nextTime: retry.nextTime } : undefined,
      oldestChunkCreatedAt: oldestAt,
      failingSince: f.failingSince,
      lastSuccessAt: f.lastSuccessAt,
      lastWritten: f.lastWritten,
      writeLatency: f.writeLatency,
      emitCount: this.#emitCount,
      emitRecords: this.#emitRecords,
      writeCount: f.writeCount,
      writeSecondaryCount: f.writeSecondaryCount,
      numErrors: f.numErrors,
      rollbackCount: f.rollbackCount,
      retryCount: f.retryCount,
      dropOldestChunkCount: this.#dropOldest,
      flushedRecords: f.flushedRecords,
      flushedBytes: f.flushedBytes,
      stageLength: this.#state.stage.size,
      stageBytes: this.#state.stageBytes,
      queueLength: this.#state.queue.length,
      queueBytes: this.#state.queueBytes,
    };
  }

  /** The last warn/error lines of this output's buffer and flushes, oldest first (status page). */
  recentLog(): readonly LoggedLine[] {
    return this.#recentLog.lines();
  }

  /** One enqueue-timer pass now (tests; the timer does the same). */
  enqueueDue(): void {
    this.#flush.enqueueDue();
  }

  #stagedChunk(tag: string, ev: Event): BufferChunk {
    const cfg = this.config;
    const keyTag = cfg.chunkKeyTag ? tag : '';
    const timekey = this.#timekeys?.of(ev.time.sec);
    let variables: Record<string, string> | undefined;
    if (cfg.recordKeys.length > 0) {
      variables = {};
      for (const k of cfg.recordKeys) variables[k] = variableOf(fieldOf(ev.record, k));
    }
    // Most events of a request share tag and timekey: compare those, build no key string.
    const last = this.#lastChunk;
    if (variables === undefined && last !== undefined && !last.sealed && timekey === this.#lastTimekey && keyTag === this.#lastTag) return last;
    const metadata: ChunkMetadata = {
      ...(timekey !== undefined ? { timekey } : {}),
      ...(cfg.chunkKeyTag ? { tag } : {}),
      ...(variables !== undefined ? { variables } : {}),
    };
    // metadataKeyOf's key (resumed chunks are staged under it), without sorting variables when there are none.
    const mkey = variables !== undefined ? metadataKeyOf(metadata) : `${timekey ?? ''}\u0000${keyTag}`;
    let chunk = this.#state.stage.get(mkey);
    if (chunk === undefined) {
      chunk = this.#state.storage.createChunk(metadata, mkey);
      this.#state.stage.set(mkey, chunk);
    }
    if (variables === undefined) {
      this.#lastTimekey = timekey;
      this.#lastTag = keyTag;
      this.#lastChunk = chunk;
    }
    return chunk;
  }

  /** Output#write_guard. */
  async #onOverflow(): Promise<void> {
    const action = this.config.overflow_action;
    this.#log.warn({ action }, 'failed to write data into buffer by buffer overflow');
    if (action === 'block') {
      const ok = await this.#waitUntil(() => this.#state.storable() || this.#stopping, BLOCK_MAX_WAIT_MS);
      if (ok && !this.#stopping) return;
    } else if (action === 'drop_oldest_chunk') {
      while (!this.#state.storable()) {
        const oldest = this.#state.queue[0];
        if (!oldest) {
          this.#log.error('no queued chunks to be dropped for drop_oldest_chunk');
          break;
        }
        this.#log.warn({ chunk_id: oldest.idHex, records: oldest.recordCount }, 'dropping oldest chunk to make space after buffer overflow');
        await this.#state.purge(oldest);
        this.#dropOldest += 1;
      }
      if (this.#state.storable()) return;
    }
    throw new BufferOverflowError(this.#retryAfterSeconds());
  }

  /** A hint for Retry-After: the next retry when failing, else one flush pass. */
  #retryAfterSeconds(): number {
    const r = this.#flush.retry;
    if (r) return Math.max(1, Math.ceil(r.nextTime - Date.now() / 1000));
    return Math.max(1, Math.ceil(this.config.flush_thread_interval));
  }

  async #waitUntil(pred: () => boolean, maxMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    while (!pred()) {
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, BLOCK_POLL_MS));
    }
    return true;
  }
}

/** A record-key chunk key's value as it appears in metadata and `${key}` placeholders (Ruby to_s). */
function variableOf(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (v instanceof JsonFloat) return Number.isInteger(v.value) ? v.value.toFixed(1) : String(v.value);
  return JSON.stringify(v);
}
