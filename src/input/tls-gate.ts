// What happens on the HTTPS port before a request is parsed (docs/compatibility.md §2, "TLS
// mistakes"): a plain-HTTP client gets Go's and nginx's answer (400, "Client sent an HTTP request
// to an HTTPS server.") instead of an empty reply, and a refused handshake is one warn line in
// words with the peer's address and, when it presented one, its certificate's subject/issuer.
//
// Node verifies a client certificate only after the handshake (its OpenSSL verify callback
// accepts everything; `onServerSocketSecure` then destroys the socket), so a foreign CA, an
// expired cert or one without the clientAuth EKU reaches us as "socket hang up" with
// `authorizationError` set, and without the peer certificate: it is read in the socket's own
// 'secure' event, found through the server's 'keylog' event (the only one that hands us the
// TLSSocket during the handshake; the key lines themselves are dropped, never stored or logged).

import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { peerNames, tlsRefusalWords } from './tls.ts';

/** Go's net/http text for the same mistake (server.go, tlsRecordHeaderLooksLikeHTTP). */
export const PLAIN_HTTP_BODY = 'Client sent an HTTP request to an HTTPS server.\n';
const PLAIN_HTTP_ANSWER = 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n' +
  `Content-Length: ${PLAIN_HTTP_BODY.length}\r\nConnection: close\r\n\r\n${PLAIN_HTTP_BODY}`;
/** Node's default TLS handshakeTimeout: a connection that sends nothing is closed after it. */
const FIRST_BYTE_TIMEOUT_MS = 120_000;
/** How long the rest of a plain request is read (and dropped) after the 400, so the close is not a reset. */
const PLAIN_LINGER_MS = 2_000;
const TLS_HANDSHAKE_RECORD = 0x16;

type Peer = { addr?: string; port?: number };
type ConnectionListener = (this: TlsServer, raw: Socket) => void;

export class TlsGate {
  readonly #log: Logger;
  readonly #peers = new WeakMap<Socket, Peer>();
  readonly #presented = new WeakMap<TLSSocket, { subject?: string; issuer?: string }>();
  /** Sockets whose handshake failure tlsClientError logs: clientError must not log them again. */
  readonly #failed = new WeakSet<Socket>();
  /** Raw sockets still waiting for their first byte, or in the TLS handshake: destroyed at stop. */
  readonly #waiting = new Set<Socket>();

  readonly #onRefused: ((reason: string) => void) | undefined;

  /** `onRefused` counts refused handshakes (TLS failures by reason, for /metrics). */
  constructor(server: TlsServer, log: Logger, requestCert: boolean, onRefused?: (reason: string) => void) {
    this.#log = log;
    this.#onRefused = onRefused;
    const tlsListeners = server.listeners('connection') as ConnectionListener[];
    server.removeAllListeners('connection');
    server.on('connection', (raw: Socket) => this.#sniff(server, raw, tlsListeners));
    // Prepended: https.Server re-emits tlsClientError as clientError from its own listener.
    server.prependListener('tlsClientError', (err: Error, socket: TLSSocket) => this.#refused(err, socket));
    // From here on the HTTP server tracks the connection (closeIdleConnections at close).
    server.prependListener('secureConnection', (socket: TLSSocket) => {
      const raw = (socket as unknown as { _parent?: Socket })._parent;
      if (raw) this.#waiting.delete(raw);
    });
    if (requestCert) {
      server.on('keylog', (_line: Buffer, socket: TLSSocket) => {
        if (this.#presented.has(socket)) return;
        this.#presented.set(socket, {});
        socket.prependOnceListener('secure', () => this.#presented.set(socket, peerNames(socket)));
      });
    }
  }

  /** True when the error is a TLS handshake failure this gate has logged already. */
  handled(socket: object): boolean {
    return this.#failed.has(socket as Socket);
  }

  /** Closes connections that never sent a byte or stalled in the handshake (server.close would wait for them). */
  stop(): void {
    for (const raw of this.#waiting) raw.destroy();
    this.#waiting.clear();
  }

  #sniff(server: TlsServer, raw: Socket, tlsListeners: ConnectionListener[]): void {
    this.#peers.set(raw, { addr: raw.remoteAddress?.replace(/^::ffff:/, ''), port: raw.remotePort });
    this.#waiting.add(raw);
    const drop = () => {
      this.#waiting.delete(raw);
      raw.destroy();
    };
    raw.setTimeout(FIRST_BYTE_TIMEOUT_MS, drop);
    raw.on('error', drop);
    raw.once('close', () => this.#waiting.delete(raw));
    raw.once('data', (chunk: Buffer) => {
      raw.pause();
      raw.setTimeout(0);
      raw.removeListener('error', drop);
      if (isPlainHttp(chunk[0])) {
        this.#waiting.delete(raw);
        return this.#answerPlain(raw);
      }
      // Node's TLSSocket feeds bytes already buffered on the raw socket to OpenSSL first.
      raw.unshift(chunk);
      for (const listener of tlsListeners) listener.call(server, raw);
    });
  }

  #answerPlain(raw: Socket): void {
    const { addr, port } = this.#peers.get(raw) ?? {};
    this.#log.warn({ addr, host: addr, port },
      `plain HTTP request from ${addr}:${port} to the HTTPS port: answered 400; this port speaks HTTPS only, use an https:// URL with the client certificate`);
    raw.on('error', () => raw.destroy());
    raw.end(PLAIN_HTTP_ANSWER);
    raw.setTimeout(PLAIN_LINGER_MS, () => raw.destroy());
    raw.resume();
  }

  #refused(err: Error, socket: TLSSocket): void {
    this.#failed.add(socket);
    // A failed handshake tears the socket down before this event; the peer
    // address was noted on the raw socket (`_parent`) when it connected.
    const raw = (socket as unknown as { _parent?: Socket })._parent;
    const noted = raw ? this.#peers.get(raw) : undefined;
    const addr = (socket.remoteAddress ?? noted?.addr)?.replace(/^::ffff:/, '');
    const port = socket.remotePort ?? noted?.port;
    // Node's post-handshake verification: the reason is the socket's authorizationError.
    const authError = socket.authorizationError ?? undefined; // null before verification
    const reason = authError !== undefined
      ? String(authError)
      : (err as { reason?: string }).reason ?? err.message;
    const code = (err as NodeJS.ErrnoException).code;
    // A client that merely disconnects mid-handshake is debug (Fluentd: trace); a refusal is warn.
    const level = authError === undefined && (code === 'ECONNRESET' || code === 'EPIPE') ? 'debug' : 'warn';
    const presented = this.#presented.get(socket);
    const peer = presented?.subject ? presented : peerNames(socket);
    if (level === 'warn') this.#onRefused?.(reason);
    this.#log[level]({ addr, host: addr, port, ...peer, error: reason },
      `TLS connection from ${addr}:${port} refused: ${tlsRefusalWords(reason)}${describe(peer)}`);
  }
}

/** An HTTP method's first letter; a TLS connection starts with a record type (0x14–0x17) or SSLv2's 0x80. */
function isPlainHttp(first: number | undefined): boolean {
  return first !== undefined && first !== TLS_HANDSHAKE_RECORD && first >= 0x41 && first <= 0x5a;
}

function describe(peer: { subject?: string; issuer?: string }): string {
  return peer.subject ? `; presented subject ${peer.subject}, issuer ${peer.issuer}` : '';
}
