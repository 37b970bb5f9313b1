// `start`: wires credentials, state, the Teleport client, the audit path (bulk or window/page),
// session ingest, forwarding and progress together (docs/compatibility-event-handler.md §3–5, app.go).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { checkNotExpired, loadIdentityFile, loadKeyPair } from '../teleport/identity.ts';
import { GrpcStatus, isGrpcStatus } from '../teleport/teleport-client.ts';
import type { TeleportClient } from '../teleport/teleport-client.ts';
import { connectTeleport } from './connect.ts';
import type { ConnectTuning } from './connect.ts';
import { LatestWins, StateStore } from '../state/state.ts';
import { CursorV2Writer, dateKey, loadCursorV2 } from '../state/cursor-v2.ts';
import { AuditDispatch } from '../audit/audit-dispatch.ts';
import { LegacyWatcher } from '../audit/audit-legacy.ts';
import type { LegacyPosition } from '../audit/audit-legacy.ts';
import { BulkExporter } from '../audit/audit-bulk.ts';
import type { BulkPosition } from '../audit/audit-bulk.ts';
import { Progress } from './progress.ts';
import { Senders } from './senders.ts';
import type { SendTuning } from './senders.ts';
import type { EventSink } from '../forward/forwarder.ts';
import type { StartConfig } from './start-config.ts';
import { exporterRegistry, startMetricsServer } from './metrics.ts';
import type { ExporterFigures } from './metrics.ts';

/** Knobs for tests and the benchmark; every default is upstream's. */
export interface StartTuning extends SendTuning, ConnectTuning {
  readonly pollIntervalMs?: number;
  readonly progressIntervalMs?: number;
  readonly probeRetryMs?: number;
}

export interface StartOptions {
  readonly log: Logger;
  /** Stops the run (SIGTERM/SIGINT in the CLI). */
  readonly signal?: AbortSignal;
  /** A TTY for the progress bar; undefined → periodic log lines. */
  readonly tty?: NodeJS.WriteStream;
  readonly tuning?: StartTuning;
  /** Where events go instead of HTTPS to `[forward.fluentd]` (the receiver's `<source> @type teleport`). */
  readonly sink?: EventSink;
}

export interface StartResult {
  readonly path: 'bulk' | 'legacy';
  readonly auditEvents: number;
  readonly sessionEvents: number;
  readonly stateDir: string;
}

/** Test/benchmark knobs from the environment (not upstream's; every default is upstream's). */
export function tuningFromEnv(env: NodeJS.ProcessEnv): StartTuning {
  const n = (name: string) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : undefined);
  return {
    backoffBaseMs: n('AUDITRELAY_EXPORTER_BACKOFF_BASE_MS'),
    backoffMaxMs: n('AUDITRELAY_EXPORTER_BACKOFF_MAX_MS'),
    roundPauseMs: n('AUDITRELAY_EXPORTER_ROUND_PAUSE_MS'),
    pollIntervalMs: n('AUDITRELAY_EXPORTER_POLL_INTERVAL_MS'),
    missingDelayMs: n('AUDITRELAY_EXPORTER_MISSING_DELAY_MS'),
    progressIntervalMs: n('AUDITRELAY_EXPORTER_PROGRESS_INTERVAL_MS'),
    probeRetryMs: n('AUDITRELAY_EXPORTER_PROBE_RETRY_MS'),
    rpcRetryMs: n('AUDITRELAY_EXPORTER_RPC_RETRY_MS'),
  };
}

const SHUTDOWN_GRACE_MS = 5000; // lib.ServeSignals(app, 5s)
const DAY_MS = 86_400_000;

/** What the route probe and the audit runs share within one `start`. */
interface Run {
  readonly cfg: StartConfig;
  readonly tuning: StartTuning;
  readonly log: Logger;
  readonly state: StateStore;
  readonly client: TeleportClient;
  readonly getClient: () => TeleportClient;
  readonly senders: Senders;
  readonly startMs: number;
  readonly signal: AbortSignal;
  readonly skip: ReadonlySet<string>;
  readonly saver: LatestWins;
  /** The running audit path's dispatch, once there is one (for progress). */
  dispatch: { progress: { positionMs: number; fetched: number } } | undefined;
}

/** What the metrics read, filled in as the run gets there (the listener is up before Teleport answers). */
interface Live {
  senders?: Senders;
  run?: Run;
}

function figures(live: Live): ExporterFigures {
  return {
    auditFetched: () => live.run?.dispatch?.progress.fetched ?? 0,
    sessionFetched: () => live.senders?.sessions.eventsFetched ?? 0,
    auditSent: () => live.senders?.auditSent ?? 0,
    sessionSent: () => live.senders?.sessions.eventsSent ?? 0,
    sendFailures: () => live.senders?.sendFailures ?? 0,
    positionMs: () => live.run?.dispatch?.progress.positionMs ?? 0,
    sessionStreamsOpen: () => live.senders?.sessions.open ?? 0,
    sessionsGivenUp: () => live.senders?.sessions.sessionsGivenUp ?? 0,
  };
}

export async function runStart(cfg: StartConfig, opts: StartOptions): Promise<StartResult> {
  const live: Live = {};
  const metrics = cfg.metricsAddr === undefined ? undefined : await startMetricsServer(cfg.metricsAddr, exporterRegistry(figures(live)), opts.log);
  try {
    return await runStartLive(cfg, opts, live);
  } finally {
    await metrics?.close();
  }
}

async function runStartLive(cfg: StartConfig, opts: StartOptions, live: Live): Promise<StartResult> {
  const log = opts.log;
  const tuning = opts.tuning ?? {};
  const creds = cfg.teleportIdentity !== undefined ? await loadIdentityFile(cfg.teleportIdentity) : loadKeyPair(cfg.teleportCert!, cfg.teleportKey!, cfg.teleportCa!);
  checkNotExpired(creds);

  const state = new StateStore(cfg.storage, cfg.teleportAddr, cfg.dryRun);
  log.info({ dir: state.dir }, 'Using storage directory');
  const startTime = state.initStartTime(cfg.startTime);
  const client = await connectTeleport(cfg.teleportAddr, creds, log, { ...tuning, connectRetryMs: tuning.connectRetryMs ?? tuning.probeRetryMs }, opts.signal);
  if (client === undefined) return { path: 'legacy', auditEvents: 0, sessionEvents: 0, stateDir: state.dir };
  const getClient = () => client;

  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onOuterAbort);

  const senders = new Senders(cfg, tuning, log, state, getClient, opts.sink);
  const refreshTimer = startIdentityRefresh(cfg, client, log);
  const saveError = (err: unknown) => log.warn({ error: (err as Error).message }, 'Failed to save cursor values, will retry');
  const run: Run = {
    cfg,
    tuning,
    log,
    state,
    client,
    getClient,
    senders,
    startMs: startTime.getTime(),
    signal: stop.signal,
    skip: new Set(cfg.skipEventTypes),
    saver: new LatestWins(saveError),
    dispatch: undefined,
  };
  live.senders = senders;
  live.run = run;
  const progress = new Progress(
    {
      startMs: run.startMs,
      positionMs: () => run.dispatch?.progress.positionMs || run.startMs,
      eventsSent: () => senders.eventsSent,
      sessionsInFlight: () => senders.sessions.inFlight,
    },
    log,
    opts.tty,
    tuning.progressIntervalMs ?? 30_000,
  );

  senders.sessions.start();
  let path: 'bulk' | 'legacy' | undefined;
  try {
    path = await probeRoute(run);
    log.info({ path }, path === 'bulk' ? 'Using the bulk event export API' : 'Bulk event export API not available, using the legacy search API');
    if (path === 'legacy') await runLegacy(run);
    else if (path === 'bulk') await runBulk(run);
    // Let the recordings registered so far and the locks asked for finish (missing ones wait for a later run).
    if (cfg.exitOnLastEvent && !stop.signal.aborted) await senders.idle(stop.signal);
  } finally {
    progress.stop();
    clearInterval(refreshTimer);
    await shutdown(run);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
  return { path: path ?? 'legacy', auditEvents: senders.auditSent, sessionEvents: senders.sessions.eventsSent, stateDir: state.dir };
}

/** teleport-refresh-enabled with an identity file: reload it every interval. */
function startIdentityRefresh(cfg: StartConfig, client: TeleportClient, log: Logger): NodeJS.Timeout | undefined {
  if (!cfg.teleportRefreshEnabled || cfg.teleportIdentity === undefined) return undefined;
  const path = cfg.teleportIdentity;
  const timer = setInterval(() => {
    client.refreshFromIdentity(path).then(
      (changed) => changed && log.info({ path, notAfter: client.credentials.notAfter }, 'Reloaded the identity file'),
      (err: unknown) => log.error({ path, error: (err as Error).message }, 'Failed to reload the identity file, keeping the current one'),
    );
  }, cfg.teleportRefreshIntervalMs);
  timer.unref();
  return timer;
}

/** events_job.go runPolling: with no cursor_v2 state, probe the bulk API; undefined if stopped first. */
async function probeRoute(run: Run): Promise<'bulk' | 'legacy' | undefined> {
  if (run.state.hasCursorV2()) return 'bulk';
  while (!run.signal.aborted) {
    try {
      await run.client.getEventExportChunks(Date.now() + 2 * DAY_MS);
      return 'bulk';
    } catch (err) {
      if (isGrpcStatus(err, GrpcStatus.UNIMPLEMENTED)) return 'legacy';
      // Unreachable now though a route connected at start: say what each route gives now.
      const routes = isGrpcStatus(err, GrpcStatus.UNAVAILABLE) ? await run.client.diagnoseRoutes(run.tuning.dialTimeoutMs) : undefined;
      run.log.error({ addr: run.client.addr, error: (err as Error).message, ...(routes === undefined ? {} : { routes }) }, 'Unexpected error in watch loop. Reconnecting in 5s...');
      await sleep(run.tuning.probeRetryMs ?? 5000, undefined, { signal: run.signal }).catch(() => {});
    }
  }
  return undefined;
}

/** The window/page search path (SearchUnstructuredEvents), position in the legacy state files. */
async function runLegacy(run: Run): Promise<void> {
  const { cfg, state, saver } = run;
  const pipeline = run.senders.auditPipeline<LegacyPosition>(
    lastOfBatch((p) => saver.schedule(() => state.setLegacyPosition(new Date(p.windowMs), p.cursor, p.id))),
  );
  const dispatch = new AuditDispatch(pipeline, run.senders.auditTarget, run.skip, undefined, run.senders.sessions, run.senders.locker);
  run.dispatch = dispatch;
  const watcher = new LegacyWatcher(
    run.getClient,
    dispatch,
    { windowTime: state.getWindowTime(), cursor: state.getCursor(), id: state.getId() },
    { startMs: run.startMs, windowSizeMs: cfg.windowSizeMs, batch: cfg.batch, types: cfg.types, timeoutMs: cfg.timeoutMs, exitOnLastEvent: cfg.exitOnLastEvent, retryMs: run.tuning.rpcRetryMs },
    run.log,
    run.signal,
  );
  await watcher.run();
  await finish(dispatch.drain(), run.signal);
}

/** The bulk export path (GetEventExportChunks / ExportUnstructuredEvents), position in cursor_v2. */
async function runBulk(run: Run): Promise<void> {
  const { cfg, state, saver } = run;
  const loaded = loadCursorV2(state.cursorV2Dir);
  // Legacy cursor values but no cursor_v2: seed the legacy window's date (events_job.go).
  const legacyWindow = state.getWindowTime();
  if (loaded.size === 0 && legacyWindow !== undefined) loaded.set(dateKey(legacyWindow.getTime()), { completed: new Set(), partial: new Map() });
  const writer = new CursorV2Writer(state.cursorV2Dir, loaded);
  const live = loaded;
  const save = lastOfBatch(() => saver.schedule(() => writer.sync(live)));
  const pipeline = run.senders.auditPipeline<BulkPosition>((p) => {
    // Every position lands (chunks interleave in the pipeline); the disk write once per batch.
    BulkExporter.commit(live, p);
    save(p);
  });
  const dispatch = new AuditDispatch(pipeline, run.senders.auditTarget, run.skip, new Set(cfg.types), run.senders.sessions, run.senders.locker);
  run.dispatch = dispatch;
  const exporter = new BulkExporter(run.getClient, dispatch, live, { startMs: run.startMs, exitOnLastEvent: cfg.exitOnLastEvent, pollIntervalMs: run.tuning.pollIntervalMs ?? 16_000, retryMs: run.tuning.rpcRetryMs, chunkConcurrency: Math.max(Math.floor(cfg.concurrency / 4), 3) }, run.log, run.signal);
  saver.schedule(() => writer.sync(live));
  await exporter.run();
  await finish(dispatch.drain(), run.signal);
  saver.schedule(() => writer.sync(live));
}

/**
 * The pipelines commit every answered item in order, synchronously; `fn` runs once (a microtask
 * later) with the last of such a batch, so the first write of a batch is not an older position.
 */
function lastOfBatch<T>(fn: (p: T) => void): (p: T) => void {
  let latest: T;
  let queued = false;
  return (p) => {
    latest = p;
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      fn(latest);
    });
  };
}

/** Waits for in-flight POSTs, at most the shutdown grace once stopping. */
async function finish(drain: Promise<void>, stop: AbortSignal): Promise<void> {
  drain.catch(() => {});
  if (!stop.aborted) {
    await drain.catch(() => {});
    return;
  }
  await Promise.race([drain.catch(() => {}), sleep(SHUTDOWN_GRACE_MS)]);
}

/** Stops the senders, lets the last cursor saves land, then closes the sockets and the client. */
async function shutdown(run: Run): Promise<void> {
  run.senders.stop();
  await run.saver.idle();
  run.senders.close();
  run.client.close();
}
