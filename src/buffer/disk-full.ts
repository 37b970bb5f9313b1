// A full buffer volume (ENOSPC/EDQUOT) is backpressure, not a crash: one warn
// line when a burst of refusals starts (path, bytes free), one line with how
// many appends were refused once a write succeeds again.
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { BufferDiskFullError } from './errors.ts';

export class DiskFullBurst {
  #refused = 0;
  #path = '';
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** True when `err` was a full volume (counted, logged at the burst's start). */
  refused(err: unknown): boolean {
    if (!(err instanceof BufferDiskFullError)) return false;
    this.#refused++;
    if (this.#refused === 1) {
      this.#path = err.path;
      const dir = dirname(err.path);
      void statfs(dir).then(
        (s) => this.#log.warn({ path: dir, bytes_free: s.bavail * s.bsize, error_code: err.causeCode },
          'buffer volume is full: refusing events with 503 + Retry-After until space returns'),
        () => this.#log.warn({ path: dir, error_code: err.causeCode }, 'buffer volume is full: refusing events with 503 + Retry-After until space returns'),
      );
    }
    return true;
  }

  /** A write succeeded: close the burst, if any. */
  accepted(): void {
    if (this.#refused === 0) return;
    this.#log.warn({ path: dirname(this.#path), refused: this.#refused }, 'buffer volume has space again: accepting events');
    this.#refused = 0;
  }
}
