// The ordered audit stream over ONE pipelined HTTP/1.1 connection (pipelined-client.ts): up to
// `max-in-flight` POSTs outstanding, written and answered in stream order, so the receiver gets
// the events in the server's order (issue 7 §5) while a backfill does not pay one round trip per
// event. Same wire format and success rule as upstream (docs/compatibility-event-handler.md §3: HTTP 200
// only) and the same retry rules as Forwarder.send (decorrelated jitter 1 s..10 s, 6 tries, then a
// 5 s pause and over again, forever; a 503's Retry-After instead of the jitter).
//
// After a failure (non-200, or the connection broke) everything from the first request not
// answered 200 is written again, in order, on the same or a new connection; answers still due to
// requests written before the failure are ignored. Requests that were pipelined behind a failed
// one may already have been accepted, so they can arrive twice (only inside the in-flight
// window), never skipped. `onCommit` gets each item, in push order, once it and every item before
// it were answered 200 (and their onSent settled): the saved cursor never passes an event the receiver did not accept.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { decorrelatedJitter, SEND_TRIES, SendStopped } from './forwarder.ts';
import type { AuditPipeline, Target } from './forwarder.ts';
import { PipelinedConnection } from './pipelined-client.ts';
import type { ConnectionEvents, TlsMaterial } from './pipelined-client.ts';
import { PipelineGate } from './pipeline-gate.ts';

export interface PipelinedPipelineOptions {
  readonly target: Target;
  readonly tls?: TlsMaterial;
  readonly maxInFlight: number;
  /** Test knobs; the defaults are upstream's. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly roundPauseMs?: number;
}

type OnSent<T> = (item: T) => Promise<void> | undefined;
const COMPACT_AT = 1024;

export class PipelinedPipeline<T> implements AuditPipeline<T> {
  readonly #opts: PipelinedPipelineOptions;
  readonly #max: number;
  readonly #log: Logger;
  readonly #onCommit: (item: T) => void;
  // Entries of the stream; absolute sequence number = #base + local index.
  #items: T[] = [];
  #bodies: (string | undefined)[] = [];
  #sentCb: (OnSent<T> | undefined)[] = [];
  #done: boolean[] = [];
  #base = 0;
  #head = 0; // local index of the first entry not committed
  #sendPtr = 0; // absolute sequence number of the next entry to write
  // Requests on the current connection in write order: their entry and the epoch they were written in.
  #wireSeq: number[] = [];
  #wireEpoch: number[] = [];
  #wireHead = 0;
  #epoch = 0; // bumped at each rewind: answers to requests of older epochs are ignored
  #conn: PipelinedConnection | undefined;
  #waiting = false;
  #attempts = 0;
  #sleepMs: number;
  #stopped = false;
  readonly #stop = new AbortController();
  readonly #gate = new PipelineGate(() => this.inFlight);
  readonly #afterWait = () => {
    this.#waiting = false;
    this.#pump();
  };
  #pumpQueued = false;
  readonly #queuedPump = () => {
    this.#pumpQueued = false;
    this.#pump();
  };
  readonly #stoppedWait = () => this.#gate.fail(new SendStopped());
  readonly #failCb = (err: unknown) => this.#gate.fail(err);
  /** Events answered 200 (once each; a resent duplicate's 200 is not counted again). */
  sent = 0;
  failures = 0;

  constructor(opts: PipelinedPipelineOptions, log: Logger, onCommit: (item: T) => void) {
    this.#opts = opts;
    this.#max = Math.max(1, opts.maxInFlight);
    this.#log = log;
    this.#onCommit = onCommit;
    this.#sleepMs = opts.backoffBaseMs ?? 1000;
  }

  get inFlight(): number {
    return this.#items.length - this.#head;
  }

  async push(item: T, target: Target, body: string, onSent?: OnSent<T>): Promise<void> {
    if (target.url !== this.#opts.target.url) throw new Error(`pipelined stream for ${this.#opts.target.url} got an event for ${target.url}`);
    await this.#gate.room(this.#max);
    this.#append(item, body, onSent, false);
    // Written once the pushes of this turn are in: the answers of one read free several slots,
    // their pushes follow in microtasks, and go out as one write (one TLS record, one syscall)
    // instead of one each.
    if (!this.#pumpQueued) {
      this.#pumpQueued = true;
      setImmediate(this.#queuedPump);
    }
  }

  async pushDone(item: T): Promise<void> {
    this.#gate.check();
    if (this.inFlight === 0) {
      this.#onCommit(item);
      return;
    }
    this.#append(item, undefined, undefined, true);
  }

  async drain(): Promise<void> {
    await this.#gate.drain();
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop.abort();
    if (this.inFlight > 0) this.#gate.fail(new SendStopped());
  }

  close(): void {
    this.stop();
    const c = this.#conn;
    this.#conn = undefined;
    c?.close();
  }

  #append(item: T, body: string | undefined, onSent: OnSent<T> | undefined, done: boolean): void {
    this.#items.push(item);
    this.#bodies.push(body);
    this.#sentCb.push(onSent);
    this.#done.push(done);
  }

  /** Writes entries from #sendPtr while the connection has room. */
  #pump(): void {
    if (this.#stopped || this.#waiting) return;
    const end = this.#base + this.#items.length;
    if (this.#sendPtr >= end) return;
    let conn = this.#conn;
    if (conn === undefined) {
      this.#wireSeq.length = 0;
      this.#wireEpoch.length = 0;
      this.#wireHead = 0;
      conn = this.#conn = this.#connect();
    }
    conn.cork();
    while (this.#sendPtr < end && conn.outstanding < this.#max) {
      const seq = this.#sendPtr++;
      const body = this.#bodies[seq - this.#base];
      if (body === undefined) continue; // a position only (pushDone): nothing to send
      conn.write(body);
      this.#wireSeq.push(seq);
      this.#wireEpoch.push(this.#epoch);
    }
    conn.uncork();
  }

  #connect(): PipelinedConnection {
    // One small object per connection (not per event) so a late event of a replaced connection is told apart.
    const events: ConnectionEvents & { conn?: PipelinedConnection } = {
      onAnswer: (status, retryAfterMs) => {
        if (events.conn === this.#conn) this.#onAnswer(status, retryAfterMs);
      },
      onClose: (error, announced) => {
        if (events.conn === this.#conn) this.#onClose(error, announced);
      },
    };
    events.conn = new PipelinedConnection(this.#opts.target, this.#opts.tls, events);
    return events.conn;
  }

  #onAnswer(status: number, retryAfterMs: number | undefined): void {
    const seq = this.#wireSeq[this.#wireHead];
    const epoch = this.#wireEpoch[this.#wireHead++];
    if (this.#wireHead === this.#wireSeq.length) {
      this.#wireSeq.length = 0;
      this.#wireEpoch.length = 0;
      this.#wireHead = 0;
    } else if (this.#wireHead >= COMPACT_AT) {
      this.#wireSeq = this.#wireSeq.slice(this.#wireHead);
      this.#wireEpoch = this.#wireEpoch.slice(this.#wireHead);
      this.#wireHead = 0;
    }
    if (epoch !== this.#epoch) {
      // Written before a failure and resent since: this answer no longer counts.
      this.#pump();
      return;
    }
    if (status !== 200) {
      this.failures++;
      this.#rewind(seq, status, retryAfterMs, undefined);
      return;
    }
    this.sent++;
    this.#attempts = 0;
    this.#sleepMs = this.#opts.backoffBaseMs ?? 1000;
    const i = seq - this.#base;
    const cb = this.#sentCb[i];
    const pending = cb === undefined ? undefined : cb(this.#items[i]);
    if (pending === undefined) this.#complete(seq);
    else pending.then(() => this.#complete(seq), this.#failCb); // only session.upload / locking events
    this.#pump();
  }

  #onClose(error: Error | undefined, announced: boolean): void {
    this.#conn = undefined;
    let first = -1;
    for (let k = this.#wireHead; k < this.#wireSeq.length; k++) {
      if (this.#wireEpoch[k] === this.#epoch) {
        first = this.#wireSeq[k];
        break;
      }
    }
    if (first < 0 || this.#stopped) {
      this.#pump(); // idle close (keep-alive timeout): the next write opens a new connection
      return;
    }
    if (announced) {
      // `Connection: close` on an answer: an orderly end (not a failure), resend the rest at once.
      this.#log.debug({ url: this.#opts.target.url, resend: this.#sendPtr - first }, 'Receiver closed the connection, resending the unanswered events');
      this.#epoch++;
      this.#sendPtr = first;
      this.#pump();
      return;
    }
    this.failures++;
    this.#rewind(first, 0, undefined, error ?? new Error('connection closed with requests unanswered'));
  }

  /** Forwarder.send's retry rules, applied to the first event not answered 200. */
  #rewind(seq: number, status: number, retryAfterMs: number | undefined, error: Error | undefined): void {
    this.#epoch++;
    this.#sendPtr = seq;
    if (this.#stopped) return this.#gate.fail(new SendStopped());
    const base = this.#opts.backoffBaseMs ?? 1000;
    let wait: number;
    if (++this.#attempts >= SEND_TRIES) {
      this.#log.error({ url: this.#opts.target.url, status, error: error?.message }, 'Failed to send event to fluentd');
      this.#log.warn('Failed to export event, retrying...');
      this.#attempts = 0;
      this.#sleepMs = base;
      wait = this.#opts.roundPauseMs ?? 5000;
    } else {
      this.#sleepMs = decorrelatedJitter(this.#sleepMs, base, this.#opts.backoffMaxMs ?? 10_000);
      wait = status === 503 && retryAfterMs !== undefined ? retryAfterMs : this.#sleepMs;
      this.#log.debug({ url: this.#opts.target.url, status, error: error?.message, waitMs: Math.round(wait) }, 'Failed to send event to fluentd (HTTP %s), retrying', status);
    }
    this.#waiting = true;
    sleep(wait, undefined, { signal: this.#stop.signal }).then(this.#afterWait, this.#stoppedWait);
  }

  #complete(seq: number): void {
    this.#done[seq - this.#base] = true;
    const from = this.#head;
    while (this.#head < this.#items.length && this.#done[this.#head]) this.#head++;
    if (this.#head === from) return;
    // Every item, in order: positions of different bulk chunks interleave, each must land.
    const items = this.#items.slice(from, this.#head);
    if (this.#head === this.#items.length || this.#head >= COMPACT_AT) {
      const n = this.#head;
      this.#items.splice(0, n);
      this.#bodies.splice(0, n);
      this.#sentCb.splice(0, n);
      this.#done.splice(0, n);
      this.#base += n;
      this.#head = 0;
    }
    for (const item of items) this.#onCommit(item);
    this.#gate.wake();
  }

}
