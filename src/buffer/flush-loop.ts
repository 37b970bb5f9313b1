// Enqueue timer and flush workers (output.rb enqueue_thread_run,
// flush_thread_run, try_flush, update_retry_state; docs/compatibility.md §8). One retry
// state per output: while it is set, workers wait for its next_time; the same
// chunk (same id, same bytes, same attributes) is retried.

import type { Logger } from 'pino';
import { UnrecoverableChunkError, type ChunkSink, type SecondarySink } from '../plugin-api.ts';
import type { BufferChunk } from './chunk.ts';
import type { BufferState } from './buffer-state.ts';
import { RetryState } from './retry-state.ts';
import { LatencyBuckets } from './latency.ts';
import { backupChunk, type BackupLocation } from './storage.ts';
import { Strftime } from '../time/strftime.ts';
import { localZone } from '../time/zone.ts';
import { errorFields } from '../log.ts';

/** Ruby's Time#to_s, as Fluentd's log line prints next_retry_time (`2026-12-04 18:58:03 +0000`, process zone). */
const RUBY_TIME_TO_S = new Strftime('%Y-%m-%d %H:%M:%S %z');

export interface FlushCounters {
  writeCount: number;
  writeSecondaryCount: number;
  numErrors: number;
  rollbackCount: number;
  flushedRecords: number;
  flushedBytes: number;
  retryCount: number;
  /** Milliseconds spent in sink writes (Fluentd's flush_time_count). */
  flushTimeMs: number;
  /** Writes slower than SLOW_FLUSH_SECONDS (Fluentd's slow_flush_count). */
  slowFlushCount: number;
  /** Unix ms of the first failed write since the last success (readiness); undefined when healthy. */
  failingSince: number | undefined;
  /** Unix ms of the last successful write. */
  lastSuccessAt: number | undefined;
  /** Where it went, when the sink says (ChunkSink.write's result). */
  lastWritten: string | undefined;
  /** Seconds per sink write (an S3 PUT or multipart upload), failed ones included. */
  readonly writeLatency: LatencyBuckets;
}

/** Fluentd's slow_flush_log_threshold default (seconds). */
const SLOW_FLUSH_SECONDS = 20;

export class FlushLoop {
  retry: RetryState | undefined;
  readonly counters: FlushCounters = {
    writeCount: 0, writeSecondaryCount: 0, numErrors: 0, rollbackCount: 0, flushedRecords: 0, flushedBytes: 0, retryCount: 0,
    flushTimeMs: 0, slowFlushCount: 0, failingSince: undefined, lastSuccessAt: undefined, lastWritten: undefined, writeLatency: new LatencyBuckets(),
  };
  readonly #state: BufferState;
  readonly #sink: ChunkSink;
  readonly #secondary: SecondarySink | undefined;
  readonly #log: Logger;
  readonly #backup: BackupLocation;
  #running = false;
  #workers: Promise<void>[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sleepers = new Set<() => void>();

  constructor(state: BufferState, sink: ChunkSink, secondary: SecondarySink | undefined, backup: BackupLocation, log: Logger) {
    this.#state = state;
    this.#sink = sink;
    this.#secondary = secondary;
    this.#backup = backup;
    this.#log = log;
    state.onQueued = () => {
      // Output#emit_buffered → submit_flush_once: a queued chunk is flushed now, not at the next tick.
      if (!this.retry) this.wake();
    };
  }

  start(): void {
    this.#running = true;
    const cfg = this.#state.cfg;
    for (let i = 0; i < cfg.flush_thread_count; i++) this.#workers.push(this.#worker());
    // enqueue_thread_run: interval = max(min(timekey, timekey_wait) or flush_interval / 11, flush_thread_interval).
    let base: number | undefined = cfg.resolvedFlushMode === 'interval' ? cfg.flush_interval : undefined;
    if (cfg.chunkKeyTime && (base === undefined || cfg.timekey! < base)) base = Math.min(cfg.timekey!, cfg.timekey_wait);
    if (base !== undefined) {
      const interval = Math.max(base / 11, cfg.flush_thread_interval);
      this.#timer = setInterval(() => this.enqueueDue(), interval * 1000);
    }
  }

  /** One enqueue-thread pass: interval and timekey rules. */
  enqueueDue(): void {
    const cfg = this.#state.cfg;
    const now = Math.floor(Date.now() / 1000);
    if (cfg.resolvedFlushMode === 'interval') {
      const fi = Math.trunc(cfg.flush_interval);
      this.#state.enqueueAll((c) => c.createdAt + fi <= now, false);
    }
    if (cfg.chunkKeyTime) {
      const unit = cfg.timekey!;
      const wait = cfg.timekey_wait;
      const current = now - (now % unit);
      this.#state.enqueueAll((c) => {
        const tk = c.metadata.timekey;
        return tk !== undefined && tk < current && tk + unit + wait <= now;
      }, false);
    }
  }

  /** Stops the timer and the workers after their current chunk. */
  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#running = false;
    this.wake();
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  wake(): void {
    const s = [...this.#sleepers];
    this.#sleepers.clear();
    for (const r of s) r();
  }

  #sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(0, seconds * 1000));
      const sleepers = this.#sleepers;
      function done(): void {
        clearTimeout(t);
        sleepers.delete(done);
        resolve();
      }
      sleepers.add(done);
    });
  }

  async #worker(): Promise<void> {
    const cfg = this.#state.cfg;
    while (this.#running) {
      if (this.retry) {
        const wait = this.retry.nextTime - Date.now() / 1000;
        if (wait > 0) {
          await this.#sleep(wait);
          continue;
        }
      }
      const chunk = this.#state.dequeue();
      if (!chunk) {
        await this.#sleep(cfg.flush_thread_interval);
        continue;
      }
      await this.#tryFlush(chunk);
      // next_flush_time: burst interval while chunks remain (a new enqueue wakes us earlier).
      if (this.#running && this.#state.queue.length > 0 && !this.retry) await this.#sleep(cfg.flush_thread_burst_interval);
    }
  }

  async #tryFlush(chunk: BufferChunk): Promise<void> {
    const useSecondary = this.#secondary !== undefined && this.retry !== undefined && this.retry.secondary;
    const output = useSecondary ? this.#secondary! : this.#sink;
    this.counters.writeCount += 1;
    if (useSecondary) this.counters.writeSecondaryCount += 1;
    const began = performance.now();
    try {
      const where = await output.write(chunk);
      this.#timed(began);
      this.counters.failingSince = undefined;
      this.counters.lastSuccessAt = Date.now();
      this.counters.lastWritten = where ?? undefined;
      await this.#commitWrite(chunk, useSecondary);
    } catch (err) {
      this.#timed(began);
      this.counters.failingSince ??= Date.now();
      if (err instanceof UnrecoverableChunkError) {
        await this.#unrecoverable(chunk, useSecondary, err);
        return;
      }
      this.#log.debug({ chunk: chunk.idHex }, 'taking back chunk for errors.');
      this.#state.takeback(chunk);
      this.counters.rollbackCount += 1;
      await this.#updateRetryState(chunk, useSecondary, err as Error);
    }
  }

  #timed(began: number): void {
    const ms = performance.now() - began;
    this.counters.flushTimeMs += ms;
    this.counters.writeLatency.observe(ms / 1000);
    if (ms > SLOW_FLUSH_SECONDS * 1000) this.counters.slowFlushCount += 1;
  }

  async #commitWrite(chunk: BufferChunk, secondary: boolean): Promise<void> {
    this.counters.flushedRecords += chunk.recordCount;
    this.counters.flushedBytes += chunk.byteSize;
    await this.#state.purge(chunk);
    if (this.retry) {
      this.#log.warn({ chunk_id: chunk.idHex }, secondary ? 'retry succeeded by secondary.' : 'retry succeeded.');
      this.retry = undefined;
    }
  }

  /** try_flush's rescue of UNRECOVERABLE_ERRORS: no retry; secondary once, else backup. */
  async #unrecoverable(chunk: BufferChunk, usingSecondary: boolean, err: Error): Promise<void> {
    if (this.#secondary && !usingSecondary) {
      this.#log.warn(errorFields(err), 'got unrecoverable error in primary. Skip retry and flush chunk to secondary');
      try {
        await this.#secondary.write(chunk);
        await this.#commitWrite(chunk, true);
        return;
      } catch (e) {
        this.#log.warn(errorFields(e), 'got an error in secondary for unrecoverable error');
      }
    } else if (usingSecondary) {
      this.#log.warn(errorFields(err), 'got unrecoverable error in secondary.');
    } else {
      this.#log.warn(errorFields(err), 'got unrecoverable error in primary and no secondary');
    }
    if (this.#state.cfg.disable_chunk_backup) {
      this.#log.warn(`disable_chunk_backup is true. ${chunk.idHex} chunk is thrown away`);
    } else {
      try {
        await backupChunk(chunk, this.#backup, this.#log);
      } catch (e) {
        this.#log.error({ ...errorFields(e), chunk_id: chunk.idHex }, 'failed to back up chunk');
      }
    }
    await this.#commitWrite(chunk, usingSecondary);
  }

  async #updateRetryState(chunk: BufferChunk, usingSecondary: boolean, err: Error): Promise<void> {
    this.counters.numErrors += 1;
    if (!this.retry) {
      this.retry = this.#newRetryState();
    } else if (Date.now() / 1000 >= this.retry.nextTime) {
      this.retry.step();
      this.counters.retryCount += 1;
    } else {
      this.retry.recalcNextTime(); // several workers failing at once step only once
    }
    if (this.retry.limit) {
      await this.#handleLimitReached(err);
      return;
    }
    this.#log.warn({
      retry_times: this.retry.steps,
      next_retry_time: RUBY_TIME_TO_S.format(Math.round(this.retry.nextTime), 0, localZone()),
      chunk: chunk.idHex,
      ...errorFields(err),
    }, usingSecondary ? 'failed to flush the buffer with secondary output.' : 'failed to flush the buffer.');
  }

  /** handle_limit_reached: log, evacuate and drop every queued chunk. */
  async #handleLimitReached(err: Error): Promise<void> {
    let records = 0;
    for (const c of this.#state.queue) records += c.recordCount;
    this.#log.error({ retry_times: this.retry!.steps, records, ...errorFields(err) },
      'Hit limit for retries. dropping all chunks in the buffer queue.');
    for (const c of [...this.#state.queue]) {
      try {
        await this.#state.storage.evacuate(c);
        await this.#state.purge(c);
      } catch (e) {
        this.#log.error(errorFields(e), 'unexpected error while clearing buffer queue');
      }
    }
    this.#log.debug('buffer queue cleared');
    this.retry = undefined;
  }

  #newRetryState(): RetryState {
    const c = this.#state.cfg;
    return new RetryState({
      type: c.retry_type,
      wait: c.retry_wait,
      timeout: c.retry_timeout,
      forever: c.retry_forever,
      maxSteps: c.retry_max_times,
      backoffBase: c.retry_exponential_backoff_base,
      maxInterval: c.retry_max_interval,
      randomize: c.retry_randomize,
      randomizeWidth: 0.125,
      secondary: this.#secondary !== undefined,
      secondaryThreshold: c.retry_secondary_threshold,
    });
  }
}
