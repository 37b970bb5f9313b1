// What both audit paths do with one event (teleport_event.go, app.go): drop skip-event-types
// client-side, POST the rest through the ordered pipeline to `[forward.fluentd] url`, and once a
// `session.upload` was answered 200, register its session (`sid`) for recording ingest; a failed
// `user.login` that empties its bucket locks the user once answered 200 (locks.ts).
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { EventUnstructured } from '../teleport/grpc-service.ts';
import { eventBody } from '../forward/event-json.ts';
import type { AuditPipeline, Target } from '../forward/forwarder.ts';
import type { SessionJob } from './sessions.ts';
import type { FailedLogin, UserLocker } from './locks.ts';

export interface AuditProgress {
  /** Time of the newest event answered 200 (ms), for the progress line. */
  positionMs: number;
  /** Audit events read from Teleport (skipped ones included). */
  fetched: number;
  committed: number;
  skipped: number;
}

export class AuditDispatch<T> {
  readonly #pipeline: AuditPipeline<T>;
  readonly #target: Target;
  readonly #skip: ReadonlySet<string>;
  readonly #types: ReadonlySet<string> | undefined;
  readonly #sessions: SessionJob;
  readonly progress: AuditProgress = { positionMs: 0, fetched: 0, committed: 0, skipped: 0 };
  readonly #onSent: (item: T) => Promise<void> | undefined;
  readonly #uploads = new Map<T, { sid: string; time?: Date }>();
  readonly #locker: UserLocker | undefined;
  readonly #locks = new Map<T, FailedLogin>();

  /**
   * `types` set only where the server does not filter (bulk path, cf. upstream fix #61787);
   * `locker` only with lock-enabled and not dry-run (TryLockUser).
   */
  constructor(pipeline: AuditPipeline<T>, target: Target, skip: ReadonlySet<string>, types: ReadonlySet<string> | undefined, sessions: SessionJob, locker?: UserLocker) {
    this.#pipeline = pipeline;
    this.#target = target;
    this.#skip = skip;
    this.#types = types;
    this.#sessions = sessions;
    this.#locker = locker;
    this.#onSent = (item: T) => {
      const lock = this.#locks.get(item);
      if (lock !== undefined) {
        this.#locks.delete(item);
        this.#locker!.lock(lock);
      }
      const up = this.#uploads.get(item);
      if (up === undefined) return undefined;
      this.#uploads.delete(item);
      // The pipeline commits this position only once the session key is on disk.
      return this.#sessions.register(up.sid, up.time);
    };
  }

  async handle(ev: EventUnstructured, position: T): Promise<void> {
    this.progress.fetched++;
    // Newest, not last: bulk chunks read at once interleave.
    if (ev.time !== undefined) this.progress.positionMs = Math.max(this.progress.positionMs, timestampMs(ev.time));
    if (this.#skip.has(ev.type) || (this.#types !== undefined && this.#types.size > 0 && !this.#types.has(ev.type))) {
      this.progress.skipped++;
      await this.#pipeline.pushDone(position);
      return;
    }
    if (ev.type === 'session.upload') {
      const sid = (ev.unstructured as JsonObject | undefined)?.['sid'];
      if (typeof sid === 'string' && sid !== '') {
        this.#uploads.set(position, { sid, time: ev.time !== undefined ? new Date(timestampMs(ev.time)) : undefined });
      }
    }
    if (this.#locker !== undefined) {
      // The bucket is taken in stream order; the lock goes out once the event was answered 200.
      const lock = this.#locker.check(ev);
      if (lock !== undefined) this.#locks.set(position, lock);
    }
    await this.#pipeline.push(position, this.#target, eventBody(ev.unstructured), this.#onSent);
  }

  /** A position with no event (a window or chunk finished). */
  async mark(position: T): Promise<void> {
    await this.#pipeline.pushDone(position);
  }

  drain(): Promise<void> {
    return this.#pipeline.drain();
  }
}
