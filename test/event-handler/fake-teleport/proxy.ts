// A fake Teleport Proxy Service in TLS-routing (multiplex) mode, built the way Teleport's is
// (docs/compatibility-event-handler.md §4.6): it peeks at the ClientHello without terminating TLS
// (lib/srv/alpnproxy, ForwardTLS), and when the first ALPN value is `teleport-auth@<hex>.teleport.cluster.local`
// naming its cluster it forwards the raw TLS bytes to the Auth Service (lib/srv/alpnproxy/auth
// auth_proxy.go: TCP to auth, io.Copy both ways), so the client's TLS ends at the fake Auth. Any
// other hello goes to its web listener, which terminates TLS with the proxy's own certificate
// (not issued by the cluster CA), as the real proxy's default web handler does.
import { createServer as createNetServer, connect as netConnect } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer } from 'node:tls';

export interface HelloInfo {
  readonly alpn: readonly string[];
  readonly sni: string | undefined;
}

export interface RoutedConn extends HelloInfo {
  /** 'auth' = forwarded to the Auth Service; 'web' = terminated by the proxy. */
  readonly to: 'auth' | 'web' | 'refused';
  readonly cluster?: string;
}

/** The ClientHello's SNI and ALPN list, or undefined while `buf` does not hold it all yet. */
export function parseClientHello(buf: Buffer): HelloInfo | undefined | Error {
  // TLS records: type(1)=22 handshake, version(2), length(2); the handshake may span records.
  const hs: Buffer[] = [];
  let off = 0;
  while (off + 5 <= buf.length) {
    if (buf[off] !== 22) return new Error(`not a TLS handshake record (type ${buf[off]})`);
    const len = buf.readUInt16BE(off + 3);
    if (off + 5 + len > buf.length) break;
    hs.push(buf.subarray(off + 5, off + 5 + len));
    off += 5 + len;
  }
  const h = Buffer.concat(hs);
  if (h.length < 4) return undefined;
  if (h[0] !== 1) return new Error('first handshake message is not a ClientHello');
  const bodyLen = h.readUIntBE(1, 3);
  if (h.length < 4 + bodyLen) return undefined;
  const b = h.subarray(4, 4 + bodyLen);
  let p = 2 + 32; // client_version, random
  p += 1 + b[p]; // session_id
  p += 2 + b.readUInt16BE(p); // cipher_suites
  p += 1 + b[p]; // compression_methods
  const extEnd = p + 2 + b.readUInt16BE(p);
  p += 2;
  const alpn: string[] = [];
  let sni: string | undefined;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const data = b.subarray(p + 4, p + 4 + len);
    if (type === 0x0010) {
      for (let q = 2; q < data.length; q += 1 + data[q]) alpn.push(data.subarray(q + 1, q + 1 + data[q]).toString('latin1'));
    } else if (type === 0x0000 && data[2] === 0) {
      sni = data.subarray(5, 5 + data.readUInt16BE(3)).toString('latin1');
    }
    p += 4 + len;
  }
  return { alpn, sni };
}

const AUTH_PREFIX = 'teleport-auth@';
const API_DOMAIN_SUFFIX = '.teleport.cluster.local';

/** api/utils DecodeClusterName of the route part after `teleport-auth@`. */
function decodeCluster(route: string): string | undefined {
  if (!route.endsWith(API_DOMAIN_SUFFIX)) return undefined;
  const hex = route.slice(0, -API_DOMAIN_SUFFIX.length);
  return /^([0-9a-f]{2})*$/.test(hex) ? Buffer.from(hex, 'hex').toString('utf8') : undefined;
}

export interface FakeProxyOptions {
  /** The cluster this proxy routes to its Auth Service. */
  readonly cluster: string;
  readonly authPort: number;
  /** The proxy's web certificate (a public CA's in real life; here another test CA's). */
  readonly webCertPem: string;
  readonly webKeyPem: string;
  readonly webKeyPassphrase?: string;
}

export class FakeProxy {
  readonly routed: RoutedConn[] = [];
  readonly #opts: FakeProxyOptions;
  readonly #front: NetServer;
  readonly #web: TlsServer;
  readonly #sockets = new Set<Socket>();
  #webPort = 0;
  port = 0;

  constructor(opts: FakeProxyOptions) {
    this.#opts = opts;
    this.#web = createTlsServer({ cert: opts.webCertPem, key: opts.webKeyPem, passphrase: opts.webKeyPassphrase, ALPNProtocols: ['h2', 'http/1.1'] }, (s) => {
      this.#track(s);
      s.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
    });
    this.#web.on('tlsClientError', () => {});
    this.#front = createNetServer((s) => this.#accept(s));
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => {});
  }

  #accept(client: Socket): void {
    this.#track(client);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const hello = parseClientHello(buf);
      if (hello === undefined) return;
      client.removeListener('data', onData);
      client.pause();
      if (hello instanceof Error) return void client.destroy();
      this.#route(client, hello, buf);
    };
    client.on('data', onData);
  }

  #route(client: Socket, hello: HelloInfo, head: Buffer): void {
    const first = hello.alpn[0] ?? '';
    let port = this.#webPort;
    if (first.startsWith(AUTH_PREFIX)) {
      const cluster = decodeCluster(first.slice(AUTH_PREFIX.length));
      // auth_proxy.go: a cluster it does not know is NotFound → the connection is closed.
      if (cluster !== this.#opts.cluster) {
        this.routed.push({ ...hello, to: 'refused', cluster });
        return void client.destroy();
      }
      this.routed.push({ ...hello, to: 'auth', cluster });
      port = this.#opts.authPort;
    } else {
      this.routed.push({ ...hello, to: 'web' });
    }
    const upstream = netConnect({ host: '127.0.0.1', port }, () => {
      upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    this.#track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
  }

  async start(): Promise<number> {
    await new Promise<void>((resolve) => this.#web.listen(0, '127.0.0.1', resolve));
    this.#webPort = (this.#web.address() as AddressInfo).port;
    await new Promise<void>((resolve) => this.#front.listen(0, '127.0.0.1', resolve));
    this.port = (this.#front.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await Promise.all([new Promise((r) => this.#front.close(r)), new Promise((r) => this.#web.close(r))]);
  }
}
