// The lock feature (docs/compatibility-event-handler.md §5 "Lock feature", events_job.go TryLockUser,
// helpers.go upsertLock): with lock-enabled and not dry-run, every failed `user.login` (its JSON
// `success` is not true — Go's json.Unmarshal into events.UserLogin leaves a missing one false)
// takes a token from a bucket keyed by its `login`; a take that finds the bucket empty locks
// {user, login} with UpsertLock. The bucket is sethvargo/go-limiter's memorystore: Tokens =
// lock-failed-attempts-count, Interval = lock-period, on the wall clock (not event time); the
// whole bucket refills at each interval boundary counted from its first take, so the
// (count+1)-th failure within one interval is the first to lock.
import { setTimeout as sleep } from 'node:timers/promises';
import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import type { Logger } from 'pino';
import { LockSpecV2Schema, LockTargetSchema, LockV2Schema, MetadataSchema } from '../teleport/grpc-service.ts';
import type { EventUnstructured, LockV2 } from '../teleport/grpc-service.ts';
import type { TeleportClient } from '../teleport/teleport-client.ts';

export const LOCK_MESSAGE = 'User is locked due to too many failed login attempts';
/** Go's zero time.Time, which gogoproto's non-nullable CreatedAt always puts on the wire. */
const GO_ZERO_TIME = { seconds: -62135596800n, nanos: 0 } as const;

interface Bucket {
  readonly startMs: number;
  tick: number;
  available: number;
}

/** memorystore.Store.Take for one key: true while tokens are left in the current interval. */
export class FixedWindowBuckets {
  readonly #tokens: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(tokens: number, intervalMs: number, now: () => number = Date.now) {
    // memorystore.New: Tokens 0 → 1, Interval 0 → 1 s.
    this.#tokens = tokens > 0 ? tokens : 1;
    this.#intervalMs = intervalMs > 0 ? intervalMs : 1000;
    this.#now = now;
  }

  take(key: string): boolean {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      b = { startMs: now, tick: 0, available: this.#tokens };
      this.#buckets.set(key, b);
    }
    const tick = Math.floor((now - b.startMs) / this.#intervalMs);
    if (b.tick < tick) {
      b.available = this.#tokens;
      b.tick = tick;
    }
    if (b.available > 0) {
      b.available--;
      return true;
    }
    return false;
  }
}

export interface FailedLogin {
  readonly user: string;
  readonly login: string;
}

/** The LockV2 upstream's upsertLock sends (Kind/Version left to the auth server's defaults). */
export function lockFor(f: FailedLogin, lockForMs: number, nowMs = Date.now()): LockV2 {
  return create(LockV2Schema, {
    Metadata: create(MetadataSchema, { Name: `event-handler-auto-lock-${f.user}-${f.login}` }),
    Spec: create(LockSpecV2Schema, {
      Target: create(LockTargetSchema, { User: f.user, Login: f.login }),
      Message: LOCK_MESSAGE,
      Expires: lockForMs > 0 ? timestampFromMs(nowMs + lockForMs) : undefined,
      CreatedAt: { ...GO_ZERO_TIME },
    }),
  });
}

export interface LockerOptions {
  readonly failedAttempts: number;
  readonly periodMs: number;
  readonly lockForMs: number;
  /** Pause between UpsertLock attempts (upstream's legacy retry: 5 s). */
  readonly retryMs?: number;
}

/**
 * Decides in stream order which failed logins lock (check), and sends the lock once the event
 * was answered 200 (lock), as handleEvent does after sendEvent. A failing UpsertLock is logged
 * and retried in the background until it goes through or the run stops; unlike upstream it does
 * not hold back (and re-POST) the audit stream meanwhile.
 */
export class UserLocker {
  readonly #client: () => TeleportClient;
  readonly #opts: LockerOptions;
  readonly #log: Logger;
  readonly #buckets: FixedWindowBuckets;
  readonly #stop = new AbortController();
  readonly #pending = new Set<Promise<void>>();
  locked = 0;

  constructor(client: () => TeleportClient, opts: LockerOptions, log: Logger, now?: () => number) {
    this.#client = client;
    this.#opts = opts;
    this.#log = log;
    this.#buckets = new FixedWindowBuckets(opts.failedAttempts, opts.periodMs, now);
  }

  /** A failed login that finds its bucket empty, else undefined. */
  check(ev: EventUnstructured): FailedLogin | undefined {
    if (ev.type !== 'user.login') return undefined;
    const j = ev.unstructured as JsonObject | undefined;
    if (j === undefined || j['success'] === true) return undefined;
    const login = typeof j['login'] === 'string' ? j['login'] : '';
    const user = typeof j['user'] === 'string' ? j['user'] : '';
    return this.#buckets.take(login) ? undefined : { user, login };
  }

  lock(f: FailedLogin): void {
    const p = this.#upsert(f).finally(() => this.#pending.delete(p));
    this.#pending.add(p);
  }

  async #upsert(f: FailedLogin): Promise<void> {
    while (!this.#stop.signal.aborted) {
      try {
        await this.#client().upsertLock(lockFor(f, this.#opts.lockForMs));
        this.locked++;
        this.#log.info({ data: { User: f.user, Login: f.login } }, 'User login is locked');
        return;
      } catch (err) {
        this.#log.error({ data: { User: f.user, Login: f.login }, error: (err as Error).message }, 'Failed to lock user, retrying');
        await sleep(this.#opts.retryMs ?? 5000, undefined, { signal: this.#stop.signal }).catch(() => {});
      }
    }
  }

  /** Resolves when every lock asked for so far went through (or the locker was stopped). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  stop(): void {
    this.#stop.abort();
  }
}
