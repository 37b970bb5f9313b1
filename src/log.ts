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

export function createProcessLog(opts: LogOptions = {}): ProcessLog {
  const level = opts.level ?? 'info';
  let stream: DestinationStream & { flushSync?: () => void };
  if (typeof opts.destination === 'object') stream = opts.destination;
  else if (typeof opts.destination === 'string') stream = pino.destination({ dest: opts.destination, mkdir: true, sync: false });
  else if (opts.pretty ?? process.stdout.isTTY) stream = pretty({ colorize: true, destination: 1, sync: true });
  else stream = pino.destination({ dest: 1, sync: false });
  const log = pino({ level, base: undefined }, stream);
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
