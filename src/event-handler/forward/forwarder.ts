// Sends events to Fluentd (or our receiver) exactly as upstream's fluentd_client.go does
// (docs/compatibility-event-handler.md §3): one POST per event, `Content-Type: application/json`, success
// is HTTP 200 only, mTLS with the fluentd ca/cert/key, a keep-alive pool of max-connections
// sockets, a 30 s timeout. App.SendEvent's retry: decorrelated jitter (base 1 s, cap 10 s), up to
// 6 attempts; then, like the legacy watcher's "Failed to export event, retrying..." loop, pause
// 5 s and start over, forever: an audit event is never skipped. A 503 carrying Retry-After (our
// receiver's back-pressure answer) waits that long instead of the jittered backoff.
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { PipelineGate } from './pipeline-gate.ts';
import { USER_AGENT } from '../user-agent.ts';

export interface ForwarderOptions {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly maxConnections: number;
  readonly dryRun: boolean;
  /** Test knobs; the defaults are upstream's. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly roundPauseMs?: number;
}

const REQUEST_TIMEOUT_MS = 30_000;
export const SEND_TRIES = 6; // the attempt + sendBackoffNumTries (5)
const RETRY_AFTER_CAP_MS = 60_000;

/** A POST target parsed once (per URL, not per event). */
export interface Target {
  readonly url: string;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly path: string;
}

export function parseTarget(url: string): Target {
  const u = new URL(url);
  const secure = u.protocol === 'https:';
  return { url, secure, host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || (secure ? 443 : 80)), path: u.pathname + u.search };
}

/** backoff.Decorr: sleep = min(cap, base + rand*(3*sleep - base)). */
export function decorrelatedJitter(sleepMs: number, base: number, cap: number): number {
  return Math.min(cap, base + Math.random() * (sleepMs * 3 - base));
}

export class SendStopped extends Error {
  constructor() {
    super('forwarder stopped');
    this.name = 'SendStopped';
  }
}

interface Attempt {
  readonly status: number;
  readonly retryAfterMs?: number;
  readonly error?: Error;
}

/**
 * Where `start`'s audit pipeline and session job hand one event: `send` resolves once the event
 * is safe at the other end (HTTP 200 here; a buffer append acknowledged for the receiver's
 * `<source> @type teleport`), retries until then, and throws SendStopped once stop() was called.
 * The position saved never passes an event whose send has not resolved.
 */
export interface EventSink {
  /** Events delivered so far. */
  readonly sent: number;
  /** Delivery attempts that failed (each is retried). */
  readonly failures: number;
  send(t: Target, body: string): Promise<void>;
  stop(): void;
  close(): void;
}

export class Forwarder implements EventSink {
  readonly #https: HttpsAgent;
  readonly #http: HttpAgent;
  readonly #log: Logger;
  readonly #opts: ForwarderOptions;
  #stopped = false;
  readonly #stop = new AbortController();
  sent = 0;
  failures = 0;

  constructor(opts: ForwarderOptions, log: Logger) {
    this.#opts = opts;
    this.#log = log;
    const pool = { keepAlive: true, maxSockets: opts.maxConnections, maxFreeSockets: opts.maxConnections, scheduling: 'fifo' as const };
    this.#https = new HttpsAgent({
      ...pool,
      ca: opts.ca !== undefined ? readFileSync(opts.ca) : undefined,
      cert: opts.cert !== undefined ? readFileSync(opts.cert) : undefined,
      key: opts.key !== undefined ? readFileSync(opts.key) : undefined,
      // http2.ConfigureTransport would offer h2 first; in_http speaks HTTP/1.1, which Go falls back to.
      ALPNProtocols: ['http/1.1'],
    });
    this.#http = new HttpAgent(pool);
  }

  /** One attempt; resolves with the status (0 on a transport error). */
  #post(t: Target, body: string): Promise<Attempt> {
    return new Promise((resolve) => {
      const req = (t.secure ? httpsRequest : httpRequest)({
        host: t.host,
        port: t.port,
        path: t.path,
        method: 'POST',
        agent: t.secure ? this.#https : this.#http,
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'User-Agent': USER_AGENT },
        timeout: REQUEST_TIMEOUT_MS,
      });
      req.on('response', (res: IncomingMessage) => {
        res.resume(); // body ignored, connection back to the pool
        res.on('end', () => {
          const ra = res.headers['retry-after'];
          const secs = ra === undefined ? NaN : Number(ra);
          resolve({ status: res.statusCode ?? 0, retryAfterMs: Number.isFinite(secs) ? Math.min(secs * 1000, RETRY_AFTER_CAP_MS) : undefined });
        });
        res.on('error', (error) => resolve({ status: 0, error }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', (error) => resolve({ status: 0, error }));
      req.end(body);
    });
  }

  /** Sends until HTTP 200; throws SendStopped only when stop() was called. */
  async send(t: Target, body: string): Promise<void> {
    if (this.#opts.dryRun) return;
    const base = this.#opts.backoffBaseMs ?? 1000;
    const cap = this.#opts.backoffMaxMs ?? 10_000;
    for (;;) {
      let sleepMs = base;
      for (let tries = 1; ; tries++) {
        if (this.#stopped) throw new SendStopped();
        const a = await this.#post(t, body);
        if (a.status === 200) {
          this.sent++;
          return;
        }
        this.failures++;
        if (tries >= SEND_TRIES) {
          this.#log.error({ url: t.url, status: a.status, error: a.error?.message }, 'Failed to send event to fluentd');
          break;
        }
        sleepMs = decorrelatedJitter(sleepMs, base, cap);
        const wait = a.status === 503 && a.retryAfterMs !== undefined ? a.retryAfterMs : sleepMs;
        this.#log.debug({ url: t.url, status: a.status, error: a.error?.message, waitMs: Math.round(wait) }, 'Failed to send event to fluentd (HTTP %s), retrying', a.status);
        await this.#wait(wait);
      }
      this.#log.warn('Failed to export event, retrying...');
      await this.#wait(this.#opts.roundPauseMs ?? 5000);
    }
  }

  async #wait(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stop.signal });
    } catch {
      throw new SendStopped();
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#stop.abort();
  }

  close(): void {
    this.stop();
    this.#https.destroy();
    this.#http.destroy();
  }
}

/** What the audit paths (audit-dispatch.ts) push their events into. */
export interface AuditPipeline<T> {
  readonly inFlight: number;
  push(item: T, target: Target, body: string, onSent?: (item: T) => Promise<void> | undefined): Promise<void>;
  pushDone(item: T): Promise<void>;
  drain(): Promise<void>;
}

/**
 * Audit events in order with up to `maxInFlight` POSTs outstanding through the pool. start uses
 * it for `--fluentd-max-in-flight 1` (upstream's one at a time) and dry-run; more in flight go
 * through PipelinedPipeline (one pipelined connection), since pool sockets let adjacent POSTs
 * overtake each other. `onCommit` gets each item, in push order, once it and every item before
 * it were answered 200, so a saved position never passes an unanswered event and a
 * crash re-sends at most the in-flight window.
 */
export class OrderedPipeline<T> implements AuditPipeline<T> {
  readonly #max: number;
  readonly #forwarder: EventSink;
  readonly #onCommit: (item: T) => void;
  readonly #items: T[] = [];
  readonly #done: boolean[] = [];
  #head = 0;
  readonly #gate = new PipelineGate(() => this.inFlight);

  constructor(maxInFlight: number, forwarder: EventSink, onCommit: (item: T) => void) {
    this.#max = Math.max(1, maxInFlight);
    this.#forwarder = forwarder;
    this.#onCommit = onCommit;
  }

  get inFlight(): number {
    return this.#items.length - this.#head;
  }

  /**
   * Waits for room in the window, then starts the POST; `onSent` runs once it was answered 200,
   * and the item counts as done (committable) only once the promise it returns has settled.
   */
  async push(item: T, target: Target, body: string, onSent?: (item: T) => Promise<void> | undefined): Promise<void> {
    await this.#gate.room(this.#max);
    const slot = this.#items.length;
    this.#items.push(item);
    this.#done.push(false);
    this.#forwarder
      .send(target, body)
      .then(() => onSent?.(item))
      .then(
        () => this.#complete(slot),
        (err: unknown) => this.#gate.fail(err),
      );
  }

  /** An event that is not sent (skip-event-types, a window moved on): only its position counts. */
  async pushDone(item: T): Promise<void> {
    this.#gate.check();
    if (this.inFlight === 0) {
      this.#onCommit(item);
      return;
    }
    this.#items.push(item);
    this.#done.push(true);
  }

  #complete(slot: number): void {
    this.#done[slot] = true;
    const from = this.#head;
    while (this.#head < this.#items.length && this.#done[this.#head]) this.#head++;
    if (this.#head > from) {
      // Every item, in order: positions of different bulk chunks interleave, each must land.
      const items = this.#items.slice(from, this.#head);
      if (this.#head === this.#items.length) {
        this.#items.length = 0;
        this.#done.length = 0;
        this.#head = 0;
      }
      for (const item of items) this.#onCommit(item);
      this.#gate.wake();
    }
  }

  /** Resolves when every pushed item was answered (or rejects with the first stop). */
  async drain(): Promise<void> {
    await this.#gate.drain();
  }
}
