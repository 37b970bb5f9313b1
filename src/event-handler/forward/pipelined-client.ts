// One persistent HTTP/1.1 connection with request pipelining (RFC 9112 §9.3.2) for the ordered
// audit stream: request i+1 is written before answer i arrives, answers come back in request
// order, and the receiver (in_http, our receiver) handles one connection's requests one after the
// other — so events reach it in order while several are in flight. With the default keep-alive
// pool (forwarder.ts) adjacent POSTs travel on different sockets and may be processed swapped.
// Requests are byte-for-byte what Forwarder's node:https request writes (same headers, order,
// Host), over the same TLS options (fluentd ca/cert/key, ALPN http/1.1, SNI = host name unless
// an IP, as https.Agent does). This class only moves bytes and parses answers; ordering, retries
// and the cursor live in pipelined-pipeline.ts.
import { connect as netConnect, isIP } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Target } from './forwarder.ts';
import { USER_AGENT } from '../user-agent.ts';

export const REQUEST_TIMEOUT_MS = 30_000;
const RETRY_AFTER_CAP_MS = 60_000;
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF2 = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** PEM contents, read once at startup. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** Called in request order; exactly once per written request until `onClose`. */
export interface ConnectionEvents {
  onAnswer(status: number, retryAfterMs: number | undefined): void;
  /**
   * The connection is gone; the requests written and not answered were not answered. `announced`
   * is true when the receiver said so with `Connection: close` on its last answer; false on a
   * FIN or reset without it, a transport error, a timeout or an unparsable answer.
   */
  onClose(error: Error | undefined, announced: boolean): void;
}

/** The fixed parts of every request head, built once per target: prefix + length + suffix + body. */
export interface RequestHead {
  readonly prefix: string;
  readonly suffix: string;
}

export function requestHead(t: Target): RequestHead {
  const defaultPort = t.secure ? 443 : 80;
  const host = (isIP(t.host) === 6 ? `[${t.host}]` : t.host) + (t.port === defaultPort ? '' : `:${t.port}`);
  // Node's ClientRequest order (what Forwarder sends): the given headers, then Host, then Connection.
  return {
    prefix: `POST ${t.path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: `,
    suffix: `\r\nUser-Agent: ${USER_AGENT}\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`,
  };
}

// Answer parser states (a const object: enums are not erasable syntax).
const PS = { HEAD: 0, BODY: 1, CHUNK_SIZE: 2, CHUNK_DATA: 3, TRAILER: 4, UNTIL_CLOSE: 5 } as const;
type ParseState = (typeof PS)[keyof typeof PS];

export class PipelinedConnection {
  readonly #socket: Socket;
  readonly #events: ConnectionEvents;
  readonly #head: RequestHead;
  /** Write time of each unanswered request, oldest first (ring: #sentAt[#ackHead..]). */
  #sentAt: number[] = [];
  #ackHead = 0;
  #answered = 0;
  #buf: Buffer | undefined;
  #state: ParseState = PS.HEAD;
  #remaining = 0;
  #status = 0;
  #retryAfterMs: number | undefined;
  #closeAfter = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #onTimer = () => this.#checkTimeout();

  constructor(t: Target, tls: TlsMaterial | undefined, events: ConnectionEvents) {
    this.#events = events;
    this.#head = requestHead(t);
    this.#socket = t.secure
      ? tlsConnect({
          host: t.host,
          port: t.port,
          ca: tls?.ca,
          cert: tls?.cert,
          key: tls?.key,
          ALPNProtocols: ['http/1.1'],
          servername: isIP(t.host) === 0 ? t.host : undefined,
        })
      : netConnect({ host: t.host, port: t.port });
    this.#socket.setNoDelay(true);
    this.#socket.setKeepAlive(true, 1000);
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('end', () => this.#finish(undefined, false));
    this.#socket.on('error', (err: Error) => this.#finish(err, false));
    this.#socket.on('close', () => this.#finish(undefined, false));
  }

  /** Requests written and not answered yet. */
  get outstanding(): number {
    return this.#sentAt.length - this.#ackHead;
  }

  /** Requests answered on this connection. */
  get answered(): number {
    return this.#answered;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Batches the writes of one pump into one TLS record run. */
  cork(): void {
    this.#socket.cork();
  }

  uncork(): void {
    this.#socket.uncork();
  }

  write(body: string): void {
    this.#socket.write(this.#head.prefix + Buffer.byteLength(body) + this.#head.suffix + body);
    this.#sentAt.push(Date.now());
    if (this.#timer === undefined) this.#timer = setTimeout(this.#onTimer, REQUEST_TIMEOUT_MS);
  }

  close(): void {
    this.#finish(undefined, false);
  }

  /** One timer per connection: fires at the oldest unanswered request's deadline. */
  #checkTimeout(): void {
    this.#timer = undefined;
    if (this.#closed || this.outstanding === 0) return;
    const left = this.#sentAt[this.#ackHead] + REQUEST_TIMEOUT_MS - Date.now();
    if (left <= 0) this.#finish(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`), false);
    else this.#timer = setTimeout(this.#onTimer, left);
  }

  #finish(error: Error | undefined, announced: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    // A body delimited by the end of the connection (no Content-Length, not chunked) ends here.
    if (this.#state === PS.UNTIL_CLOSE && error === undefined) this.#answer();
    this.#socket.destroy();
    this.#events.onClose(error, announced && error === undefined);
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    const buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf, chunk]);
    this.#buf = undefined;
    let at = 0;
    for (;;) {
      if (this.#closed) return;
      if (this.#state === PS.HEAD) {
        const end = buf.indexOf(CRLF2, at);
        if (end < 0) {
          if (buf.length - at > MAX_HEAD_BYTES) return this.#finish(new Error('answer head over 64 KiB'), false);
          break;
        }
        const err = this.#parseHead(buf.toString('latin1', at, end));
        if (err !== undefined) return this.#finish(err, false);
        at = end + 4;
      } else if (this.#state === PS.BODY || this.#state === PS.CHUNK_DATA) {
        const take = Math.min(this.#remaining, buf.length - at);
        at += take;
        this.#remaining -= take;
        if (this.#remaining > 0) break;
        if (this.#state === PS.BODY) this.#answer();
        else this.#state = PS.CHUNK_SIZE; // the data's CRLF is skipped by CHUNK_SIZE below
      } else if (this.#state === PS.CHUNK_SIZE || this.#state === PS.TRAILER) {
        const end = buf.indexOf(CRLF, at);
        if (end < 0) break;
        const line = buf.toString('latin1', at, end);
        at = end + 2;
        if (this.#state === PS.TRAILER) {
          if (line === '') this.#answer();
        } else if (line !== '') {
          const size = parseInt(line, 16); // chunk extensions (";…") are ignored by parseInt
          if (!Number.isFinite(size) || size < 0) return this.#finish(new Error(`bad chunk size '${line}'`), false);
          if (size === 0) this.#state = PS.TRAILER;
          else {
            this.#state = PS.CHUNK_DATA;
            this.#remaining = size;
          }
        }
      } else {
        at = buf.length; // UNTIL_CLOSE: the body runs to the end of the connection
      }
      if (at >= buf.length) break;
    }
    if (at < buf.length) this.#buf = at === 0 ? buf : buf.subarray(at);
  }

  /** Status line and the headers that matter; sets the body state. */
  #parseHead(head: string): Error | undefined {
    const lines = head.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]);
    if (m === null) return new Error(`not an HTTP/1.x answer: '${lines[0].slice(0, 80)}'`);
    const status = Number(m[2]);
    let length = -1;
    let chunked = false;
    let close = m[1] === '0';
    let retryAfter: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const c = lines[i].indexOf(':');
      if (c <= 0) continue;
      const name = lines[i].slice(0, c).trim().toLowerCase();
      const value = lines[i].slice(c + 1).trim();
      if (name === 'content-length') length = Number(value);
      else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
      else if (name === 'connection') close = value.toLowerCase().includes('close') || (m[1] === '0' && !value.toLowerCase().includes('keep-alive'));
      else if (name === 'retry-after') retryAfter = value;
    }
    if (status >= 100 && status < 200) return undefined; // interim (100 Continue): the real answer follows
    const secs = retryAfter === undefined ? NaN : Number(retryAfter);
    this.#status = status;
    this.#retryAfterMs = Number.isFinite(secs) ? Math.min(secs * 1000, RETRY_AFTER_CAP_MS) : undefined;
    this.#closeAfter = close;
    if (status === 204 || status === 304) this.#answer();
    else if (chunked) this.#state = PS.CHUNK_SIZE;
    else if (length >= 0 && Number.isSafeInteger(length)) {
      this.#state = PS.BODY;
      this.#remaining = length;
      if (length === 0) this.#answer();
    } else this.#state = PS.UNTIL_CLOSE;
    return undefined;
  }

  #answer(): void {
    this.#state = PS.HEAD;
    if (this.outstanding === 0) return this.#finish(new Error(`an answer (HTTP ${this.#status}) to no request`), false);
    this.#ackHead++;
    this.#answered++;
    if (this.#ackHead === this.#sentAt.length) {
      this.#sentAt.length = 0;
      this.#ackHead = 0;
      clearTimeout(this.#timer); // idle: no deadline (and nothing keeping the process up)
      this.#timer = undefined;
    } else if (this.#ackHead > 1024) {
      this.#sentAt = this.#sentAt.slice(this.#ackHead);
      this.#ackHead = 0;
    }
    this.#events.onAnswer(this.#status, this.#retryAfterMs);
    if (this.#closeAfter) this.#finish(undefined, true);
  }
}
