// Starts the real receiver on port 0 from a config text, with its process log
// captured line by line (pino JSON lines and raw out_stdout lines alike).
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { startReceiver, type Receiver } from '../../src/receiver.ts';
import type { CertFiles } from './certs.ts';
import { exitTempDir } from './exit-temp-dir.ts';

export class CapturedLog {
  readonly lines: string[] = [];
  #partial = '';
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, cb) => {
      const text = this.#partial + chunk.toString('utf8');
      const parts = text.split('\n');
      this.#partial = parts.pop()!;
      this.lines.push(...parts);
      cb();
    },
  });
  /** Parsed pino entries (non-JSON lines skipped). */
  entries(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of this.lines) {
      if (l.startsWith('{')) {
        try {
          out.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          // a raw out_stdout line that happens to start with {
        }
      }
    }
    return out;
  }
  /** Raw (non-JSON) lines: out_stdout's event lines. */
  rawLines(): string[] {
    return this.lines.filter((l) => !l.startsWith('{"level"'));
  }
  async waitFor(pred: (lines: string[]) => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!pred(this.lines)) {
      if (Date.now() > end) throw new Error(`timed out waiting; log so far:\n${this.lines.join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export interface TestReceiver {
  receiver: Receiver;
  port: number;
  log: CapturedLog;
  dir: string;
  confPath: string;
}

export async function startTestReceiver(confText: string, dir = exitTempDir('ar-recv-')): Promise<TestReceiver> {
  const confPath = join(dir, 'fluent.conf');
  writeFileSync(confPath, confText);
  const log = new CapturedLog();
  const logger = pino({ level: 'trace', base: undefined }, log.stream);
  const receiver = await startReceiver({
    configPath: confPath,
    processLog: { log: logger, writeLine: (line) => void log.stream.write(line), flush: () => {} },
  });
  return { receiver, port: receiver.port, log, dir, confPath };
}

/** The seed's <parse> section. */
export const SEED_PARSE = `@type json
    json_parser oj
    time_type string
    time_format %Y-%m-%dT%H:%M:%S`;

/**
 * An in_http <source> with the seed's mTLS transport on 127.0.0.1, port 0;
 * `parse` is the body of its <parse> section (none: in_http's content-type rules).
 */
export function mtlsSource(c: CertFiles, opts: { extra?: string; parse?: string } = {}): string {
  const parse = opts.parse === undefined ? '' : `  <parse>\n    ${opts.parse}\n  </parse>\n`;
  return `<source>
  @type http
  port 0
  bind 127.0.0.1
  ${opts.extra ?? ''}
  <transport tls>
    client_cert_auth true
    ca_path "${c.ca}"
    cert_path "${c.serverCert}"
    private_key_path "${c.serverKey}"
    private_key_passphrase "${c.passphrase}"
  </transport>
${parse}</source>
`;
}

/** The seed's <source>, on port 0, with the given certs. */
export function seedSource(c: CertFiles, extra = ''): string {
  return mtlsSource(c, { extra, parse: SEED_PARSE });
}

export interface RawResponse {
  /** Everything the server sent, as bytes (latin1 string). */
  raw: string;
  /** Whether the server closed the connection within the wait. */
  closed: boolean;
}

/** A TLS connection to the receiver on 127.0.0.1 with the test client certificate. */
export function mtlsConnect(port: number, c: CertFiles): TLSSocket {
  return tlsConnect({
    host: '127.0.0.1',
    port,
    ca: readFileSync(c.ca),
    cert: readFileSync(c.clientCert),
    key: readFileSync(c.clientKey),
    servername: 'localhost',
  });
}

/**
 * Sends raw bytes over mTLS and collects the answer: until the server closes,
 * or until one full response (headers + Content-Length body) has arrived and
 * `waitMs` of silence passed (keep-alive connections stay open).
 */
export function rawRequest(port: number, c: CertFiles, request: string | Buffer, opts: { waitMs?: number; responses?: number } = {}): Promise<RawResponse> {
  const waitMs = opts.waitMs ?? 300;
  return new Promise((resolve, reject) => {
    const socket = mtlsConnect(port, c);
    let raw = '';
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw, closed });
    };
    socket.on('secureConnect', () => socket.write(request));
    socket.on('data', (d: Buffer) => {
      raw += d.toString('latin1');
      clearTimeout(timer);
      if (completeResponses(raw) >= (opts.responses ?? 1)) timer = setTimeout(() => finish(false), waitMs);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err) => (raw ? finish(true) : reject(err)));
  });
}

function completeResponses(raw: string): number {
  let count = 0;
  let at = 0;
  while (true) {
    const head = raw.indexOf('\r\n\r\n', at);
    if (head < 0) return count;
    const headers = raw.slice(at, head);
    if (/^HTTP\/1\.1 100 /.test(headers)) {
      at = head + 4;
      continue;
    }
    const m = /\r\nContent-Length: (\d+)/i.exec(headers);
    const len = m ? Number(m[1]) : 0;
    if (raw.length < head + 4 + len) return count;
    count++;
    at = head + 4 + len;
  }
}
