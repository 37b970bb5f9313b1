// in_http on Fastify (docs/compatibility.md §1, §2, O2–O3): same tags, same answers, same
// parse and time rules as Fluentd's in_http for a given fluent.conf. Fastify
// routes and reads the socket; every answer is written through sendResponse so
// the bytes match Fluentd's, and 200 is sent only once the router's output has
// made the events durable (buffer write done).

import { gunzip, inflate } from 'node:zlib';
import { promisify } from 'node:util';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Server as TlsServer } from 'node:tls';
import type { Readable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { EmitFn, Event, Input, Parser, PluginContext } from '../plugin-api.ts';
import { EventTime } from '../time/event-time.ts';
import { configureTls } from './tls.ts';
import { TlsGate } from './tls-gate.ts';
import { answerFailed, sendResponse, EMPTY_GIF, TEXT_PLAIN, NO_HEADERS, REASONS } from './http-response.ts';
import { splitTarget, tagFromPath, parseQuery, rubyToF, addFields, remoteAddr, wantsKeepAlive, floatTime } from './http-request.ts';
import { bodyParser, parseDefault, parseWithParser, type ParsedBody } from './http-body.ts';
import { CorsPolicy } from './http-cors.ts';
import { listenError, type ListenTarget } from './listen-error.ts';
import { HttpStats, type RequestNote } from './http-stats.ts';
import { clipForLog, errorFields } from '../log.ts';
import { EmitTurn } from './emit-turn.ts';

export const params = {
  port: { type: 'integer', default: 9880, desc: 'The port to listen to.' },
  bind: { type: 'string', default: '0.0.0.0', desc: 'The bind address to listen to.' },
  body_size_limit: { type: 'size', default: 32 * 1024 * 1024, desc: 'Largest accepted body (413 above it).' },
  decompression_size_limit: { type: 'size', default: 256 * 1024 * 1024, desc: 'Largest body after Content-Encoding is undone (400 above it).' },
  keepalive_timeout: { type: 'time', default: 10, desc: 'Seconds an idle keep-alive connection stays open.' },
  backlog: { type: 'integer', desc: 'listen(2) backlog.' },
  add_http_headers: { type: 'bool', default: false, desc: 'Add HTTP_<NAME> request headers to each record.' },
  add_remote_addr: { type: 'bool', default: false, desc: 'Add REMOTE_ADDR (first X-Forwarded-For entry, else the peer IP).' },
  blocking_timeout: { type: 'time', default: 0.5, desc: 'Accepted for compatibility.' },
  cors_allow_origins: { type: 'array', desc: 'Origins allowed for CORS; `*` or prefix*/ *suffix patterns.' },
  cors_allow_credentials: { type: 'bool', default: false, desc: 'Send Access-Control-Allow-Credentials: true (needs specific origins).' },
  respond_with_empty_img: { type: 'bool', default: false, desc: 'Answer 200 with a 1x1 GIF.' },
  use_204_response: { type: 'bool', default: false, desc: 'Answer 204 No Content instead of 200.' },
  dump_error_log: { type: 'bool', default: true, desc: 'Log requests that fail.' },
  add_query_params: { type: 'bool', default: false, desc: 'Add QUERY_<KEY> query parameters to each record.' },
  add_tag_prefix: { type: 'string', desc: 'Prefix joined to every tag with a dot.' },
} as const satisfies ParamSchema;

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

export class HttpInput implements Input {
  static readonly type = 'http';
  readonly #p;
  readonly #ctx: PluginContext;
  readonly #emit: EmitFn;
  readonly #parser: Parser | undefined;
  readonly #cors: CorsPolicy | undefined;
  readonly #app: FastifyInstance;
  /** Per connection: the latest request handed to #handle, as its turn (done once its emit was called). */
  readonly #emitTurns = new WeakMap<object, EmitTurn>();
  /** Connections whose input stopped parsing: closed once the answer in flight is written. */
  readonly #closeAfter = new WeakSet<object>();
  #port = 0;
  #listening = false;
  readonly #target: ListenTarget;
  readonly #tlsRequestCert: boolean;
  #gate: TlsGate | undefined;
  /** Requests, bytes, latency and TLS refusals, read by the prometheus source. */
  readonly stats = new HttpStats();

  constructor(element: ConfigElement, ctx: PluginContext, emit: EmitFn) {
    const warn = (m: string) => ctx.log.warn(m);
    const p = configureParams(params, element, warn);
    this.#p = p;
    this.#target = { port: p.port, bind: p.bind, section: `<${element.name}>`, where: element.where('port'), explicit: element.params.has('port') };
    this.#ctx = ctx;
    this.#emit = emit;
    if (p.cors_allow_credentials && (p.cors_allow_origins === undefined || p.cors_allow_origins.includes('*'))) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('cors_allow_credentials')?.pos ?? element.pos,
        'Cannot enable cors_allow_credentials without specific origins; list them in cors_allow_origins');
    }
    if (p.add_tag_prefix === '') {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('add_tag_prefix')?.pos ?? element.pos, "'add_tag_prefix' parameter must not be empty");
    }
    this.#cors = p.cors_allow_origins ? new CorsPolicy(p.cors_allow_origins, p.cors_allow_credentials) : undefined;
    this.#parser = bodyParser(element, ctx);
    const tls = configureTls(element.sections('transport')[0], warn);
    this.#tlsRequestCert = tls?.requestCert ?? false;
    // Slowloris: a client gets keepalive_timeout seconds to finish a request's headers
    // (deliberate difference: Fluentd's idle timer restarts on every byte, so one byte
    // every few seconds holds a connection forever). Checked every second.
    const headerDeadline = { headersTimeout: Math.max(1, p.keepalive_timeout) * 1000, connectionsCheckingInterval: 1000 };
    this.#app = Fastify({
      ...(tls ? { https: { ...tls, ...headerDeadline } } : { http: headerDeadline }),
      keepAliveTimeout: Math.max(1, p.keepalive_timeout) * 1000,
      bodyLimit: Number.MAX_SAFE_INTEGER, // in_http's own limit logic applies (413 rules)
      logger: false,
      exposeHeadRoutes: false,
      return503OnClosing: false,
      // Malformed HTTP gets no response from Fluentd: log and close.
      clientErrorHandler: (err, socket) => {
        // TLS handshake failures arrive here too (https.Server re-emits them): TlsGate logs those once.
        const code = (err as NodeJS.ErrnoException).code;
        const loggedByGate = this.#gate?.handled(socket) === true || code?.startsWith('ERR_SSL') === true;
        // A client that simply disconnects (also mid-request: the parser's EOF error) is not an error.
        if (!loggedByGate && (code === 'ECONNRESET' || code === 'EPIPE' || code === 'HPE_INVALID_EOF_STATE')) ctx.log.debug({ error: err.message, code }, 'client closed the connection');
        else if (!loggedByGate) ctx.log.warn({ error: err.message, code }, 'unexpected error');
        // Bytes after a request with neither Content-Length nor chunked encoding
        // (its body) parse as garbage: let that request's 400 go out, then close.
        // A request whose own body failed to parse (a bad chunk size) never ends: close at once.
        const latest = this.#emitTurns.get(socket);
        if (latest !== undefined && latest.req.complete) this.#closeAfter.add(socket);
        else socket.destroy();
      },
    });
    this.#setup();
  }

  get port(): number {
    return this.#port;
  }

  /** True between a successful listen and stop (/readyz). */
  get listening(): boolean {
    return this.#listening;
  }

  async start(): Promise<void> {
    try {
      await this.#app.listen({ port: this.#p.port, host: this.#p.bind, ...(this.#p.backlog ? { backlog: this.#p.backlog } : {}) });
    } catch (err) {
      throw await listenError(err, this.#target);
    }
    const addr = this.#app.server.address();
    this.#port = typeof addr === 'object' && addr ? addr.port : this.#p.port;
    this.#listening = true;
    this.#ctx.log.info({ bind: this.#p.bind, port: this.#port }, 'listening http');
  }

  /** Answers after stop() close their connection (a busy keep-alive client would hold close() open forever). */
  #stopping = false;

  async stop(): Promise<void> {
    this.#listening = false;
    this.#stopping = true;
    this.#gate?.stop();
    const server = this.#app.server;
    const started = Date.now();
    // Connections go idle once their answer is out; past 5 s the rest are cut (those requests got no answer).
    const sweep = setInterval(() => (Date.now() - started > 5000 ? server.closeAllConnections() : server.closeIdleConnections()), 50);
    try {
      await this.#app.close();
    } finally {
      clearInterval(sweep);
    }
  }

  #setup(): void {
    const app = this.#app;
    const server = app.server;
    const log = this.#ctx.log;
    if (server instanceof TlsServer) this.#gate = new TlsGate(server, log, this.#tlsRequestCert, (reason) => this.stats.tlsFailure(reason));
    // Expect handling happens before the body is read (on_headers_complete).
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      const size = req.headers['content-length'];
      if (size !== undefined && Number(size) >= this.#p.body_size_limit) {
        sendResponse(res, 413, REASONS[413], NO_HEADERS, 'Too large', false);
        return;
      }
      res.writeContinue();
      server.emit('request', req, res);
    });
    server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
      sendResponse(res, 417, REASONS[417], NO_HEADERS, '', false);
    });
    app.removeAllContentTypeParsers();
    // The body stream itself is the "parsed" body: in_http applies its own limits.
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    app.route({
      // Every method: in_http treats all but GET/OPTIONS as an event POST.
      method: [...app.supportedMethods],
      url: '*',
      handler: (request, reply) => {
        reply.hijack();
        this.#handle(request.raw, reply.raw, request.body as Readable | undefined).catch((err: unknown) => answerFailed(err, reply.raw, log));
      },
    });
    // That route hijacks every reply, so on the main server Fastify's router,
    // hooks and content-type step did nothing but cost ~7% of the seed
    // pipeline's time (bench/receiver profile): its requests go straight to
    // in_http's logic, which applies its own limits. Fastify still owns the
    // server (TLS, keep-alive, timeouts, client errors, close); the route stays
    // for the extra servers Fastify binds for `bind localhost` (::1 and 127.0.0.1).
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res, req).catch((err: unknown) => answerFailed(err, res, log));
    });
  }

  /**
   * Requests pipelined on one connection reach the buffer in the order they
   * were sent (Fluentd handles a connection's requests one by one): each waits
   * for its predecessor's emit to have been *called* — not for it to be durable —
   * so group commit still batches them. An async step (e.g. gunzip) can no
   * longer let a later request overtake an earlier one.
   */
  async #handle(req: IncomingMessage, res: ServerResponse, bodyStream: Readable | undefined): Promise<void> {
    const socket = req.socket;
    const previous = this.#emitTurns.get(socket);
    const turn = new EmitTurn(req);
    this.#emitTurns.set(socket, turn);
    const began = performance.now();
    const note: RequestNote = { tag: undefined, bytes: 0 };
    try {
      await this.#process(req, res, bodyStream, previous, turn, note);
    } finally {
      this.stats.request(note.tag ?? this.#tagOf(req), res.headersSent ? res.statusCode : 500, note.bytes, (performance.now() - began) / 1000);
      turn.release();
      if (this.#emitTurns.get(socket) === turn) this.#emitTurns.delete(socket);
      if (this.#closeAfter.has(socket) && !this.#emitTurns.has(socket)) socket.end();
    }
  }

  async #process(req: IncomingMessage, res: ServerResponse, bodyStream: Readable | undefined,
    previous: EmitTurn | undefined, turn: EmitTurn, note: RequestNote): Promise<void> {
    const method = req.method;
    if (method === 'GET') return sendResponse(res, 200, REASONS[200], NO_HEADERS, '', false);
    const origin = req.headers.origin;
    if (method === 'OPTIONS') return this.#preflight(req, res, origin);
    if (this.#cors && origin !== undefined && !this.#cors.allows(origin)) {
      return sendResponse(res, 403, REASONS[403], ['Connection', 'close'], '', false);
    }
    const body = await this.#readBody(bodyStream, res);
    if (body === undefined) return; // 413 already sent
    note.bytes = body.length;
    const keepAlive = !this.#stopping && wantsKeepAlive(req);
    let decoded: Buffer = body;
    try {
      const encoding = req.headers['content-encoding'];
      if (encoding !== undefined) decoded = await this.#decode(body, encoding);
    } catch (err) {
      this.#ctx.log.warn({ error: (err as Error).message }, 'fails to decode payload');
      return sendResponse(res, 400, REASONS[400], NO_HEADERS, '', false);
    }
    const cors = this.#cors?.responseHeaders(origin) ?? NO_HEADERS;
    let tag: string;
    let events: Event[];
    try {
      ({ tag, events } = this.#toEvents(req, decoded));
      note.tag = tag;
    } catch (err) {
      if (this.#p.dump_error_log) this.#ctx.log.error({ error_class: (err as Error).name, error: clipForLog((err as Error).message) }, 'failed to process request');
      const answer = (err as { answer?: readonly Buffer[] }).answer ?? [Buffer.from((err as Error).message, 'latin1')];
      const message = Buffer.concat([Buffer.from('400 Bad Request\n'), ...answer, Buffer.from('\n')]);
      return sendResponse(res, 400, REASONS[400], [...TEXT_PLAIN, ...cors], message, keepAlive);
    }
    try {
      if (previous !== undefined && !previous.done) await previous.wait();
      const durable = events.length > 0 ? this.#emit(tag, events) : undefined;
      turn.release();
      await durable;
    } catch (err) {
      return this.#emitFailed(res, err as Error, cors, keepAlive);
    }
    if (this.#p.respond_with_empty_img) {
      return sendResponse(res, 200, REASONS[200], ['Content-Type', 'image/gif; charset=utf-8', ...cors], EMPTY_GIF, keepAlive);
    }
    if (this.#p.use_204_response) return sendResponse(res, 204, REASONS[204], cors, '', keepAlive);
    sendResponse(res, 200, REASONS[200], cors.length ? [...TEXT_PLAIN, ...cors] : TEXT_PLAIN, '', keepAlive);
  }

  /** The tag of a request refused before its body was read (off the hot path); '' without one. */
  #tagOf(req: IncomingMessage): string {
    try {
      return tagFromPath(splitTarget(req.url ?? '').path, this.#p.add_tag_prefix);
    } catch {
      return '';
    }
  }

  #emitFailed(res: ServerResponse, err: Error, cors: readonly string[], keepAlive: boolean): void {
    if (this.#p.dump_error_log) this.#ctx.log.error(errorFields(err), 'failed to emit data');
    const retryAfter = (err as { retryAfterSeconds?: number }).retryAfterSeconds;
    const code = (err as { code?: string }).code;
    if (code === 'AR_BUFFER_OVERFLOW' || code === 'AR_BUFFER_DISK_FULL') {
      // Deliberate difference: 503 + Retry-After instead of Fluentd's 500.
      return sendResponse(res, 503, REASONS[503], [...TEXT_PLAIN, ...cors, 'Retry-After', String(Math.max(1, Math.ceil(retryAfter ?? 1)))],
        `503 Service Unavailable\n${err.message}\n`, keepAlive);
    }
    sendResponse(res, 500, REASONS[500], [...TEXT_PLAIN, ...cors], `500 Internal Server Error\n${err.message}\n`, keepAlive);
  }

  #preflight(req: IncomingMessage, res: ServerResponse, origin: string | undefined): void {
    const cors = this.#cors;
    if (!cors || req.headers['access-control-request-method'] !== 'POST') {
      return sendResponse(res, 403, REASONS[403], NO_HEADERS, '', false);
    }
    const headers = cors.preflightHeaders(origin, req.headers['access-control-request-headers'] ?? '');
    if (!headers) return sendResponse(res, 403, REASONS[403], NO_HEADERS, '', false);
    sendResponse(res, 200, REASONS[200], headers, '', false);
  }

  /** Reads the body under body_size_limit (on_body: `>` the limit → 413 and close). */
  #readBody(stream: Readable | undefined, res: ServerResponse): Promise<Buffer | undefined> {
    if (!stream) return Promise.resolve(Buffer.alloc(0));
    const limit = this.#p.body_size_limit;
    const declared = Number(res.req.headers['content-length'] ?? NaN);
    if (declared > limit) {
      sendResponse(res, 413, REASONS[413], NO_HEADERS, 'Too large', false);
      stream.resume();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      stream.on('data', (chunk: Buffer) => {
        if (tooLarge) return;
        size += chunk.length;
        if (size > limit) {
          tooLarge = true;
          parts.length = 0;
          sendResponse(res, 413, REASONS[413], NO_HEADERS, 'Too large', false);
          resolve(undefined);
          return;
        }
        parts.push(chunk);
      });
      stream.on('end', () => {
        if (!tooLarge) resolve(parts.length === 1 ? parts[0] : Buffer.concat(parts, size));
      });
      stream.on('error', reject);
    });
  }

  async #decode(body: Buffer, encoding: string): Promise<Buffer> {
    // Exact, case-sensitive comparison, as in_http does.
    const opts = { maxOutputLength: this.#p.decompression_size_limit };
    if (encoding === 'gzip') return gunzipAsync(body, opts);
    if (encoding === 'deflate') return inflateAsync(body, opts);
    return body;
  }

  #toEvents(req: IncomingMessage, body: Buffer): { tag: string; events: Event[] } {
    const target = splitTarget(req.url ?? '');
    const params = parseQuery(target.query);
    const queryParams = this.#p.add_query_params ? new Map(params) : undefined;
    const contentType = req.headers['content-type'] ?? '';
    const parsed: ParsedBody = this.#parser
      ? parseWithParser(this.#parser, { body, contentType, params })
      : parseDefault({ body, contentType, params });
    const tag = tagFromPath(target.path, this.#p.add_tag_prefix);
    const timeParam = params.get('time');
    let queryTime: EventTime | undefined;
    if (timeParam !== undefined) {
      const f = rubyToF(timeParam);
      queryTime = f === 0 ? EventTime.now() : floatTime(f);
    }
    const extra = this.#extraFields(req, queryParams);
    const events: Event[] = new Array(parsed.records.length);
    for (let i = 0; i < parsed.records.length; i++) {
      const record = parsed.records[i];
      if (extra) addFields(record, extra);
      events[i] = { time: queryTime ?? parsed.times[i] ?? EventTime.now(), record };
    }
    return { tag, events };
  }

  /** add_http_headers / add_query_params / add_remote_addr, appended after the parsed keys. */
  #extraFields(req: IncomingMessage, queryParams: Map<string, string> | undefined): [string, string][] | undefined {
    const p = this.#p;
    if (!p.add_http_headers && !queryParams && !p.add_remote_addr) return undefined;
    const out: [string, string][] = [];
    if (p.add_http_headers) {
      const raw = req.rawHeaders;
      for (let i = 0; i < raw.length; i += 2) out.push([`HTTP_${raw[i].replaceAll('-', '_').toUpperCase()}`, raw[i + 1]]);
    }
    if (queryParams) for (const [k, v] of queryParams) out.push([`QUERY_${k.replaceAll('-', '_').toUpperCase()}`, v]);
    if (p.add_remote_addr) out.push(['REMOTE_ADDR', remoteAddr(req)]);
    return out;
  }
}
