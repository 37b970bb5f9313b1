// Session recordings (docs/compatibility-event-handler.md §4.3, session_events_job.go): a `session.upload`
// audit event registers its session (index 0 saved first); `concurrency` sessions are streamed at
// once with StreamUnstructuredSessionEvents from the saved index; every event whose type is not in
// skip-session-types is POSTed, in order, to `<session-url>.<sid>.log`; the index saved is the
// last event's (the server resumes *at* that index, so one event may repeat, as upstream);
// the key is removed at the end of the stream. NOT_FOUND → `missing_recording<sid>`, retried after
// 1 min then every 3 min, given up after attempt 2 or 48 h after the upload.
// Other stream errors: upstream retries a session 3 times with backoff (3 s .. 1 min) inside its
// worker, then drops it silently. Here a failing session gives its slot back while it waits (the
// other sessions go on), is retried up to `maxAttempts` (default 10) from its saved index, and when
// given up is written to `given_up_session<sid>` in the state dir and logged, so the operator can
// see what is missing (and it is named again at the next start).
import type { Logger } from 'pino';
import { GrpcStatus, isGrpcStatus } from '../teleport/teleport-client.ts';
import type { TeleportClient } from '../teleport/teleport-client.ts';
import type { EventUnstructured } from '../teleport/grpc-service.ts';
import { eventBody } from '../forward/event-json.ts';
import { parseTarget, SendStopped } from '../forward/forwarder.ts';
import type { EventSink } from '../forward/forwarder.ts';
import { LatestWins } from '../state/state.ts';
import type { StateStore } from '../state/state.ts';

const MAX_PROCESSING_ATTEMPTS = 2;
const EVENT_TIME_CUTOFF_MS = 48 * 3_600_000;
const SESSION_BACKOFF_BASE_MS = 3000;
const SESSION_BACKOFF_MAX_MS = 60_000;
const MISSING_FIRST_DELAY_MS = 60_000;
const MISSING_INTERVAL_MS = 180_000;
const SESSION_MAX_ATTEMPTS = 10;

interface SessionTask {
  readonly sid: string;
  readonly index: number;
  readonly uploadTime?: Date;
  readonly attempt: number;
  /** Stream failures so far, and the last backoff (in-memory: a restart starts the count again). */
  readonly failures?: number;
  readonly backoffMs?: number;
}

export interface SessionJobOptions {
  readonly sessionUrl: string;
  readonly concurrency: number;
  readonly skipTypes: ReadonlySet<string>;
  /** Test knob for the missing-recording schedule. */
  readonly missingDelayMs?: number;
  /** Test knob for the session backoff base (upstream 3 s). */
  readonly retryBaseMs?: number;
  /** Stream attempts before a session is given up (ours; upstream 3, then silently dropped). */
  readonly maxAttempts?: number;
}

const jitter7 = (ms: number) => ms * (1 - Math.random() / 7);

export class SessionJob {
  readonly #client: () => TeleportClient;
  readonly #forwarder: EventSink;
  readonly #state: StateStore;
  readonly #opts: SessionJobOptions;
  readonly #log: Logger;
  readonly #queue: SessionTask[] = [];
  readonly #active = new Set<string>();
  readonly #registering = new Set<string>();
  readonly #idleWaiters: (() => void)[] = [];
  /** Sessions waiting out their backoff, off the worker slots. */
  readonly #waiting = new Map<string, NodeJS.Timeout>();
  #stopped = false;
  readonly #stop = new AbortController();
  #missingTimer: NodeJS.Timeout | undefined;
  /** The "given up in an earlier run" warning, read from the state dir at start. */
  #givenUpNoted: Promise<unknown> | undefined;
  eventsSent = 0;
  eventsFetched = 0;
  sessionsDone = 0;
  sessionsGivenUp = 0;

  constructor(client: () => TeleportClient, forwarder: EventSink, state: StateStore, opts: SessionJobOptions, log: Logger) {
    this.#client = client;
    this.#forwarder = forwarder;
    this.#state = state;
    this.#opts = opts;
    this.#log = log;
  }

  get inFlight(): number {
    return this.#active.size;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** restartPausedSessions + the missing-recordings schedule. */
  start(): void {
    for (const [sid, index] of this.#state.getSessions()) this.#enqueue({ sid, index, attempt: 0 });
    this.#givenUpNoted = this.#state.getGivenUpSessions().then(
      (given) => given.size > 0 && this.#log.warn({ sessions: [...given.keys()], dir: this.#state.dir }, 'Session recordings given up in an earlier run are not retried; see given_up_session<sid> in the state directory'),
      () => {},
    );
    this.#scheduleMissing(this.#opts.missingDelayMs ?? MISSING_FIRST_DELAY_MS);
  }

  /**
   * RegisterSession: resolves once `session<sid>` (index 0) is on disk (atomic temp + rename);
   * the audit pipeline commits the upload event's position only after that, so a crash never
   * leaves the cursor past an upload whose session was not saved.
   */
  async register(sid: string, uploadTime: Date | undefined): Promise<void> {
    if (this.#known(sid)) return;
    this.#registering.add(sid);
    try {
      await this.#state.setSessionIndex(sid, 0);
    } finally {
      this.#registering.delete(sid);
    }
    this.#enqueue({ sid, index: 0, uploadTime, attempt: 0 });
  }

  #known(sid: string): boolean {
    return this.#registering.has(sid) || this.#active.has(sid) || this.#waiting.has(sid) || this.#queue.some((t) => t.sid === sid);
  }

  #enqueue(t: SessionTask): void {
    this.#queue.push(t);
    this.#pump();
  }

  #pump(): void {
    while (!this.#stopped && this.#active.size < this.#opts.concurrency && this.#queue.length > 0) {
      const t = this.#queue.shift()!;
      if (this.#active.has(t.sid)) {
        this.#queue.push(t);
        break;
      }
      this.#active.add(t.sid);
      void this.#process(t).finally(() => {
        this.#active.delete(t.sid);
        this.#pump();
        if (this.#isIdle()) for (const r of this.#idleWaiters.splice(0)) r();
      });
    }
  }

  #isIdle(): boolean {
    return this.#active.size === 0 && this.#queue.length === 0 && this.#waiting.size === 0;
  }

  /** Sessions streaming, queued or waiting to be retried. */
  get open(): number {
    return this.#active.size + this.#queue.length + this.#waiting.size;
  }

  /** Resolves when no session is queued, streaming or waiting for a retry (missing recordings wait for their timer). */
  async idle(): Promise<void> {
    // A run with nothing left to do still says which recordings were given up before it ends.
    await this.#givenUpNoted;
    if (this.#isIdle()) return;
    await new Promise<void>((r) => this.#idleWaiters.push(r));
  }

  /** One attempt; a failure frees the slot and waits off it (#retryLater), or gives the session up. */
  async #process(t: SessionTask): Promise<void> {
    try {
      await this.#consume(t);
      this.sessionsDone++;
    } catch (err) {
      if (err instanceof SendStopped || this.#stopped) return;
      if (isGrpcStatus(err, GrpcStatus.NOT_FOUND)) return await this.#missing(t);
      const failures = (t.failures ?? 0) + 1;
      const error = (err as Error).message;
      // Resume where the last saved index left it.
      const index = this.#state.getSessions().get(t.sid) ?? t.index;
      const max = this.#opts.maxAttempts ?? SESSION_MAX_ATTEMPTS;
      if (failures >= max) return await this.#giveUp({ ...t, index }, failures, error);
      const base = this.#opts.retryBaseMs ?? SESSION_BACKOFF_BASE_MS;
      const backoffMs = Math.min(SESSION_BACKOFF_MAX_MS, base + Math.random() * ((t.backoffMs ?? base) * 3 - base));
      this.#log.error({ id: t.sid, index, attempt: failures, of: max, retryInMs: Math.round(backoffMs), error }, 'Session ingestion error, retrying');
      this.#retryLater({ ...t, index, failures, backoffMs });
    }
  }

  #retryLater(t: SessionTask): void {
    const timer = setTimeout(() => {
      this.#waiting.delete(t.sid);
      this.#enqueue(t);
    }, t.backoffMs);
    this.#waiting.set(t.sid, timer);
  }

  async #giveUp(t: SessionTask, attempts: number, error: string): Promise<void> {
    this.sessionsGivenUp++;
    await this.#state.setGivenUpSession(t.sid, { index: t.index, attempts, error, givenUpAt: new Date() });
    await this.#state.removeSession(t.sid);
    this.#log.error({ id: t.sid, index: t.index, attempts, error, file: `given_up_session${t.sid}` }, 'Session ingestion failed too often, giving up; recorded in the state directory');
  }

  async #missing(t: SessionTask): Promise<void> {
    const tooOld = t.uploadTime !== undefined && t.uploadTime.getTime() < Date.now() - EVENT_TIME_CUTOFF_MS;
    if (tooOld || t.attempt > MAX_PROCESSING_ATTEMPTS) {
      this.#log.warn({ id: t.sid, attempt: t.attempt }, 'Session recording not found, giving up');
      await this.#state.removeMissingRecording(t.sid);
      await this.#state.removeSession(t.sid);
      return;
    }
    this.#log.info({ id: t.sid, attempt: t.attempt + 1 }, 'Session recording not found yet, will retry');
    await this.#state.setMissingRecording(t.sid, { index: t.index, attempt: t.attempt + 1, uploadTime: t.uploadTime });
    await this.#state.removeSession(t.sid);
  }

  #scheduleMissing(ms: number): void {
    if (this.#stopped) return;
    this.#missingTimer = setTimeout(() => void this.#runMissing(), jitter7(ms));
    this.#missingTimer.unref();
  }

  async #runMissing(): Promise<void> {
    try {
      for (const [sid, m] of await this.#state.getMissingRecordings()) {
        if (this.#known(sid)) continue;
        await this.#state.removeMissingRecording(sid);
        await this.#state.setSessionIndex(sid, m.index);
        this.#enqueue({ sid, index: m.index, uploadTime: m.uploadTime, attempt: m.attempt });
      }
    } catch (err) {
      this.#log.warn({ error: (err as Error).message }, 'Unable to load previously failed sessions for processing');
    }
    this.#scheduleMissing(this.#opts.missingDelayMs ?? MISSING_INTERVAL_MS);
  }

  /** consumeSession. */
  async #consume(t: SessionTask): Promise<void> {
    const target = parseTarget(`${this.#opts.sessionUrl}.${t.sid}.log`);
    const saver = new LatestWins((err) => this.#log.warn({ id: t.sid, error: (err as Error).message }, 'Failed to save session index'));
    const stream = this.#client().streamSessionEvents(t.sid, t.index);
    const onStop = () => stream.cancel();
    this.#stop.signal.addEventListener('abort', onStop);
    let index = t.index;
    try {
      for await (const ev of stream as AsyncIterable<EventUnstructured>) {
        this.eventsFetched++;
        if (!this.#opts.skipTypes.has(ev.type)) {
          await this.#forwarder.send(target, eventBody(ev.unstructured));
          this.eventsSent++;
        }
        index = Number(ev.index);
        const at = index;
        saver.schedule(() => this.#state.setSessionIndex(t.sid, at));
      }
    } finally {
      this.#stop.signal.removeEventListener('abort', onStop);
      await saver.idle();
    }
    if (this.#stopped) throw new SendStopped();
    await this.#state.removeSession(t.sid);
  }

  stop(): void {
    this.#stopped = true;
    this.#stop.abort();
    clearTimeout(this.#missingTimer);
    for (const timer of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
  }
}
