// The last warn/error lines of one buffered output (its flush loop, buffer and chunk
// storage), kept for the status page of `<source> @type prometheus`. Only these
// levels are kept, and only when the logger prints them; nothing on the hot path
// logs, so the ring costs nothing per event.

import type { Logger, LogFn } from 'pino';

/** How many lines a ring keeps (the newest replace the oldest). */
export const LOG_RING_SIZE = 20;
/** A kept line is cut here: a status page row, not a log archive. */
const MAX_LINE = 500;

export interface LoggedLine {
  /** Unix ms. */
  readonly at: number;
  readonly level: 'warn' | 'error' | 'fatal';
  /** The message then `key=value` for its fields, as Fluentd prints a log line. */
  readonly line: string;
}

export class LogRing {
  readonly #lines: LoggedLine[] = [];

  note(level: LoggedLine['level'], args: readonly unknown[]): void {
    if (this.#lines.length >= LOG_RING_SIZE) this.#lines.shift();
    this.#lines.push({ at: Date.now(), level, line: lineOf(args).slice(0, MAX_LINE) });
  }

  /** Oldest first. */
  lines(): readonly LoggedLine[] {
    return [...this.#lines];
  }

  /**
   * A child of `log` whose warn, error and fatal also land in this ring. A child, so
   * the plugin's own logger is left as the pipeline built it.
   */
  tee(log: Logger): Logger {
    const child = log.child({});
    const ring = this;
    for (const level of ['warn', 'error', 'fatal'] as const) {
      // The parent's method as it is at call time (pino swaps them when the level changes),
      // called on the child's own `this`, so bindings and the level stay pino's.
      child[level] = function (this: Logger, ...args: unknown[]): void {
        if (this.isLevelEnabled(level)) ring.note(level, args);
        (log[level] as (...a: unknown[]) => void).apply(this, args);
      } as LogFn;
    }
    return child;
  }
}

/** pino's call shapes: (msg, ...) or (fields, msg?, ...). */
function lineOf(args: readonly unknown[]): string {
  const [first, second] = args;
  if (typeof first === 'string') return first;
  if (first instanceof Error) return `${typeof second === 'string' ? `${second} ` : ''}error="${first.message}"`;
  const parts: string[] = typeof second === 'string' ? [second] : [];
  if (typeof first === 'object' && first !== null) {
    for (const [k, v] of Object.entries(first)) {
      if (v instanceof Error) parts.push(`${k}=${JSON.stringify(v.message)}`);
      else if (typeof v === 'string') parts.push(`${k}=${JSON.stringify(v)}`);
      else if (typeof v === 'number' || typeof v === 'boolean') parts.push(`${k}=${v}`);
    }
  }
  return parts.join(' ');
}
