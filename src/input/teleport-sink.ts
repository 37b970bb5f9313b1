// The EventSink of `<source> @type teleport`: where `start` would POST an event body to
// `<url>` (audit) or `<session-url>.<sid>.log` (recordings), this parses the same body the way
// in_http does (its <parse> section, else in_http's application/json rules) and emits it under
// the tag in_http would derive from that path. send() resolves only once the emit did (the
// buffer acknowledged the append), which is what lets the exporter move its cursor.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { EmitFn, Event, Parser } from '../plugin-api.ts';
import { EventTime } from '../time/event-time.ts';
import { decorrelatedJitter, SendStopped } from '../event-handler/forward/forwarder.ts';
import type { EventSink, Target } from '../event-handler/forward/forwarder.ts';
import { parseDefault, parseWithParser } from './http-body.ts';
import { splitTarget, tagFromPath } from './http-request.ts';

export interface EmitSinkOptions {
  /** The <parse> parser; undefined → in_http's default rules for `Content-Type: application/json`. */
  readonly parser: Parser | undefined;
  readonly dryRun: boolean;
  /** Backoff after a failed emit (buffer full, a failing output): start's send backoff. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
}

const RETRY_AFTER_CAP_MS = 60_000;

export class EmitSink implements EventSink {
  readonly #emit: EmitFn;
  readonly #opts: EmitSinkOptions;
  readonly #log: Logger;
  readonly #tags = new Map<string, string>();
  readonly #stop = new AbortController();
  sent = 0;
  failures = 0;

  constructor(emit: EmitFn, opts: EmitSinkOptions, log: Logger) {
    this.#emit = emit;
    this.#opts = opts;
    this.#log = log;
  }

  /** in_http's tag for a POST to this target. */
  #tagOf(t: Target): string {
    let tag = this.#tags.get(t.url);
    if (tag === undefined) {
      tag = tagFromPath(splitTarget(t.url).path, undefined);
      // One per audit target, one per session in flight: keep the map small.
      if (this.#tags.size > 1024) this.#tags.clear();
      this.#tags.set(t.url, tag);
    }
    return tag;
  }

  /** What in_http hands the router for this body (a fresh record each call: filters change records). */
  #events(body: string): Event[] {
    const input = { body: Buffer.from(body), contentType: 'application/json', params: new Map<string, string>() };
    const parsed = this.#opts.parser !== undefined ? parseWithParser(this.#opts.parser, input) : parseDefault(input);
    const events: Event[] = new Array(parsed.records.length);
    for (let i = 0; i < events.length; i++) events[i] = { time: parsed.times[i] ?? EventTime.now(), record: parsed.records[i] };
    return events;
  }

  /**
   * Emits until the router's outputs acknowledge; the first attempt's emit is called before
   * any await, so events reach the buffer in the order send() was called.
   */
  async send(t: Target, body: string): Promise<void> {
    if (this.#opts.dryRun) return;
    const base = this.#opts.backoffBaseMs ?? 1000;
    const cap = this.#opts.backoffMaxMs ?? 10_000;
    let sleepMs = base;
    for (;;) {
      if (this.#stop.signal.aborted) throw new SendStopped();
      let retryAfterMs: number | undefined;
      try {
        const tag = this.#tagOf(t);
        const events = this.#events(body);
        if (events.length > 0) await this.#emit(tag, events);
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
