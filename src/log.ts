// The process log: pino JSON lines (pretty on a TTY). out_stdout writes its
// event lines raw into the same stream, as Fluentd's `$log.write` does, so
// they interleave with log lines exactly as in a fluentd container.

import { createRequire } from 'node:module';
import { pino, type Logger, type DestinationStream, type Level } from 'pino';
import type pinoPretty from 'pino-pretty';

/** pino-pretty (and its colour and date packages) is loaded only for a pretty log: a TTY or `pretty: true`. */
const pretty = (options: pinoPretty.PrettyOptions): DestinationStream =>
  (createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty)(options);

export interface ProcessLog {
  readonly log: Logger;
  /** Raw write into the log stream (no JSON envelope). */
  readonly writeLine: (line: string) => void;
  flush(): void;
}

export interface LogOptions {
  level?: Level | 'silent';
  /** A file path (-o) or a stream (tests); default stdout. */
  destination?: string | DestinationStream;
  /** Pretty-print (default: when stdout is a TTY and no file is given). */
  pretty?: boolean;
}

/**
 * Most bytes the log stream holds for a reader that is not keeping up (stdout piped to
 * a stalled `docker logs`, a full disk under -o): past it, writes are dropped and counted
 * instead of growing the heap without bound (Fluentd blocks instead: its stdout write
 * holds the whole process, so every source stops answering).
 */
export const LOG_BUFFER_LIMIT = 16 * 1024 * 1024;

/** Once the stream has drained, one warn line says how many writes (and bytes) were dropped. */
function reportDrops(stream: NodeJS.EventEmitter, log: Logger): void {
  let writes = 0;
  let bytes = 0;
  stream.on('drop', (data: string) => {
    writes += 1;
    bytes += Buffer.byteLength(data);
  });
  stream.on('drain', () => {
    if (writes === 0) return;
    const dropped = { dropped_writes: writes, dropped_bytes: bytes, limit_bytes: LOG_BUFFER_LIMIT };
    writes = 0;
    bytes = 0;
    log.warn(dropped, `the log stream was not read fast enough: ${dropped.dropped_writes} writes of log and out_stdout lines (${dropped.dropped_bytes} bytes) were dropped while more than ${LOG_BUFFER_LIMIT} bytes waited; read stdout steadily (docker logs, the journal) or log to a file with -o`);
  });
}

export function createProcessLog(opts: LogOptions = {}): ProcessLog {
  const level = opts.level ?? 'info';
  let stream: DestinationStream & { flushSync?: () => void };
  let bounded = false; // our own sonic-boom streams: dropped past LOG_BUFFER_LIMIT
  if (typeof opts.destination === 'object') {
    stream = opts.destination;
  } else if (typeof opts.destination === 'string') {
    stream = pino.destination({ dest: opts.destination, mkdir: true, sync: false, maxLength: LOG_BUFFER_LIMIT });
    bounded = true;
  } else if (opts.pretty ?? process.stdout.isTTY) {
    stream = pretty({ colorize: true, destination: 1, sync: true });
  } else {
    stream = pino.destination({ dest: 1, sync: false, maxLength: LOG_BUFFER_LIMIT });
    bounded = true;
  }
  const log = pino({ level, base: undefined }, stream);
  if (bounded) reportDrops(stream as unknown as NodeJS.EventEmitter, log);
  return {
    log,
    writeLine: (line: string) => void stream.write(line),
    flush: () => {
      try {
        stream.flushSync?.();
      } catch {
        // sonic-boom throws when nothing is open yet; nothing to flush then.
      }
    },
  };
}

/**
 * An error as Fluentd's log lines carry it (`error_class=… error="…"`). pino serialises an
 * Error only under `err`; under any other key it would print `{}` without the message.
 */
export function errorFields(err: unknown): { error_class: string; error: string } {
  return err instanceof Error ? { error_class: err.name, error: err.message } : { error_class: typeof err, error: String(err) };
}

/** Longest client-supplied text a log line carries (see clipForLog). */
export const LOG_TEXT_LIMIT = 1024;

/**
 * Client-supplied text (an echoed body) cut to LOG_TEXT_LIMIT characters for the
 * log: a stream of 200 kB bodies would otherwise become 200 kB log lines that
 * pile up in the log stream's buffer (issue 12.8: ~270 MB of RSS) and on disk.
 * The answer to the client still carries the whole text.
 */
export function clipForLog(text: string): string {
  return text.length <= LOG_TEXT_LIMIT ? text : `${text.slice(0, LOG_TEXT_LIMIT)}… (${text.length - LOG_TEXT_LIMIT} more characters)`;
}
