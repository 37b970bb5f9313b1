// gRPC client of Teleport's AuditLogService over mTLS, as api/client's authConnect dials it
// (docs/compatibility-event-handler.md §4.4): ALPN h2 (grpc-js offers it), SNI and verified server name
// `teleport.cluster.local`, server checked against the identity's TLS CAs, client cert always
// sent. Only the direct auth connection is supported, no SSH/ALPN tunnelling through a proxy.
import { credentials, makeGenericClientConstructor, Metadata, status } from '@grpc/grpc-js';
import type { Client, ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { create } from '@bufbuild/protobuf';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import {
  auditLogServiceDefinition,
  authServiceDefinition,
  ExportUnstructuredEventsRequestSchema,
  GetEventExportChunksRequestSchema,
  GetUnstructuredEventsRequestSchema,
  Order,
  StreamUnstructuredSessionEventsRequestSchema,
} from './grpc-service.ts';
import type {
  EventExportChunk,
  EventsUnstructured,
  EventUnstructured,
  ExportEventUnstructured,
  ExportUnstructuredEventsRequest,
  GetEventExportChunksRequest,
  GetUnstructuredEventsRequest,
  LockV2,
  StreamUnstructuredSessionEventsRequest,
} from './grpc-service.ts';
import { checkNotExpired, loadIdentityFile } from './identity.ts';
import type { TeleportCredentials } from './identity.ts';

/** constants.APIDomain */
export const TELEPORT_API_DOMAIN = 'teleport.cluster.local';
/** The `version` metadata api/metadata adds to every call; a real auth server logs it. */
const API_VERSION = '16.4.8';
/** Grace for calls still running on a channel replaced by an identity refresh. */
const OLD_CHANNEL_GRACE_MS = 10 * 60_000;

interface AuditLogStub extends Client {
  GetUnstructuredEvents(req: GetUnstructuredEventsRequest, md: Metadata, cb: (err: ServiceError | null, res?: EventsUnstructured) => void): void;
  StreamUnstructuredSessionEvents(req: StreamUnstructuredSessionEventsRequest, md: Metadata): ClientReadableStream<EventUnstructured>;
  ExportUnstructuredEvents(req: ExportUnstructuredEventsRequest, md: Metadata): ClientReadableStream<ExportEventUnstructured>;
  GetEventExportChunks(req: GetEventExportChunksRequest, md: Metadata): ClientReadableStream<EventExportChunk>;
  UpsertLock(req: LockV2, md: Metadata, cb: (err: ServiceError | null) => void): void;
}

// One channel for both services: every method carries its full path, so the auth server sees
// /teleport.auditlog.v1.AuditLogService/* and /proto.AuthService/UpsertLock as upstream's client sends them.
const StubConstructor = makeGenericClientConstructor({ ...auditLogServiceDefinition, ...authServiceDefinition }, 'AuditLogService') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createSsl>,
  options: Record<string, unknown>,
) => AuditLogStub;

export function isGrpcStatus(err: unknown, code: status): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export interface QueryWindow {
  readonly startMs: number;
  readonly endMs: number;
  readonly types: readonly string[];
  readonly limit: number;
  readonly startKey: string;
}

export class TeleportClient {
  readonly addr: string;
  #creds: TeleportCredentials;
  #stub: AuditLogStub;
  readonly #metadata = new Metadata();

  constructor(addr: string, creds: TeleportCredentials) {
    this.addr = addr;
    checkNotExpired(creds);
    this.#creds = creds;
    this.#stub = this.#dial(creds);
    this.#metadata.set('version', API_VERSION);
  }

  get credentials(): TeleportCredentials {
    return this.#creds;
  }

  #dial(creds: TeleportCredentials): AuditLogStub {
    const ssl = credentials.createSsl(
      Buffer.from(creds.caPems.join('')),
      Buffer.from(creds.keyPem),
      Buffer.from(creds.certPem),
    );
    return new StubConstructor(this.addr, ssl, {
      'grpc.ssl_target_name_override': TELEPORT_API_DOMAIN,
      'grpc.default_authority': TELEPORT_API_DOMAIN,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  /**
   * Re-reads the identity file (`--teleport-refresh-enabled`); when it changed, new calls use a
   * new channel with it. Calls already running keep the old one until they end.
   */
  async refreshFromIdentity(path: string): Promise<boolean> {
    const next = await loadIdentityFile(path);
    if (next.certPem === this.#creds.certPem && next.keyPem === this.#creds.keyPem && next.caPems.join('') === this.#creds.caPems.join('')) {
      return false;
    }
    checkNotExpired(next);
    const old = this.#stub;
    this.#creds = next;
    this.#stub = this.#dial(next);
    setTimeout(() => old.close(), OLD_CHANNEL_GRACE_MS).unref();
    return true;
  }

  getUnstructuredEvents(q: QueryWindow): Promise<EventsUnstructured> {
    const req = create(GetUnstructuredEventsRequestSchema, {
      namespace: 'default',
      startDate: timestampFromMs(q.startMs),
      endDate: timestampFromMs(q.endMs),
      eventTypes: [...q.types],
      limit: q.limit,
      startKey: q.startKey,
      order: Order.ASCENDING,
    });
    return new Promise((resolve, reject) => {
      this.#stub.GetUnstructuredEvents(req, this.#metadata, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  streamSessionEvents(sessionId: string, startIndex: number): ClientReadableStream<EventUnstructured> {
    const req = create(StreamUnstructuredSessionEventsRequestSchema, { sessionId, startIndex });
    return this.#stub.StreamUnstructuredSessionEvents(req, this.#metadata);
  }

  /** Drains GetEventExportChunks for one UTC date. */
  async getEventExportChunks(dateMs: number): Promise<string[]> {
    const req = create(GetEventExportChunksRequestSchema, { date: timestampFromMs(dateMs) });
    const chunks: string[] = [];
    for await (const c of this.#stub.GetEventExportChunks(req, this.#metadata) as AsyncIterable<EventExportChunk>) chunks.push(c.chunk);
    return chunks;
  }

  exportEvents(dateMs: number, chunk: string, cursor: string): ClientReadableStream<ExportEventUnstructured> {
    const req = create(ExportUnstructuredEventsRequestSchema, { date: timestampFromMs(dateMs), chunk, cursor });
    return this.#stub.ExportUnstructuredEvents(req, this.#metadata);
  }

  /** api/client UpsertLock: the Empty reply is discarded. */
  upsertLock(lock: LockV2): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#stub.UpsertLock(lock, this.#metadata, (err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    this.#stub.close();
  }
}

export { status as GrpcStatus };
