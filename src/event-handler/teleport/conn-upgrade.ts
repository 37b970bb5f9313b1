// The ALPN connection upgrade for a Proxy behind an L7 load balancer that strips ALPN
// (docs/compatibility-event-handler.md §4.6; api/client/alpn_conn_upgrade.go, alpn_websocket.go):
// TLS to the load balancer (its public certificate, checked against Node's roots and
// NODE_EXTRA_CA_CERTS), `GET /webapi/connectionupgrade` as a WebSocket upgrade with sub-protocol
// `alpn-ping` (authConnect's WithALPNConnUpgradePing), then the bytes of the inner TLS carried in
// binary WebSocket frames; pings are answered with pongs. The inner TLS is the route's own.
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { TLSSocket } from 'node:tls';
import { USER_AGENT } from '../user-agent.ts';

/** constants.WebAPIConnUpgrade */
export const CONN_UPGRADE_PATH = '/webapi/connectionupgrade';
/** constants.WebAPIConnUpgradeTypeALPNPing */
export const UPGRADE_PROTOCOL = 'alpn-ping';
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HEAD = 16 * 1024;

/** One masked client frame (RFC 6455 §5.2). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  if (len >= 126 && len < 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else if (len >= 65536) {
    head[0] = 0x80 | opcode;
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** A byte stream over binary WebSocket frames on `ws` (already upgraded). */
export class WebSocketStream extends Duplex {
  readonly #ws: TLSSocket;
  #buf: Buffer = Buffer.alloc(0);

  constructor(ws: TLSSocket, head: Buffer) {
    super();
    this.#ws = ws;
    ws.on('data', (chunk: Buffer) => this.#onData(chunk));
    ws.on('end', () => this.push(null));
    ws.on('error', (err) => this.destroy(err));
    ws.on('close', () => this.destroy());
    if (head.length > 0) this.#onData(head);
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const b = this.#buf;
      if (b.length < 2) return;
      const opcode = b[0] & 0x0f;
      const masked = (b[1] & 0x80) !== 0;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const maskAt = off;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = Buffer.from(b.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i] ^= b[maskAt + (i & 3)];
      this.#buf = b.subarray(off + len);
      this.#onFrame(opcode, payload);
    }
  }

  #onFrame(opcode: number, payload: Buffer): void {
    if (opcode === 0x2 || opcode === 0x0) this.push(payload);
    else if (opcode === 0x9) this.#ws.write(clientFrame(0xa, payload));
    else if (opcode === 0x8) {
      this.#ws.end(clientFrame(0x8, payload.subarray(0, 2)));
      this.push(null);
    }
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#ws.write(clientFrame(0x2, chunk), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#ws.end(clientFrame(0x8, Buffer.from([0x03, 0xe8])), cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#ws.destroy();
    cb(err);
  }
}

export interface UpgradeOptions {
  /** Extra CAs for the load balancer's certificate (tests); Node's roots otherwise. */
  readonly webCaPems?: readonly string[];
}

function outerTls(tcp: Socket, host: string, opts: UpgradeOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = tlsConnect({
      socket: tcp,
      host,
      servername: isIP(host) === 0 ? host : undefined,
      ALPNProtocols: ['http/1.1'],
      ca: opts.webCaPems === undefined ? undefined : [...opts.webCaPems],
    });
    tls.once('error', (err) => {
      tls.destroy();
      reject(new Error(`TLS to the load balancer failed: ${err.message}`, { cause: err }));
    });
    tls.once('secureConnect', () => resolve(tls));
  });
}

/** Reads the HTTP response head; resolves with it and the bytes after it. */
function readHead(tls: TLSSocket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0 && buf.length < MAX_HEAD) return;
      cleanup();
      if (end < 0) reject(new Error('the connection upgrade response has no end of headers'));
      else resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('the load balancer closed the connection during the upgrade'));
    };
    const cleanup = () => {
      tls.removeListener('data', onData);
      tls.removeListener('end', onEnd);
      tls.pause();
    };
    tls.on('data', onData);
    tls.once('end', onEnd);
  });
}

/** The WebSocket upgrade over `tcp` to `addr`; the stream it returns carries the inner TLS. */
export async function upgradeConnection(tcp: Socket, addr: string, host: string, opts: UpgradeOptions): Promise<WebSocketStream> {
  const tls = await outerTls(tcp, host, opts);
  const key = randomBytes(16).toString('base64');
  tls.write(
    `GET ${CONN_UPGRADE_PATH} HTTP/1.1\r\nHost: ${addr}\r\nUser-Agent: ${USER_AGENT}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Protocol: ${UPGRADE_PROTOCOL}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
  );
  try {
    const { head, rest } = await readHead(tls);
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (status !== 101) {
      throw new Error(status === 404 ? `${CONN_UPGRADE_PATH} answered 404: the Proxy does not offer the WebSocket connection upgrade (Teleport too old?)` : `the connection upgrade was answered ${Number.isNaN(status) ? 'with no HTTP status' : status}, not 101`);
    }
    const accept = /^sec-websocket-accept:\s*(\S+)\s*$/im.exec(head)?.[1];
    const expected = createHash('sha1').update(key + WS_GUID).digest('base64');
    if (accept !== expected) throw new Error('the connection upgrade answer has a wrong Sec-WebSocket-Accept');
    const stream = new WebSocketStream(tls, rest);
    tls.resume();
    return stream;
  } catch (err) {
    tls.destroy();
    throw err;
  }
}
