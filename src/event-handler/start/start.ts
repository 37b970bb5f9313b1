// `start`: wires credentials, state, the Teleport client, the audit path (bulk or window/page),
// session ingest, forwarding and progress together (teleport-event-handler.md §3–5, app.go).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { checkNotExpired, loadIdentityFile, loadKeyPair } from '../teleport/identity.ts';
import { GrpcStatus, isGrpcStatus, TeleportClient } from '../teleport/teleport-client.ts';
import { readFileSync } from 'node:fs';
import { Forwarder, OrderedPipeline, parseTarget } from '../forward/forwarder.ts';
import type { AuditPipeline } from '../forward/forwarder.ts';
import { PipelinedPipeline } from '../forward/pipelined-pipeline.ts';
import { LatestWins, StateStore } from '../state/state.ts';
import { CursorV2Writer, dateKey, loadCursorV2 } from '../state/cursor-v2.ts';
import { SessionJob } from '../audit/sessions.ts';
import { AuditDispatch } from '../audit/audit-dispatch.ts';
import { LegacyWatcher } from '../audit/audit-legacy.ts';
import type { LegacyPosition } from '../audit/audit-legacy.ts';
import { BulkExporter } from '../audit/audit-bulk.ts';
import type { BulkPosition } from '../audit/audit-bulk.ts';
import { Progress } from './progress.ts';
import { UserLocker } from '../audit/locks.ts';
import type { StartConfig } from './start-config.ts';

/** Knobs for tests and the benchmark; every default is upstream's. */
export interface StartTuning {
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  readonly roundPauseMs?: number;
  readonly pollIntervalMs?: number;
  readonly missingDelayMs?: number;
  readonly progressIntervalMs?: number;
  readonly probeRetryMs?: number;
  /** Wait after a failed RPC (upstream: 5 s legacy, 3 s.. session backoff, 5.6 s.. bulk). */
  readonly rpcRetryMs?: number;
}

export interface StartOptions {
  readonly log: Logger;
  /** Stops the run (SIGTERM/SIGINT in the CLI). */
  readonly signal?: AbortSignal;
  /** A TTY for the progress bar; undefined → periodic log lines. */
  readonly tty?: NodeJS.WriteStream;
  readonly tuning?: StartTuning;
}

export interface StartResult {
  readonly path: 'bulk' | 'legacy';
  readonly auditEvents: number;
  readonly sessionEvents: number;
  readonly stateDir: string;
}

const SHUTDOWN_GRACE_MS = 5000; // lib.ServeSignals(app, 5s)
const DAY_MS = 86_400_000;

export async function runStart(cfg: StartConfig, opts: StartOptions): Promise<StartResult> {
  const log = opts.log;
  const tuning = opts.tuning ?? {};
  const creds = cfg.teleportIdentity !== undefined ? await loadIdentityFile(cfg.teleportIdentity) : loadKeyPair(cfg.teleportCert!, cfg.teleportKey!, cfg.teleportCa!);
  checkNotExpired(creds);

  const state = new StateStore(cfg.storage, cfg.teleportAddr, cfg.dryRun);
  log.info({ dir: state.dir }, 'Using storage directory');
  const startTime = state.initStartTime(cfg.startTime);
  const client = new TeleportClient(cfg.teleportAddr, creds);
  const getClient = () => client;

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort);

  const forwarder = new Forwarder(
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
  const sessions = new SessionJob(
    getClient,
    forwarder,
    state,
    { sessionUrl: cfg.fluentdSessionUrl, concurrency: cfg.concurrency, skipTypes: new Set(cfg.skipSessionTypes), missingDelayMs: tuning.missingDelayMs, retryBaseMs: tuning.rpcRetryMs },
    log,
  );

  // TryLockUser: only with lock-enabled and not dry-run.
  const locker =
    cfg.lockEnabled && !cfg.dryRun
      ? new UserLocker(getClient, { failedAttempts: cfg.lockFailedAttemptsCount, periodMs: cfg.lockPeriodMs, lockForMs: cfg.lockForMs, retryMs: tuning.rpcRetryMs }, log)
      : undefined;

  let refreshTimer: NodeJS.Timeout | undefined;
  if (cfg.teleportRefreshEnabled && cfg.teleportIdentity !== undefined) {
    const path = cfg.teleportIdentity;
    refreshTimer = setInterval(() => {
      client.refreshFromIdentity(path).then(
        (changed) => changed && log.info({ path, notAfter: client.credentials.notAfter }, 'Reloaded the identity file'),
        (err: unknown) => log.error({ path, error: (err as Error).message }, 'Failed to reload the identity file, keeping the current one'),
      );
    }, cfg.teleportRefreshIntervalMs);
    refreshTimer.unref();
  }

  const maxInFlight = cfg.fluentdMaxInFlight > 0 ? cfg.fluentdMaxInFlight : cfg.fluentdMaxConnections;
  const auditTarget = parseTarget(cfg.fluentdUrl);
  // More than one in flight: ONE connection with HTTP/1.1 pipelining, so the receiver gets the
  // events in order (pool sockets would let adjacent POSTs overtake each other). One at a time
  // (and dry-run): upstream's path through the pool, unchanged.
  const pipelined = maxInFlight > 1 && !cfg.dryRun;
  const tls = pipelined
    ? {
        ca: cfg.fluentdCa !== undefined ? readFileSync(cfg.fluentdCa) : undefined,
        cert: cfg.fluentdCert !== undefined ? readFileSync(cfg.fluentdCert) : undefined,
        key: cfg.fluentdKey !== undefined ? readFileSync(cfg.fluentdKey) : undefined,
      }
    : undefined;
  let pipelinedStream: PipelinedPipeline<unknown> | undefined;
  function auditPipeline<T>(onCommit: (item: T) => void): AuditPipeline<T> {
    if (!pipelined) return new OrderedPipeline<T>(maxInFlight, forwarder, onCommit);
    const p = new PipelinedPipeline<T>(
      { target: auditTarget, tls, maxInFlight, backoffBaseMs: tuning.backoffBaseMs, backoffMaxMs: tuning.backoffMaxMs, roundPauseMs: tuning.roundPauseMs },
      log,
      onCommit,
    );
    pipelinedStream = p as PipelinedPipeline<unknown>;
    return p;
  }
  const auditSent = () => forwarder.sent - sessions.eventsSent + (pipelinedStream?.sent ?? 0);
  const skip = new Set(cfg.skipEventTypes);
  const saveError = (err: unknown) => log.warn({ error: (err as Error).message }, 'Failed to save cursor values, will retry');
  const saver = new LatestWins(saveError);
  let progressPosition = startTime.getTime();
  let auditDispatch: { progress: { positionMs: number } } | undefined;

  const progress = new Progress(
    {
      startMs: startTime.getTime(),
      positionMs: () => auditDispatch?.progress.positionMs || progressPosition,
      eventsSent: () => forwarder.sent + (pipelinedStream?.sent ?? 0),
      sessionsInFlight: () => sessions.inFlight,
    },
    log,
    opts.tty,
    tuning.progressIntervalMs ?? 30_000,
  );

  sessions.start();
  let path: 'bulk' | 'legacy' | undefined;
  try {
    // events_job.go runPolling: with no cursor_v2 state, probe the bulk API.
    if (state.hasCursorV2()) path = 'bulk';
    while (path === undefined && !stop.signal.aborted) {
      try {
        await client.getEventExportChunks(Date.now() + 2 * DAY_MS);
        path = 'bulk';
      } catch (err) {
        if (isGrpcStatus(err, GrpcStatus.UNIMPLEMENTED)) {
          path = 'legacy';
          break;
        }
        log.error({ error: (err as Error).message }, 'Unexpected error in watch loop. Reconnecting in 5s...');
        await sleep(tuning.probeRetryMs ?? 5000, undefined, { signal: stop.signal }).catch(() => {});
      }
    }
    log.info({ path }, path === 'bulk' ? 'Using the bulk event export API' : 'Bulk event export API not available, using the legacy search API');

    if (path === 'legacy') {
      const pipeline = auditPipeline<LegacyPosition>((p) => {
        saver.schedule(() => state.setLegacyPosition(new Date(p.windowMs), p.cursor, p.id));
      });
      const dispatch = new AuditDispatch(pipeline, auditTarget, skip, undefined, sessions, locker);
      auditDispatch = dispatch;
      const watcher = new LegacyWatcher(
        getClient,
        dispatch,
        { windowTime: state.getWindowTime(), cursor: state.getCursor(), id: state.getId() },
        { startMs: startTime.getTime(), windowSizeMs: cfg.windowSizeMs, batch: cfg.batch, types: cfg.types, timeoutMs: cfg.timeoutMs, exitOnLastEvent: cfg.exitOnLastEvent, retryMs: tuning.rpcRetryMs },
        log,
        stop.signal,
      );
      await watcher.run();
      await finish(dispatch.drain());
    } else if (path === 'bulk') {
      const loaded = loadCursorV2(state.cursorV2Dir);
      // Legacy cursor values but no cursor_v2: seed the legacy window's date (events_job.go).
      const legacyWindow = state.getWindowTime();
      if (loaded.size === 0 && legacyWindow !== undefined) loaded.set(dateKey(legacyWindow.getTime()), { completed: new Set(), partial: new Map() });
      const writer = new CursorV2Writer(state.cursorV2Dir, loaded);
      const live = loaded;
      const pipeline = auditPipeline<BulkPosition>((p) => {
        BulkExporter.commit(live, p);
        saver.schedule(() => writer.sync(live));
      });
      const dispatch = new AuditDispatch(pipeline, auditTarget, skip, new Set(cfg.types), sessions, locker);
      auditDispatch = dispatch;
      const exporter = new BulkExporter(getClient, dispatch, live, { startMs: startTime.getTime(), exitOnLastEvent: cfg.exitOnLastEvent, pollIntervalMs: tuning.pollIntervalMs ?? 16_000, retryMs: tuning.rpcRetryMs }, log, stop.signal);
      saver.schedule(() => writer.sync(live));
      await exporter.run();
      await finish(dispatch.drain());
      saver.schedule(() => writer.sync(live));
    }
    if (cfg.exitOnLastEvent && !stop.signal.aborted) {
      // Let the recordings registered so far and the locks asked for finish (missing ones wait for a later run).
      await Promise.race([Promise.all([sessions.idle(), locker?.idle()]), new Promise((r) => stop.signal.addEventListener('abort', r, { once: true }))]);
    }
  } finally {
    progress.stop();
    clearInterval(refreshTimer);
    sessions.stop();
    locker?.stop();
    forwarder.stop();
    pipelinedStream?.stop();
    await saver.idle();
    forwarder.close();
    pipelinedStream?.close();
    client.close();
    opts.signal?.removeEventListener('abort', onOuterAbort);
    void progressPosition;
  }

  /** Waits for in-flight POSTs, at most the shutdown grace once stopping. */
  async function finish(drain: Promise<void>): Promise<void> {
    drain.catch(() => {});
    if (!stop.signal.aborted) {
      await drain.catch(() => {});
      return;
    }
    await Promise.race([drain.catch(() => {}), sleep(SHUTDOWN_GRACE_MS)]);
  }

  progressPosition = 0;
  return { path: path ?? 'legacy', auditEvents: auditSent(), sessionEvents: sessions.eventsSent, stateDir: state.dir };
}
