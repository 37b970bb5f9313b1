// Fluentd in_http's responses, byte for byte (docs/compatibility.md §1 "Exact responses",
// O2): `HTTP/1.1 <code>`, no Date/Server, headers in Ruby-hash insertion order
// with Content-Length and Content-Type added last when missing. Two layouts:
// send_response (keep-alive decided by the request) and send_response_and_close.

import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export const TEXT_PLAIN: readonly string[] = ['Content-Type', 'text/plain'];
export const NO_HEADERS: readonly string[] = [];

/** 1x1 GIF of respond_with_empty_img (in_http.rb EMPTY_GIF_IMAGE). */
export const EMPTY_GIF = Buffer.from(
  'GIF89a\x01\x00\x01\x00\x80\xFF\x00\xFF\xFF\xFF\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;',
  'latin1',
);

const EMPTY = Buffer.alloc(0);

/** The hot path's answer (200, text/plain, keep-alive, empty body), built once: what the general case below yields for it. */
const OK_TEXT_KEEP_ALIVE: readonly string[] = [...TEXT_PLAIN, 'Connection', 'Keep-Alive', 'Content-Length', '0'];

/**
 * Writes one response. `headers` is a flat [name, value, …] list in Fluentd's
 * order; `keepAlive` appends `Connection: Keep-Alive` (send_response), false
 * closes the socket after writing with no Connection header (…_and_close).
 */
export function sendResponse(
  res: ServerResponse,
  code: number,
  reason: string,
  headers: readonly string[],
  body: Buffer | string,
  keepAlive: boolean,
): void {
  const payload = typeof body === 'string' ? (body.length ? Buffer.from(body) : EMPTY) : body;
  let flat: readonly string[];
  if (headers === TEXT_PLAIN && keepAlive && payload.length === 0) {
    flat = OK_TEXT_KEEP_ALIVE;
  } else {
    const list = headers.slice();
    if (keepAlive) list.push('Connection', 'Keep-Alive');
    if (!hasHeader(list, 'content-length')) list.push('Content-Length', String(payload.length));
    if (!hasHeader(list, 'content-type')) list.push('Content-Type', 'text/plain');
    flat = list;
  }
  res.sendDate = false;
  if (!keepAlive) {
    // Node would add `Connection: close`; Fluentd sends no Connection header
    // and just closes. removeHeader sets Node's "connection removed" flag.
    res.shouldKeepAlive = false;
    res.removeHeader('connection');
  }
  res.writeHead(code, reason, flat as string[]);
  if (payload.length === 0) res.end();
  else res.end(payload);
}

function hasHeader(flat: readonly string[], lowerName: string): boolean {
  // The length test first: most names differ in length, and toLowerCase allocates.
  for (let i = 0; i < flat.length; i += 2) if (flat[i].length === lowerName.length && flat[i].toLowerCase() === lowerName) return true;
  return false;
}

export const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  403: 'Forbidden',
  413: 'Request Entity Too Large',
  417: 'Expectation Failed',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * A request that failed outside in_http's own answers: a client that went away
 * before its body arrived (`aborted`) is debug, as Fluentd logs nothing for it;
 * anything else is an error and a 500.
 */
export function answerFailed(err: unknown, res: ServerResponse, log: Logger): void {
  const code = (err as NodeJS.ErrnoException).code;
  if (res.req.destroyed && (code === 'ECONNRESET' || code === 'ECONNABORTED' || code === 'EPIPE')) {
    log.debug({ error: (err as Error).message, code }, 'client closed the connection before the request was read');
    return;
  }
  log.error({ err }, 'unexpected error while answering a request');
  if (!res.headersSent) sendResponse(res, 500, REASONS[500], TEXT_PLAIN, `500 Internal Server Error\n${(err as Error).message}\n`, false);
}
