// An EventSink over a one-attempt `deliver(url, body)` (the receiver's `<source> @type teleport`
// parses and emits the body into its router): retried with start's send backoff, or the
// delivery's own retry-after (a full buffer), until it succeeds or stop() is called — an
// event is never skipped, and send() resolves only once it was delivered.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { decorrelatedJitter, SendStopped } from './forwarder.ts';
import type { EventSink, Target } from './forwarder.ts';

/** One attempt; rejects to be retried (an error may carry `retryAfterSeconds`). */
export type Deliver = (url: string, body: string) => Promise<void>;

export interface RetryingSinkOptions {
  readonly dryRun: boolean;
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

const RETRY_AFTER_CAP_MS = 60_000;

export class RetryingSink implements EventSink {
  readonly #deliver: Deliver;
  readonly #opts: RetryingSinkOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  sent = 0;
  failures = 0;

  constructor(deliver: Deliver, opts: RetryingSinkOptions, log: Logger) {
    this.#deliver = deliver;
    this.#opts = opts;
    this.#log = log;
  }

  /** The first attempt starts before any await, so deliveries begin in the order send() was called. */
  async send(t: Target, body: string): Promise<void> {
    if (this.#opts.dryRun) return;
    const base = this.#opts.backoffBaseMs ?? 1000;
    const cap = this.#opts.backoffMaxMs ?? 10_000;
    let sleepMs = base;
    for (;;) {
      if (this.#stop.signal.aborted) throw new SendStopped();
      let retryAfterMs: number | undefined;
      try {
        await this.#deliver(t.url, body);
        this.sent++;
        return;
      } catch (err) {
        this.failures++;
        const secs = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
        retryAfterMs = secs !== undefined ? Math.min(secs * 1000, RETRY_AFTER_CAP_MS) : undefined;
        this.#log.warn({ url: t.url, code: (err as { code?: string }).code, error: (err as Error).message }, 'Failed to emit event, retrying');
      }
      sleepMs = decorrelatedJitter(sleepMs, base, cap);
      try {
        await sleep(retryAfterMs ?? sleepMs, undefined, { signal: this.#stop.signal });
      } catch {
        throw new SendStopped();
      }
    }
  }

  stop(): void {
    this.#stop.abort();
  }

  close(): void {
    this.stop();
  }
}
