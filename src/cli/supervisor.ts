// `<system> workers N` / `--workers N`: Fluentd's supervisor (lib/fluent/supervisor.rb
// on ServerEngine's multi_process_server) as a node:cluster primary. It validates
// the config for every worker id, forks N workers with SERVERENGINE_WORKER_ID=0…N-1
// (each runs the receiver of src/cli/receiver.ts on its own buffer sub-directory,
// `<path>/worker<N>/`), forwards SIGTERM/SIGINT/SIGHUP/SIGUSR1/SIGUSR2 and starts a
// worker that died again, under the same id, so its buffer resumes.
//
// Port sharing: node:cluster's primary owns the listening socket and hands each
// accepted connection to a worker in turn (SCHED_RR, Linux's default), as
// Fluentd's SocketManager shares one socket with its workers. Chosen over
// SO_REUSEPORT (`reusePort`, Node >= 22.12 on Linux) because the socket outlives
// any worker: while a killed worker restarts, new connections go to the others,
// whereas with SO_REUSEPORT the connections the kernel had already queued on the
// dead worker's socket are reset; and `port 0` (tests) gives every worker the same
// port. The cost is one fd pass per accepted connection, not per request (clients
// keep connections alive).

import cluster, { type Worker } from 'node:cluster';
import type { Level, Logger } from 'pino';
import { parseConfigFile } from '../config/parser.ts';
import { createProcessLog } from '../log.ts';
import { loadReceiver } from '../receiver.ts';

/** What the primary needs once the config validated. */
export interface SupervisorOptions {
  readonly workers: number;
  /** `<system> restart_worker_interval` (seconds): the least wait before a restart. */
  readonly restartWorkerInterval: number;
  readonly log: Logger;
  /** Flushes the primary's log before it exits. */
  readonly flush: () => void;
}

/** The message a worker sends once its pipeline runs (src/cli/receiver.ts). */
export const READY_MESSAGE = 'auditrelay:worker-ready';

/** A worker that lived this long before dying starts its backoff over. */
const STABLE_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

const FORWARDED = ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

interface Slot {
  readonly id: number;
  worker: Worker | undefined;
  ready: boolean;
  forks: number;
  startedAt: number;
  /** Deaths in a row that came within STABLE_MS of the start. */
  quickDeaths: number;
  timer: NodeJS.Timeout | undefined;
}

/** ServerEngine.format_join_status. */
function joinStatus(code: number | null, signal: string | null): string {
  return signal !== null ? `signal ${signal}` : `status ${code ?? 'unknown'}`;
}

/**
 * The bounded restart backoff: the first quick death restarts at once (after
 * restart_worker_interval, as ServerEngine does), each further one in a row
 * waits twice as long, from 1 s up to 30 s.
 */
export function restartDelayMs(quickDeaths: number, restartWorkerIntervalS: number): number {
  const backoff = quickDeaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (quickDeaths - 2));
  return Math.max(restartWorkerIntervalS * 1000, backoff);
}

/** Runs the primary until a stop signal; the process exits from here (0 = every worker stopped cleanly). */
export function supervise(o: SupervisorOptions): void {
  const slots: Slot[] = Array.from({ length: o.workers }, (_, id) => ({ id, worker: undefined, ready: false, forks: 0, startedAt: 0, quickDeaths: 0, timer: undefined }));
  let stopping: NodeJS.Signals | undefined;
  let failed = false;
  const exit = (code: number): never => {
    o.flush();
    process.exit(code);
  };
  const live = (): Worker[] => slots.flatMap((s) => (s.worker ? [s.worker] : []));
  const stopAll = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = signal;
    for (const s of slots) clearTimeout(s.timer);
    o.log.info({ signal }, 'fluentd supervisor is now stopping its workers');
    for (const w of live()) w.process.kill(signal);
    if (live().length === 0) exit(failed ? 1 : 0);
  };

  const fork = (slot: Slot): void => {
    slot.timer = undefined;
    slot.ready = false;
    slot.forks += 1;
    slot.startedAt = Date.now();
    const worker = cluster.fork({ SERVERENGINE_WORKER_ID: String(slot.id) });
    slot.worker = worker;
    worker.on('message', (m: unknown) => {
      if (m === READY_MESSAGE) {
        slot.ready = true;
        o.log.info({ worker: slot.id, pid: worker.process.pid }, `Worker ${slot.id} is running`);
      }
    });
    worker.once('exit', (code, signal) => {
      slot.worker = undefined;
      const status = joinStatus(code, signal);
      if (stopping) {
        o.log.info({ worker: slot.id }, `Worker ${slot.id} finished with ${status}`);
        // A worker still starting has no handler yet: the stop signal ends it, which is a clean stop too.
        if (code !== 0 && signal !== stopping) failed = true;
        if (live().length === 0) exit(failed ? 1 : 0);
        return;
      }
      o.log.error({ worker: slot.id, code, signal }, `Worker ${slot.id} exited unexpectedly with ${status}`);
      if (!slot.ready && slot.forks === 1) {
        // Never came up at the first start (port taken, unreadable key): fail like one process does.
        failed = true;
        stopAll('SIGTERM');
        return;
      }
      slot.quickDeaths = Date.now() - slot.startedAt < STABLE_MS ? slot.quickDeaths + 1 : 1;
      const delay = restartDelayMs(slot.quickDeaths, o.restartWorkerInterval);
      o.log.info({ worker: slot.id, delay_ms: delay }, `restarting worker ${slot.id}`);
      slot.timer = setTimeout(() => fork(slot), delay);
    });
  };

  process.on('SIGTERM', () => stopAll('SIGTERM'));
  process.on('SIGINT', () => stopAll('SIGINT'));
  for (const signal of FORWARDED) {
    process.on(signal, () => {
      if (stopping) return;
      // Only to running workers: one still starting has no handler yet (the signal would kill
      // it), and reads the current config anyway.
      const running = slots.flatMap((s) => (s.worker && s.ready ? [s.worker] : []));
      o.log.info({ signal, workers: running.length }, 'forwarding the signal to the workers');
      for (const w of running) w.process.kill(signal);
    });
  }
  o.log.info({ workers: o.workers, pid: process.pid }, `starting fluentd supervisor with ${o.workers} workers`);
  for (const slot of slots) fork(slot);
}

/** `<system> workers` and `log_level` as written (1 / undefined when the file does not parse: the receiver reports that). */
export function systemOf(configPath: string): { workers: number; logLevel: Level | undefined } {
  try {
    const system = parseConfigFile(configPath).elements.find((e) => e.name === 'system');
    const workers = Number.parseInt(system?.params.get('workers')?.value ?? '1', 10);
    const level = system?.params.get('log_level')?.value;
    return { workers: Number.isNaN(workers) ? 1 : workers, logLevel: level as Level | undefined };
  } catch {
    return { workers: 1, logLevel: undefined };
  }
}

export interface PrimaryOptions {
  readonly configPath: string;
  readonly level: Level | undefined;
  readonly destination: string | undefined;
  /** --workers N, else `<system> workers`. */
  readonly workers: number;
  /** Lines to log once (flag notes). */
  readonly notes: readonly string[];
}

/**
 * Builds the pipeline of every worker id without opening anything (the
 * supervisor's dry run: a config error exits 1 before any fork), then supervises.
 * Rejects with what loadReceiver throws.
 */
export async function startPrimary(o: PrimaryOptions): Promise<void> {
  const processLog = createProcessLog({ level: o.level ?? systemOf(o.configPath).logLevel ?? 'info', destination: o.destination });
  const quiet = createProcessLog({ level: 'silent' });
  let restartWorkerInterval = 0;
  for (let id = 0; id < o.workers; id++) {
    const loaded = await loadReceiver({ configPath: o.configPath, processLog: id === 0 ? processLog : quiet, workers: o.workers, workerId: id });
    restartWorkerInterval = loaded.restartWorkerInterval;
  }
  for (const line of o.notes) processLog.log.info(line);
  supervise({ workers: o.workers, restartWorkerInterval, log: processLog.log, flush: processLog.flush });
}
