// What both audit paths do with one event (teleport_event.go, app.go): drop skip-event-types
// client-side, POST the rest through the ordered pipeline to `[forward.fluentd] url`, and once a
// `session.upload` was answered 200, register its session (`sid`) for recording ingest.
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import type { EventUnstructured } from './grpc-service.ts';
import { eventBody } from './event-json.ts';
import type { OrderedPipeline, Target } from './forwarder.ts';
import type { SessionJob } from './sessions.ts';

export interface AuditProgress {
  /** Time of the newest event answered 200 (ms), for the progress line. */
  positionMs: number;
  committed: number;
  skipped: number;
}

export class AuditDispatch<T> {
  readonly #pipeline: OrderedPipeline<T>;
  readonly #target: Target;
  readonly #skip: ReadonlySet<string>;
  readonly #types: ReadonlySet<string> | undefined;
  readonly #sessions: SessionJob;
  readonly progress: AuditProgress = { positionMs: 0, committed: 0, skipped: 0 };
  readonly #onSent: (item: T) => void;
  readonly #uploads = new Map<T, { sid: string; time?: Date }>();

  /** `types` set only where the server does not filter (bulk path, cf. upstream fix #61787). */
  constructor(pipeline: OrderedPipeline<T>, target: Target, skip: ReadonlySet<string>, types: ReadonlySet<string> | undefined, sessions: SessionJob) {
    this.#pipeline = pipeline;
    this.#target = target;
    this.#skip = skip;
    this.#types = types;
    this.#sessions = sessions;
    this.#onSent = (item: T) => {
      const up = this.#uploads.get(item);
      if (up !== undefined) {
        this.#uploads.delete(item);
        this.#sessions.register(up.sid, up.time);
      }
    };
  }

  async handle(ev: EventUnstructured, position: T): Promise<void> {
    if (ev.time !== undefined) this.progress.positionMs = timestampMs(ev.time);
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
