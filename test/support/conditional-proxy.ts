// An HTTP proxy in front of s3rver that behaves like AWS S3 / MinIO where
// s3rver does not: it enforces `If-None-Match: *` on PutObject and
// CompleteMultipartUpload (412 PreconditionFailed when the key exists,
// checked and written under a per-key lock so two racing writers cannot both
// win). It can also forward a PUT and then drop its response (the "succeeded
// but the answer was lost" case) and hold HEADs until N of them arrived (to
// force two replicas to probe the same free index), or refuse every UploadPart.
// Requests are forwarded byte for byte with their Host header, so SigV4
// signatures made for the proxy's address still verify upstream.

import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConditionalProxyOptions {
  /** Enforce If-None-Match: * (default true). */
  readonly enforce?: boolean;
}

export class ConditionalProxy {
  readonly #upstream: URL;
  readonly #enforce: boolean;
  readonly #server: Server;
  readonly #locks = new Map<string, Promise<void>>();
  readonly #dropPuts = new Set<number>();
  #heldHeads: (() => void)[] = [];
  #headGate = 0;
  #headAnswer: number | 'hang' | undefined;
  #partAnswer: number | undefined;
  /** Object PUTs seen (UploadPart excluded), 1-based ordinals for dropPutResponse. */
  objectPuts = 0;
  preconditionFailures = 0;
  droppedResponses = 0;
  readonly requests: string[] = [];
  endpoint = '';

  constructor(upstream: string, options: ConditionalProxyOptions = {}) {
    this.#upstream = new URL(upstream);
    this.#enforce = options.enforce ?? true;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        res.destroy(err as Error);
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  /** Forward the nth object PUT (1-based), then cut the connection instead of answering. */
  dropPutResponse(nth: number): void {
    this.#dropPuts.add(nth);
  }

  /** Hold the next `count` HEAD requests until all of them have arrived. */
  gateHeads(count: number): void {
    this.#headGate = count;
    this.#heldHeads = [];
  }

  /**
   * Answer every object HEAD with `status` without asking upstream (a store
   * whose reads lag its writes: 404 for a key that exists; a 403), or never
   * answer it ('hang'). `undefined` forwards HEADs again.
   */
  answerHeads(answer: number | 'hang' | undefined): void {
    this.#headAnswer = answer;
  }

  /** Answer every UploadPart with `status` (an S3 error document) without forwarding it; `undefined` forwards again. */
  answerParts(status: number | undefined): void {
    this.#partAnswer = status;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://proxy');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.method === 'HEAD' && this.#headGate > 0) {
      await new Promise<void>((resolve) => {
        this.#heldHeads.push(resolve);
        if (this.#heldHeads.length >= this.#headGate) {
          this.#headGate = 0;
          for (const release of this.#heldHeads) release();
        }
      });
    }
    if (req.method === 'HEAD' && this.#headAnswer !== undefined && url.pathname.split('/').length > 2) {
      req.resume();
      if (this.#headAnswer === 'hang') return; // closeAllConnections() ends it
      res.writeHead(this.#headAnswer, { 'Content-Length': 0 });
      res.end();
      return;
    }
    if (req.method === 'PUT' && url.searchParams.has('partNumber') && this.#partAnswer !== undefined) {
      req.resume();
      const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
      res.writeHead(this.#partAnswer, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    const isObjectPut = req.method === 'PUT' && !url.searchParams.has('uploadId') && url.pathname.split('/').length > 2;
    const isComplete = req.method === 'POST' && url.searchParams.has('uploadId');
    let ordinal = 0;
    if (isObjectPut) ordinal = ++this.objectPuts;
    const drop = ordinal > 0 && this.#dropPuts.has(ordinal);
    const conditional = this.#enforce && (isObjectPut || isComplete) && req.headers['if-none-match'] === '*';
    if (!conditional) {
      await this.#forward(req, res, drop);
      return;
    }
    const unlock = await this.#lock(url.pathname);
    try {
      if (await this.#exists(url.pathname)) {
        this.preconditionFailures++;
        req.resume();
        const body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code>' +
          '<Message>At least one of the pre-conditions you specified did not hold</Message>' +
          '<Condition>If-None-Match</Condition></Error>';
        res.writeHead(412, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      await this.#forward(req, res, drop);
    } finally {
      unlock();
    }
  }

  async #lock(key: string): Promise<() => void> {
    for (;;) {
      const held = this.#locks.get(key);
      if (!held) break;
      await held;
    }
    let release!: () => void;
    this.#locks.set(key, new Promise<void>((resolve) => { release = resolve; }));
    return () => {
      this.#locks.delete(key);
      release();
    };
  }

  // s3rver lets unsigned requests through, so the proxy can look for itself.
  #exists(path: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const probe = request({ host: this.#upstream.hostname, port: this.#upstream.port, method: 'HEAD', path }, (r) => {
        r.resume();
        resolve(r.statusCode === 200);
      });
      probe.on('error', reject);
      probe.end();
    });
  }

  #forward(req: IncomingMessage, res: ServerResponse, drop: boolean): Promise<void> {
    const headers = { ...req.headers };
    delete headers.expect; // Node answers 100-continue itself; `expect` is never signed
    return new Promise((resolve, reject) => {
      const upstream = request({
        host: this.#upstream.hostname,
        port: this.#upstream.port,
        method: req.method,
        path: req.url,
        headers,
      }, (up) => {
        if (drop) {
          // Let the upstream finish (the object is stored), then lose the answer.
          up.resume();
          up.on('end', () => {
            this.droppedResponses++;
            req.socket.destroy();
            resolve();
          });
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        up.on('end', () => resolve());
        up.on('error', reject);
      });
      upstream.on('error', reject);
      req.pipe(upstream);
    });
  }
}
