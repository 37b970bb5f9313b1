// The contracts between the stages of the data path
// (input → parser → router → filter → buffer → format → output).
// Plugins get everything shared through PluginContext, never module state.

import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ConfigElement } from './params/element.ts';
import type { EventTime } from './time/event-time.ts';
import type { JsonRecord } from './value/json-value.ts';

export interface Event {
  time: EventTime;
  record: JsonRecord;
}

export interface PluginContext {
  readonly log: Logger;
  /** Socket.gethostname, computed once (record_transformer's `hostname`). */
  readonly hostname: string;
  readonly workerId: number;
  /**
   * `<system> workers` as this plugin sees it (inside `<worker N-M>`: the
   * number of its target workers); undefined = 1.
   */
  readonly workers?: number;
  /** Raw line writer for Fluentd's `$log.write` (out_stdout): the log stream. */
  readonly writeLogLine: (line: string) => void;
  /** Fluentd's router.emit_error_event: to <label @ERROR> when present, else a warn log. */
  readonly emitErrorEvent: (tag: string, time: EventTime, record: JsonRecord, error: Error) => void;
  /** Emit into a label (out_relabel); set by the router. */
  readonly emitToLabel: (label: string, tag: string, events: Event[]) => Promise<void>;
  /** The formatter of a plugin's <format> (absent → `defaultType`, configured from `fallback`); set by the router. */
  readonly createFormatter: (section: ConfigElement | undefined, defaultType: string, fallback?: ConfigElement) => Formatter;
  /** Every input, filter and output of the pipeline, for monitoring sources (prometheus, monitor_agent); set by the router. */
  readonly plugins?: () => readonly PluginEntry[];
  /** The output of the first top-level `<match>` that takes `tag` (monitor_agent's `?tag=`); set by the router. */
  readonly matchOf?: (tag: string) => PluginEntry | undefined;
  /** tag → events dropped because no `<match>` took them, since start (/metrics); set by the router. */
  readonly unmatched?: () => ReadonlyMap<string, number>;
}

/** Records and emit calls that went through a plugin, counted by the router (Fluentd's emit_records / emit_count). */
export interface EmitTally {
  records: number;
  calls: number;
}

/** One built plugin, as monitoring sees it (Fluentd's monitor_agent plugin info). */
export interface PluginEntry {
  readonly category: 'input' | 'filter' | 'output';
  readonly type: string;
  /** The `@id`, else Fluentd's `object:<hex>` form (stable for one config). */
  readonly pluginId: string;
  readonly plugin: Input | Filter | Output;
  /** Its section, for monitor_agent's `config` (secret params masked). */
  readonly element: ConfigElement;
  /** The `<label>` it sits in; undefined at top level. */
  readonly label: string | undefined;
  /** What the router counted through it (inputs: emitted; filters: taken in; unbuffered outputs: taken). */
  readonly tally: EmitTally;
}

export interface Filter {
  /** Returns the events to pass on (may drop some). Synchronous: filters run on the hot path. */
  filter(tag: string, events: Event[]): Event[];
  /**
   * A filter whose decision must only become final once the output stored the
   * events (dedup): the router calls this instead of `filter`, then `commit`
   * after the output's emit resolved (before the input answers), or `abort`
   * when it failed.
   */
  begin?(tag: string, events: Event[]): FilterStep | Promise<FilterStep>;
  /**
   * Called while the pipeline is built, once for every output after this filter
   * in its rule list (any of them may be the one it precedes for some tag):
   * dedup registers a reader of the records resumed at start (readStored) and
   * follows the buffer's fsync (durability).
   */
  precedes?(output: Output): void;
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export interface FilterStep {
  readonly events: Event[];
  /** Makes the step durable (dedup: journals the accepted keys); a rejection fails the emit. */
  commit(): Promise<void> | void;
  /** The output did not store the events: forget what this step reserved. */
  abort(): void;
}

/** Reads formatted records, one JSON text per line. */
export type StoredReader = (lines: AsyncIterable<string>) => Promise<void>;

export interface Output {
  start?(): Promise<void>;
  /**
   * Registers a reader that start() hands the records found in the buffer
   * (JSON lines formats only), after resume and before the first flush.
   */
  readStored?(reader: StoredReader): void;
  /** How an acknowledged emit is stored (the buffer's fsync), for filters that journal beside it. */
  readonly durability?: { readonly fsync: boolean };
  /** Takes the events; resolves once they are durable (written to the buffer or delivered). */
  emit(tag: string, events: Event[]): Promise<void> | void;
  stop?(): Promise<void>;
}

export interface Formatter {
  format(tag: string, time: EventTime, record: JsonRecord): string;
  /**
   * True when every formatted record ends with `\n` and holds no other `\n`
   * (JSON lines): the file buffer can then recover committed records from the
   * data file alone and skip a metadata rewrite per append batch.
   */
  readonly newlineRecords?: boolean;
}

export interface Parser {
  /** Parses one body; calls `onEvent` per record (a JSON array gives several). */
  parse(text: string, onEvent: (time: EventTime | undefined, record: JsonRecord) => void): void;
  /** True when the raw body is refused for sure, checked before it is decoded (json: unbalanced brackets in a long body); asked before parse(). */
  refuses?(body: Uint8Array): boolean;
}

export type EmitFn = (tag: string, events: Event[]) => Promise<void> | void;

export interface Input {
  start(): Promise<void>;
  stop(): Promise<void>;
}

// The contract between the buffer and buffered outputs (was buffer/chunk-api.ts).
// What a buffered output sees of a chunk, and what it must provide to the
// buffer. Fluentd's split: the buffer owns staging, timekeys, queueing, retries
// and recovery; the output only turns one chunk into one delivery
// (out_s3: one object). Formatting happens at append time, so a chunk holds
// the output's formatted bytes (e.g. JSON lines), as Fluentd's file chunks do.


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
   * A file whose first byteSize bytes are the formatted bytes, where there is
   * one (file buffer without `compress gzip`): large uploads read it into a
   * reused buffer instead of open()'s fresh buffer per read.
   */
  readonly formattedFile?: string;
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
  /** The timekey_zone param as written (undefined when absent), whatever timekey_use_utc says. */
  readonly timekeyZoneParam: string | undefined;
}

/** The output half of a buffered output (out_s3, out_file, …). */
export interface ChunkSink {
  readonly formatter: Formatter;
  /** Called once by the BufferedOutput that drives this sink, with its chunk keys. */
  bind?(keys: ChunkKeyInfo): void;
  start?(): Promise<void>;
  /**
   * Delivers one chunk; throws to have the buffer retry it with backoff. May resolve
   * with where the chunk went (an s3:// URL, a file path): the status page's last upload.
   */
  write(chunk: ChunkView): Promise<string | void>;
  stop?(): Promise<void>;
}

/** A `<secondary>`: writes a chunk the primary formatted, so it needs no formatter of its own. */
export type SecondarySink = Omit<ChunkSink, 'formatter'>;

/** Thrown by a sink for failures a retry cannot fix (chunk is backed up and dropped). */
export class UnrecoverableChunkError extends Error {
  override readonly name = 'UnrecoverableChunkError';
}
