// gRPC client of Teleport's AuditLogService over mTLS, as api/client dials it
// (docs/compatibility-event-handler.md §4.4, §4.6): SNI and verified server name
// `teleport.cluster.local`, server checked against the identity's TLS CAs, client cert always
// sent; ALPN h2 straight to the Auth Service, or `teleport-auth@<cluster>` + h2 through a Proxy
// in TLS-routing mode, also inside the ALPN connection upgrade (routes.ts). No SSH tunnelling.
import { makeGenericClientConstructor, Metadata, status } from '@grpc/grpc-js';
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
import { describeRoute, DIAL_TIMEOUT_MS, DIRECT_ROUTE, RouteCredentials, routeFor, selectRoute, TELEPORT_API_DOMAIN } from './routes.ts';
import { explainingInterceptor } from './rpc-error.ts';
import type { DialTarget, Route } from './routes.ts';
import { USER_AGENT } from '../user-agent.ts';

export { TELEPORT_API_DOMAIN };
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
  creds: RouteCredentials,
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
  readonly #target: DialTarget;
  #creds: TeleportCredentials;
  #route: Route;
  #stub: AuditLogStub;
  readonly #metadata = new Metadata();

  /** A client on `route` (default: straight to the Auth Service); see connect() for the race. */
  constructor(addr: string, creds: TeleportCredentials, route: Route = DIRECT_ROUTE, webCaPems?: readonly string[]) {
    this.addr = addr;
    this.#target = { addr, webCaPems };
    checkNotExpired(creds);
    this.#creds = creds;
    this.#route = route;
    this.#stub = this.#dial(creds);
    this.#metadata.set('version', API_VERSION);
  }

  /** client.New: races the routes (routes.ts selectRoute) and returns a client on the winner. */
  static async connect(addr: string, creds: TeleportCredentials, dialTimeoutMs = DIAL_TIMEOUT_MS, webCaPems?: readonly string[]): Promise<TeleportClient> {
    checkNotExpired(creds);
    return new TeleportClient(addr, creds, await selectRoute({ addr, webCaPems }, creds, dialTimeoutMs), webCaPems);
  }

  get credentials(): TeleportCredentials {
    return this.#creds;
  }

  get route(): Route {
    return this.#route;
  }

  #dial(creds: TeleportCredentials): AuditLogStub {
    return new StubConstructor(this.addr, new RouteCredentials(creds, this.#route, this.#target), {
      'grpc.default_authority': TELEPORT_API_DOMAIN,
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      'grpc.primary_user_agent': USER_AGENT,
      interceptors: [explainingInterceptor(() => describeRoute(this.#route, this.addr))],
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
    const route = routeFor(this.#route.name, next);
    const old = this.#stub;
    this.#creds = next;
    this.#route = route;
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

  /**
   * Races the routes again, as at start, to say why each fails now (undefined when one connects):
   * a call that cannot reach Teleport only knows the route it was on.
   */
  diagnoseRoutes(dialTimeoutMs = DIAL_TIMEOUT_MS): Promise<string | undefined> {
    return selectRoute(this.#target, this.#creds, dialTimeoutMs).then(
      () => undefined,
      (err: unknown) => (err as Error).message,
    );
  }

  close(): void {
    this.#stub.close();
  }
}

export { status as GrpcStatus };
