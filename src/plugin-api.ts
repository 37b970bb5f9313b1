// The contracts between the stages of the data path
// (input → parser → router → filter → buffer → format → output).
// Plugins get everything shared through PluginContext, never module state.

import type { Logger } from 'pino';
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
  /** Raw line writer for Fluentd's `$log.write` (out_stdout): the log stream. */
  readonly writeLogLine: (line: string) => void;
  /** Fluentd's router.emit_error_event: to <label @ERROR> when present, else a warn log. */
  readonly emitErrorEvent: (tag: string, time: EventTime, record: JsonRecord, error: Error) => void;
  /** Emit into a label (out_relabel); set by the router. */
  readonly emitToLabel: (label: string, tag: string, events: Event[]) => Promise<void>;
}

export interface Filter {
  /** Returns the events to pass on (may drop some). Synchronous: filters run on the hot path. */
  filter(tag: string, events: Event[]): Event[];
}

export interface Output {
  start?(): Promise<void>;
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
}

export type EmitFn = (tag: string, events: Event[]) => Promise<void> | void;

export interface Input {
  start(): Promise<void>;
  stop(): Promise<void>;
}
