// A tiny HTTP/1.1 server over mTLS for the pipelining tests: it parses one connection's requests
// in order, answers each in order after a short delay (so requests pile up when the client
// pipelines), and lets a test decide per request: 200, 503 + Retry-After, `Connection: close`,
// or drop the connection without answering. Only Content-Length bodies (what we send).
import { createServer } from 'node:tls';
import type { Server, TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { CertFiles } from '../support/certs.ts';

export interface RawAnswer {
  readonly status: number;
  readonly retryAfter?: string;
  /** 'header': answer with `Connection: close` and close; 'drop': close without answering. */
  readonly close?: 'header' | 'drop';
  readonly chunked?: boolean;
}

export interface RawRequest {
  readonly conn: number;
  readonly head: string;
  readonly body: string;
}

export type Policy = (req: RawRequest, index: number) => RawAnswer;

export interface RawServer {
  readonly port: number;
  readonly requests: RawRequest[];
  /** Bodies answered 200, in the order the server took them. */
  readonly accepted: string[];
  /** Raw bytes of each connection, in arrival order. */
  readonly bytes: Buffer[][];
  /** Most requests received and not yet answered on one connection. */
  maxPending: number;
  connections: number;
  close(): Promise<void>;
}

export async function startRawServer(c: CertFiles, policy: Policy, answerDelayMs = 2): Promise<RawServer> {
  const sockets = new Set<TLSSocket>();
  const state: RawServer = {
    port: 0,
    requests: [],
    accepted: [],
    bytes: [],
    maxPending: 0,
    connections: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer(
    { ca: readFileSync(c.ca), cert: readFileSync(c.serverCert), key: readFileSync(c.serverKey), passphrase: c.passphrase, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      const conn = state.connections++;
      const raw: Buffer[] = [];
      state.bytes.push(raw);
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      const queue: RawRequest[] = [];
      let busy = false;
      let dead = false;
      const next = () => {
        if (busy || dead || queue.length === 0) return;
        busy = true;
        setTimeout(() => {
          busy = false;
          if (dead) return;
          const req = queue.shift()!;
          const a = policy(req, state.requests.length);
          state.requests.push(req);
          if (a.close === 'drop') {
            dead = true;
            socket.destroy();
            return;
          }
          if (a.status === 200) state.accepted.push(req.body);
          const body = a.status === 200 ? '' : `{"error":"HTTP ${a.status}"}`;
          let head = `HTTP/1.1 ${a.status} ${a.status === 200 ? 'OK' : 'Nope'}\r\ncontent-type: application/json\r\n`;
          if (a.retryAfter !== undefined) head += `retry-after: ${a.retryAfter}\r\n`;
          if (a.close === 'header') head += 'connection: close\r\n';
          if (a.chunked) socket.write(`${head}transfer-encoding: chunked\r\n\r\n` + (body === '' ? '' : `${body.length.toString(16)}\r\n${body}\r\n`) + '0\r\n\r\n');
          else socket.write(`${head}content-length: ${body.length}\r\n\r\n${body}`);
          if (a.close === 'header') {
            dead = true;
            socket.end();
            return;
          }
          next();
        }, answerDelayMs);
      };
      socket.on('data', (chunk: Buffer) => {
        raw.push(chunk);
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) break;
          const head = buf.toString('latin1', 0, end);
          const m = /\r\ncontent-length: (\d+)/i.exec(head);
          const len = m === null ? 0 : Number(m[1]);
          if (buf.length < end + 4 + len) break;
          queue.push({ conn, head, body: buf.toString('utf8', end + 4, end + 4 + len) });
          buf = buf.subarray(end + 4 + len);
        }
        state.maxPending = Math.max(state.maxPending, queue.length);
        next();
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  (state as { port: number }).port = (server.address() as { port: number }).port;
  return state;
}
