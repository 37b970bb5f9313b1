// A fake L7 load balancer (an AWS ALB) in front of the fake Proxy (docs/compatibility-event-handler.md
// §4.6): it terminates TLS with its own certificate and negotiates no Teleport ALPN, so only the
// ALPN connection upgrade gets through: `GET /webapi/connectionupgrade` as a WebSocket upgrade
// (sub-protocol alpn-ping, as lib/web's connectionUpgrade accepts it) is answered 101, and the
// frames' payload is then a raw stream into the Proxy's ALPN router (lib/web upgradeALPN hands
// the upgraded connection to the ALPN handler). It sends a ping first and counts the pongs.
// Anything else is answered 404. Its own frame codec, independent of the client's.
import { createHash } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer, TLSSocket } from 'node:tls';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** One unmasked server frame. */
function serverFrame(opcode: number, payload: Buffer): Buffer {
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0x80 | opcode, n]) : Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]);
  if (n >= 65536) throw new Error('fake LB frames stay under 64 KiB');
  return Buffer.concat([head, payload]);
}

export class FakeUpgradeLb {
  readonly upgrades: Array<{ protocol: string | undefined; userAgent: string | undefined }> = [];
  pongs = 0;
  rejected = 0;
  readonly #server: TlsServer;
  readonly #proxyPort: number;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(opts: { certPem: string; keyPem: string; passphrase?: string; proxyPort: number }) {
    this.#proxyPort = opts.proxyPort;
    this.#server = createTlsServer({ cert: opts.certPem, key: opts.keyPem, passphrase: opts.passphrase, ALPNProtocols: ['http/1.1'] }, (s) => this.#accept(s));
    this.#server.on('tlsClientError', () => {});
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => {});
  }

  #accept(s: TLSSocket): void {
    this.#track(s);
    let buf = Buffer.alloc(0);
    const onData = (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.removeListener('data', onData);
      const head = buf.subarray(0, end).toString('latin1');
      const header = (name: string) => new RegExp(`^${name}:\\s*(.*?)\\s*$`, 'im').exec(head)?.[1];
      const ok = head.startsWith('GET /webapi/connectionupgrade ') && header('upgrade')?.toLowerCase() === 'websocket' && header('connection')?.toLowerCase() === 'upgrade';
      const key = header('sec-websocket-key');
      if (!ok || key === undefined) {
        this.rejected++;
        s.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
        return;
      }
      const protocol = header('sec-websocket-protocol');
      this.upgrades.push({ protocol, userAgent: header('user-agent') });
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      s.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
      s.write(serverFrame(0x9, Buffer.from('ping')));
      this.#bridge(s, buf.subarray(end + 4));
    };
    s.on('data', onData);
  }

  /** Client frames (masked) → payload to the proxy; proxy bytes → binary frames. */
  #bridge(s: TLSSocket, rest: Buffer): void {
    const proxy = netConnect({ host: '127.0.0.1', port: this.#proxyPort });
    this.#track(proxy);
    proxy.on('data', (c: Buffer) => {
      for (let i = 0; i < c.length; i += 60_000) s.write(serverFrame(0x2, c.subarray(i, i + 60_000)));
    });
    proxy.on('close', () => s.destroy());
    s.on('close', () => proxy.destroy());
    let buf = rest;
    const onFrames = (c?: Buffer) => {
      if (c !== undefined) buf = Buffer.concat([buf, c]);
      for (;;) {
        if (buf.length < 2) return;
        let len = buf[1] & 0x7f;
        let off = 2;
        if (len === 126) [len, off] = buf.length < 4 ? [-1, 0] : [buf.readUInt16BE(2), 4];
        else if (len === 127) [len, off] = buf.length < 10 ? [-1, 0] : [Number(buf.readBigUInt64BE(2)), 10];
        if (len < 0 || buf.length < off + 4 + len) return;
        const mask = buf.subarray(off, off + 4);
        const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
        for (let i = 0; i < len; i++) payload[i] ^= mask[i & 3];
        const opcode = buf[0] & 0x0f;
        buf = buf.subarray(off + 4 + len);
        if (opcode === 0x2 || opcode === 0x0) proxy.write(payload);
        else if (opcode === 0xa) this.pongs++;
        else if (opcode === 0x8) s.end();
      }
    };
    s.on('data', onFrames);
    onFrames();
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }
}
