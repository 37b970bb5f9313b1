// The bulk-export path (lib/events/export; docs/compatibility-event-handler.md §4.2 point 2, §5.1): per UTC
// date, GetEventExportChunks lists chunks; partial chunks resume first with their saved cursor,
// then unknown chunks start with an empty one, each streamed with ExportUnstructuredEvents. A
// chunk's cursor is the cursor of its last event answered 200; a finished stream completes the
// chunk. The current date moves on when idle and before today; up to 2 earlier dates keep being
// polled (BacklogSize), older ones are dropped. Like upstream, `chunkConcurrency`
// (max(concurrency/4, 3)) chunks are streamed at once; their events meet in the one ordered audit
// pipeline, so each chunk's events reach the receiver in its stream order (chunks interleave, as
// upstream's), and a chunk's cursor is committed only once everything pushed before it was
// answered. A pass waits for all its chunks before it returns or retries (fetchAndProcessChunks),
// so a chunk is never streamed twice at once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { TeleportClient } from '../teleport/teleport-client.ts';
import type { AuditDispatch } from './audit-dispatch.ts';
import type { ExportEventUnstructured } from '../teleport/grpc-service.ts';
import { dateKey } from '../state/cursor-v2.ts';
import type { CursorV2State, DateState } from '../state/cursor-v2.ts';

export interface BulkPosition {
  readonly date: string;
  readonly chunk: string;
  /** undefined = the chunk is complete. */
  readonly cursor: string | undefined;
}

export interface BulkOptions {
  readonly startMs: number;
  readonly exitOnLastEvent: boolean;
  readonly pollIntervalMs: number;
  readonly retryMs?: number;
  /** Chunks streamed at once (upstream: max(concurrency/4, 3)). */
  readonly chunkConcurrency?: number;
}

const BACKLOG_SIZE = 2;
const MIN_CHUNK_CONCURRENCY = 3;
const DONE = Symbol('chunk handed in full');
const DAY_MS = 86_400_000;

export class BulkExporter {
  readonly #client: () => TeleportClient;
  readonly #dispatch: AuditDispatch<BulkPosition>;
  readonly #state: CursorV2State;
  readonly #opts: BulkOptions;
  readonly #log: Logger;
  readonly #stop: AbortSignal;
  #current: string;
  /**
   * How far this process has handed each chunk to the pipeline (`date\0chunk` → cursor of the last
   * event handed, or DONE). The pipeline sends what it was handed until answered, so a stream that
   * fails and is retried resumes from here, not from the last committed cursor: resuming from the
   * committed one re-sent every event still in flight (duplicates, more of them under load).
   */
  readonly #handed = new Map<string, string | typeof DONE>();

  /** `state` is live: the pipeline's commits update it and the caller syncs it to disk. */
  constructor(client: () => TeleportClient, dispatch: AuditDispatch<BulkPosition>, state: CursorV2State, opts: BulkOptions, log: Logger, stop: AbortSignal) {
    this.#client = client;
    this.#dispatch = dispatch;
    this.#state = state;
    this.#opts = opts;
    this.#log = log;
    this.#stop = stop;
    // Upstream (NewExporter) skips a saved date when start_time.After(date): start_time is not
    // normalised to midnight, so the start date's own saved chunks are dropped and the whole first
    // day is exported again after every restart (hundreds of duplicates per kill in
    // start-kill.test.ts). We skip only dates before start_time's UTC date
    // (docs/compatibility-event-handler.md §5.1).
    const startDate = dateKey(opts.startMs);
    for (const d of [...state.keys()]) if (d < startDate) state.delete(d);
    const dates = [...state.keys()].sort();
    this.#current = dates.at(-1) ?? dateKey(opts.startMs);
    if (!state.has(this.#current)) state.set(this.#current, { completed: new Set(), partial: new Map() });
  }

  /** Applies a committed position to the live state. */
  static commit(state: CursorV2State, p: BulkPosition): void {
    const ds = state.get(p.date);
    if (ds === undefined) return;
    if (p.cursor === undefined) {
      ds.completed.add(p.chunk);
      ds.partial.delete(p.chunk);
    } else {
      ds.partial.set(p.chunk, p.cursor);
    }
  }

  async #exportChunk(date: string, ds: DateState, chunk: string, committed: string): Promise<number> {
    const dateMs = Date.parse(date + 'T00:00:00Z');
    const key = `${date}\u0000${chunk}`;
    const handed = this.#handed.get(key);
    if (handed === DONE) return 0;
    let n = 0;
    const stream = this.#client().exportEvents(dateMs, chunk, handed ?? committed);
    const onStop = () => stream.cancel();
    this.#stop.addEventListener('abort', onStop);
    try {
      for await (const item of stream as AsyncIterable<ExportEventUnstructured>) {
        if (item.event === undefined) continue;
        await this.#dispatch.handle(item.event, { date, chunk, cursor: item.cursor });
        this.#handed.set(key, item.cursor);
        n++;
      }
    } finally {
      this.#stop.removeEventListener('abort', onStop);
    }
    if (!this.#stop.aborted) {
      await this.#dispatch.mark({ date, chunk, cursor: undefined });
      this.#handed.set(key, DONE);
    }
    void ds;
    return n;
  }

  /** One pass over one date, up to chunkConcurrency chunks at once; returns how many events were exported. */
  async #pollDate(date: string): Promise<number> {
    const ds = this.#state.get(date)!;
    const pool = new ChunkPool(this.#opts.chunkConcurrency ?? MIN_CHUNK_CONCURRENCY, this.#stop);
    // Partial chunks first, from their saved cursor.
    for (const [chunk, cursor] of [...ds.partial]) pool.add(() => this.#exportChunk(date, ds, chunk, cursor));
    let listed: unknown;
    try {
      const chunks = await this.#client().getEventExportChunks(Date.parse(date + 'T00:00:00Z'));
      for (const chunk of chunks) {
        if (ds.completed.has(chunk) || ds.partial.has(chunk)) continue;
        pool.add(() => this.#exportChunk(date, ds, chunk, ''));
      }
    } catch (err) {
      listed = err;
    }
    const n = await pool.settle();
    if (listed !== undefined) throw listed;
    return n;
  }

  async run(): Promise<void> {
    let retryMs = 0;
    while (!this.#stop.aborted) {
      let exported = 0;
      try {
        for (const date of [...this.#state.keys()].sort()) {
          if (this.#stop.aborted) return;
          exported += await this.#pollDate(date);
        }
        // Chunks are complete only once their last event was answered.
        await this.#dispatch.drain();
        retryMs = 0;
      } catch (err) {
        if (this.#stop.aborted) return;
        // retryutils.RetryV2 with MaxBackoff 90 s: step 5.625 s, doubling, half jitter.
        retryMs = Math.min(retryMs === 0 ? (this.#opts.retryMs ?? 5625) : retryMs * 2, 90_000);
        this.#log.error({ error: (err as Error).message }, 'event chunk export failed');
        await sleep(retryMs * (0.5 + Math.random() / 2), undefined, { signal: this.#stop }).catch(() => {});
        continue;
      }
      if (exported > 0) continue;
      const today = dateKey(Date.now());
      if (this.#current < today) {
        this.#current = dateKey(Date.parse(this.#current + 'T00:00:00Z') + DAY_MS);
        this.#state.set(this.#current, { completed: new Set(), partial: new Map() });
        const dates = [...this.#state.keys()].sort();
        for (const d of dates.slice(0, Math.max(0, dates.length - 1 - BACKLOG_SIZE))) {
          this.#state.delete(d);
          for (const k of this.#handed.keys()) if (k.startsWith(`${d}\u0000`)) this.#handed.delete(k);
        }
        continue;
      }
      if (this.#opts.exitOnLastEvent) {
        this.#log.info('All events are processed, exiting...');
        return;
      }
      await sleep(this.#opts.pollIntervalMs * (1 - Math.random() / 7), undefined, { signal: this.#stop }).catch(() => {});
    }
  }
}

/**
 * Runs chunk exports `limit` at a time. settle() waits for every one (a failed chunk must not be
 * retried while another worker still streams it) and then throws the first failure.
 */
class ChunkPool {
  readonly #limit: number;
  readonly #stop: AbortSignal;
  readonly #queue: (() => Promise<number>)[] = [];
  readonly #running = new Set<Promise<void>>();
  #exported = 0;
  #error: unknown;

  constructor(limit: number, stop: AbortSignal) {
    this.#limit = Math.max(1, limit);
    this.#stop = stop;
  }

  add(task: () => Promise<number>): void {
    this.#queue.push(task);
    this.#next();
  }

  #next(): void {
    while (this.#error === undefined && !this.#stop.aborted && this.#running.size < this.#limit && this.#queue.length > 0) {
      const task = this.#queue.shift()!;
      const run: Promise<void> = task().then(
        (n) => void (this.#exported += n),
        (err: unknown) => void (this.#error ??= err),
      ).finally(() => {
        this.#running.delete(run);
        this.#next();
      });
      this.#running.add(run);
    }
  }

  /** Waits for every started export; chunks not started (stop or a failure) wait for the next pass. */
  async settle(): Promise<number> {
    while (this.#running.size > 0) await Promise.race(this.#running);
    if (this.#error !== undefined) throw this.#error;
    return this.#exported;
  }
}
