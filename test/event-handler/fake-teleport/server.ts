// A fake Teleport auth server for the exporter's tests (docs/compatibility-event-handler.md §4.5): gRPC over
// mTLS on loopback with a server cert for `teleport.cluster.local`, the AuditLogService on the
// same generated protos as the exporter: GetUnstructuredEvents with `last_key` paging, the bulk
// export pair (or UNIMPLEMENTED), session streams, NOT_FOUND for recordings not uploaded yet,
// and UNAVAILABLE now and then; plus /proto.AuthService/UpsertLock, recording each LockV2 as it
// decoded it from the wire.
import { createHash } from 'node:crypto';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { ServerUnaryCall, ServerWritableStream, sendUnaryData, UntypedServiceImplementation } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromMs, timestampMs } from '@bufbuild/protobuf/wkt';
import {
  auditLogServiceDefinition,
  authServiceDefinition,
  EventExportChunkSchema,
  EventsUnstructuredSchema,
  EventUnstructuredSchema,
  ExportEventUnstructuredSchema,
} from '../../../src/event-handler/teleport/grpc-service.ts';
import type {
  EventUnstructured,
  ExportUnstructuredEventsRequest,
  GetEventExportChunksRequest,
  GetUnstructuredEventsRequest,
  LockV2,
  StreamUnstructuredSessionEventsRequest,
} from '../../../src/event-handler/teleport/grpc-service.ts';

export interface FakeEvent {
  readonly type: string;
  readonly id: string;
  readonly timeMs: number;
  readonly index: number;
  readonly json: JsonObject;
}

export interface FakeTeleportOptions {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** Extra CAs trusted for client certs (identity rotation). */
  readonly extraClientCas?: readonly string[];
  /** Serve GetEventExportChunks/ExportUnstructuredEvents; false → UNIMPLEMENTED. */
  readonly bulk: boolean;
  /** Events per bulk chunk. */
  readonly chunkSize?: number;
  /** Every Nth RPC fails with UNAVAILABLE (0 = never). */
  readonly unavailableEvery?: number;
  /** Keep each ExportUnstructuredEvents stream open this long after its last event (concurrency tests). */
  readonly exportEndDelayMs?: number;
}

const DAY_MS = 86_400_000;

function toProto(e: FakeEvent): EventUnstructured {
  return create(EventUnstructuredSchema, { type: e.type, id: e.id, time: timestampFromMs(e.timeMs), index: BigInt(e.index), unstructured: e.json });
}

export class FakeTeleport {
  readonly events: FakeEvent[] = [];
  readonly sessions = new Map<string, FakeEvent[]>();
  /** Session streams that fail (INTERNAL) this many more times, after sending `afterEvents` events. */
  readonly failingSessions = new Map<string, { times: number; afterEvents: number }>();
  /** Sessions answered NOT_FOUND this many more times. */
  readonly missing = new Map<string, number>();
  readonly calls: string[] = [];
  /** The user-agent metadata of each call. */
  readonly userAgents: string[] = [];
  /** SHA-256 of the client cert of each call. */
  readonly clientCerts: string[] = [];
  /** Every LockV2 UpsertLock received (also the refused ones), decoded by the shared definition. */
  readonly locks: LockV2[] = [];
  /** The next this-many UpsertLock calls fail with UNAVAILABLE. */
  lockFailures = 0;
  /** Most ExportUnstructuredEvents streams open at once. */
  maxOpenExports = 0;
  #openExports = 0;
  readonly #opts: FakeTeleportOptions;
  readonly #server = new Server();
  #rpc = 0;
  port = 0;

  constructor(opts: FakeTeleportOptions) {
    this.#opts = opts;
    const impl: UntypedServiceImplementation = {
      GetUnstructuredEvents: (call: ServerUnaryCall<GetUnstructuredEventsRequest, unknown>, cb: sendUnaryData<unknown>) => {
        const err = this.#enter('GetUnstructuredEvents', call);
        if (err) return cb(err);
        cb(null, this.#search(call.request));
      },
      StreamUnstructuredSessionEvents: (call: ServerWritableStream<StreamUnstructuredSessionEventsRequest, unknown>) => {
        const err = this.#enter('StreamUnstructuredSessionEvents', call);
        if (err) return void call.emit("error", err);
        const sid = call.request.sessionId;
        const left = this.missing.get(sid) ?? 0;
        if (left > 0 || !this.sessions.has(sid)) {
          this.missing.set(sid, left - 1);
          return void call.emit("error", Object.assign(new Error(`session ${sid} not found`), { code: status.NOT_FOUND }));
        }
        const items = this.sessions.get(sid)!.filter((e) => e.index >= call.request.startIndex).map(toProto);
        const failing = this.failingSessions.get(sid);
        if (failing !== undefined && failing.times > 0) {
          failing.times--;
          void this.#writeAll(call, items.slice(0, failing.afterEvents), Object.assign(new Error(`fake: session ${sid} stream broke`), { code: status.INTERNAL }));
          return;
        }
        void this.#writeAll(call, items);
      },
      GetEventExportChunks: (call: ServerWritableStream<GetEventExportChunksRequest, unknown>) => {
        const err = this.#enter('GetEventExportChunks', call);
        if (err) return void call.emit("error", err);
        if (!this.#opts.bulk) return void call.emit("error", Object.assign(new Error("not implemented"), { code: status.UNIMPLEMENTED }));
        const chunks = this.#chunksOf(timestampMs(call.request.date!));
        void this.#writeAll(call, [...chunks.keys()].map((chunk) => create(EventExportChunkSchema, { chunk })));
      },
      ExportUnstructuredEvents: (call: ServerWritableStream<ExportUnstructuredEventsRequest, unknown>) => {
        const err = this.#enter('ExportUnstructuredEvents', call);
        if (err) return void call.emit("error", err);
        if (!this.#opts.bulk) return void call.emit("error", Object.assign(new Error("not implemented"), { code: status.UNIMPLEMENTED }));
        const events = this.#chunksOf(timestampMs(call.request.date!)).get(call.request.chunk) ?? [];
        const from = call.request.cursor === '' ? 0 : Number(call.request.cursor) + 1;
        this.maxOpenExports = Math.max(this.maxOpenExports, ++this.#openExports);
        void this.#writeAll(
          call,
          events.slice(from).map((e, i) => create(ExportEventUnstructuredSchema, { event: toProto(e), cursor: String(from + i) })),
          undefined,
          this.#opts.exportEndDelayMs,
        ).finally(() => this.#openExports--);
      },
    };
    this.#server.addService(auditLogServiceDefinition, impl);
    this.#server.addService(authServiceDefinition, {
      UpsertLock: (call: ServerUnaryCall<LockV2, unknown>, cb: sendUnaryData<unknown>) => {
        const err = this.#enter('UpsertLock', call);
        this.locks.push(call.request);
        if (err) return cb(err);
        if (this.lockFailures > 0) {
          this.lockFailures--;
          return cb(Object.assign(new Error('fake: lock backend down'), { code: status.UNAVAILABLE }));
        }
        cb(null, {});
      },
    } satisfies UntypedServiceImplementation);
  }

  #enter(name: string, call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } }; metadata: { get(key: string): unknown[] } }): object | undefined {
    this.calls.push(name);
    this.userAgents.push(call.metadata.get('user-agent').map(String).join(','));
    const raw = call.getAuthContext().sslPeerCertificate?.raw;
    if (raw !== undefined) this.clientCerts.push(createHash('sha256').update(raw).digest('hex'));
    const every = this.#opts.unavailableEvery ?? 0;
    if (every > 0 && ++this.#rpc % every === 0) return Object.assign(new Error('fake: try again'), { code: status.UNAVAILABLE });
    return undefined;
  }

  async #writeAll(call: ServerWritableStream<unknown, unknown>, items: unknown[], endWith?: object, endDelayMs = 0): Promise<void> {
    for (const item of items) {
      if (call.cancelled) return;
      if (!call.write(item)) await new Promise((r) => call.once('drain', r));
    }
    if (endDelayMs > 0) await new Promise((r) => setTimeout(r, endDelayMs));
    if (call.cancelled) return;
    if (endWith !== undefined) call.emit('error', endWith);
    else call.end();
  }

  #search(req: GetUnstructuredEventsRequest): unknown {
    const start = req.startDate ? timestampMs(req.startDate) : 0;
    const end = req.endDate ? timestampMs(req.endDate) : Infinity;
    const matching = this.events.filter((e) => e.timeMs >= start && e.timeMs < end && (req.eventTypes.length === 0 || req.eventTypes.includes(e.type)));
    const offset = req.startKey === '' ? 0 : Number(req.startKey);
    const limit = req.limit > 0 ? req.limit : 500;
    const items = matching.slice(offset, offset + limit).map(toProto);
    const lastKey = offset + limit < matching.length ? String(offset + limit) : '';
    return create(EventsUnstructuredSchema, { items, lastKey });
  }

  /** Chunks of one UTC date: `chunk-<n>` of `chunkSize` events, in time order. */
  #chunksOf(dateMs: number): Map<string, FakeEvent[]> {
    const day = Math.floor(dateMs / DAY_MS) * DAY_MS;
    const events = this.events.filter((e) => e.timeMs >= day && e.timeMs < day + DAY_MS);
    const size = this.#opts.chunkSize ?? 100;
    const out = new Map<string, FakeEvent[]>();
    for (let i = 0; i < events.length; i += size) out.set(`chunk-${new Date(day).toISOString().slice(0, 10)}-${i / size}`, events.slice(i, i + size));
    return out;
  }

  async start(): Promise<number> {
    const creds = ServerCredentials.createSsl(
      Buffer.from([this.#opts.caPem, ...(this.#opts.extraClientCas ?? [])].join('')),
      [{ private_key: Buffer.from(this.#opts.serverKeyPem), cert_chain: Buffer.from(this.#opts.serverCertPem) }],
      true,
    );
    this.port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', creds, (err, port) => (err ? reject(err) : resolve(port))),
    );
    return this.port;
  }

  async close(): Promise<void> {
    this.#server.forceShutdown();
  }
}
