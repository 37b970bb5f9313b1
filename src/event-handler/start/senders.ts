// What one `start` run sends with: the pooled Forwarder (sessions, dry-run and the one-at-a-time
// audit path), session ingest, user locks, and the audit pipeline built on top of them
// (docs/compatibility-event-handler.md §3–5, app.go). Given another EventSink (the receiver's
// `<source> @type teleport` emits into its router), everything goes through that sink instead,
// in order, `fluentd-max-in-flight` at a time; the pipelined HTTP connection is not used.
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { Forwarder, OrderedPipeline, parseTarget } from '../forward/forwarder.ts';
import type { AuditPipeline, EventSink, Target } from '../forward/forwarder.ts';
import { PipelinedPipeline } from '../forward/pipelined-pipeline.ts';
import type { TlsMaterial } from '../forward/pipelined-client.ts';
import type { StateStore } from '../state/state.ts';
import type { TeleportClient } from '../teleport/teleport-client.ts';
import { SessionJob } from '../audit/sessions.ts';
import { UserLocker } from '../audit/locks.ts';
import type { StartConfig } from './start-config.ts';

/** The sending side of StartTuning (tests and the benchmark); every default is upstream's. */
export interface SendTuning {
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly roundPauseMs?: number;
  readonly missingDelayMs?: number;
  /** Wait after a failed RPC (upstream: 5 s legacy, 3 s.. session backoff, 5.6 s.. bulk). */
  readonly rpcRetryMs?: number;
  /** Stream attempts before a session recording is given up (default 10). */
  readonly sessionMaxAttempts?: number;
}

/**
 * Audit POSTs in flight on the pipelined connection by default. Ten (max-connections' default)
 * capped a backfill at 10 events per round trip (~1 000/s at 10 ms RTT), and each read and write
 * carried few requests: steady CPU µs/event on loopback (bench/exporter.bench.ts, two runs each)
 * at 10 / 64 / 128 / 256 in flight: exporter 68–71 / 45–61 / 45–58 / 43–52, receiver 55–58 /
 * 39–50 / 42–49 / 35–42. 128 bounds what a crash or a failed answer re-sends (the dedup filters
 * `configure` writes drop the repeats).
 */
export const PIPELINE_WINDOW = 128;

export class Senders {
  readonly forwarder: EventSink;
  readonly sessions: SessionJob;
  /** TryLockUser: only with lock-enabled and not dry-run. */
  readonly locker: UserLocker | undefined;
  readonly auditTarget: Target;
  readonly #log: Logger;
  readonly #tuning: SendTuning;
  readonly #maxInFlight: number;
  readonly #pipelined: boolean;
  readonly #tls: TlsMaterial | undefined;
  #stream: PipelinedPipeline<unknown> | undefined;

  constructor(cfg: StartConfig, tuning: SendTuning, log: Logger, state: StateStore, getClient: () => TeleportClient, sink?: EventSink) {
    this.#log = log;
    this.#tuning = tuning;
    this.forwarder = sink ?? new Forwarder(
      {
        ca: cfg.fluentdCa,
        cert: cfg.fluentdCert,
        key: cfg.fluentdKey,
        maxConnections: cfg.fluentdMaxConnections,
        dryRun: cfg.dryRun,
        backoffBaseMs: tuning.backoffBaseMs,
        backoffMaxMs: tuning.backoffMaxMs,
        roundPauseMs: tuning.roundPauseMs,
      },
      log,
    );
    this.sessions = new SessionJob(
      getClient,
      this.forwarder,
      state,
      { sessionUrl: cfg.fluentdSessionUrl, concurrency: cfg.concurrency, skipTypes: new Set(cfg.skipSessionTypes), missingDelayMs: tuning.missingDelayMs, retryBaseMs: tuning.rpcRetryMs, maxAttempts: tuning.sessionMaxAttempts },
      log,
    );
    this.locker =
      cfg.lockEnabled && !cfg.dryRun
        ? new UserLocker(getClient, { failedAttempts: cfg.lockFailedAttemptsCount, periodMs: cfg.lockPeriodMs, lockForMs: cfg.lockForMs, retryMs: tuning.rpcRetryMs }, log)
        : undefined;

    const direct = !cfg.dryRun && sink === undefined;
    // 0: on the pipelined connection a window of PIPELINE_WINDOW (or max-connections if larger),
    // elsewhere max-connections, as upstream's semaphore.
    this.#maxInFlight = cfg.fluentdMaxInFlight > 0 ? cfg.fluentdMaxInFlight : direct ? Math.max(PIPELINE_WINDOW, cfg.fluentdMaxConnections) : cfg.fluentdMaxConnections;
    this.auditTarget = parseTarget(cfg.fluentdUrl);
    // More than one in flight: ONE connection with HTTP/1.1 pipelining, so the receiver gets the
    // events in order (pool sockets would let adjacent POSTs overtake each other). One at a time
    // (and dry-run): upstream's path through the pool, unchanged.
    this.#pipelined = this.#maxInFlight > 1 && direct;
    this.#tls = this.#pipelined
      ? {
          ca: cfg.fluentdCa !== undefined ? readFileSync(cfg.fluentdCa) : undefined,
          cert: cfg.fluentdCert !== undefined ? readFileSync(cfg.fluentdCert) : undefined,
          key: cfg.fluentdKey !== undefined ? readFileSync(cfg.fluentdKey) : undefined,
        }
      : undefined;
  }

  /** The ordered audit pipeline: through the pool, or over the one pipelined connection. */
  auditPipeline<T>(onCommit: (item: T) => void): AuditPipeline<T> {
    if (!this.#pipelined) return new OrderedPipeline<T>(this.#maxInFlight, this.forwarder, onCommit);
    const t = this.#tuning;
    const p = new PipelinedPipeline<T>(
      { target: this.auditTarget, tls: this.#tls, maxInFlight: this.#maxInFlight, backoffBaseMs: t.backoffBaseMs, backoffMaxMs: t.backoffMaxMs, roundPauseMs: t.roundPauseMs },
      this.#log,
      onCommit,
    );
    this.#stream = p as PipelinedPipeline<unknown>;
    return p;
  }

  /** Events answered 200, audit and session. */
  get eventsSent(): number {
    return this.forwarder.sent + (this.#stream?.sent ?? 0);
  }

  /** POST attempts not answered 200, audit and session (each is retried). */
  get sendFailures(): number {
    return this.forwarder.failures + (this.#stream?.failures ?? 0);
  }

  /** Audit events answered 200 (the forwarder also carries the session events). */
  get auditSent(): number {
    return this.forwarder.sent - this.sessions.eventsSent + (this.#stream?.sent ?? 0);
  }

  /** Resolves once the recordings registered so far and the locks asked for are done, or on `signal`. */
  idle(signal: AbortSignal): Promise<unknown> {
    return Promise.race([Promise.all([this.sessions.idle(), this.locker?.idle()]), new Promise((r) => signal.addEventListener('abort', r, { once: true }))]);
  }

  /** Stops sending: sessions, locks, retries and the pipelined stream. */
  stop(): void {
    this.sessions.stop();
    this.locker?.stop();
    this.forwarder.stop();
    this.#stream?.stop();
  }

  /** Closes the sockets; after stop() and after the cursor saves are done. */
  close(): void {
    this.forwarder.close();
    this.#stream?.close();
  }
}
