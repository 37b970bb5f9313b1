// A plain-HTTP GET on loopback (the prometheus source's port): status, headers and body.
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';

export interface PlainAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function httpGet(port: number, path: string): Promise<PlainAnswer> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString('utf8') }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}
