// Request-line, query and record helpers as Fluentd's in_http does it (docs/compatibility.md §1
// "Tag from URL", O3): Ruby's URI.parse on the raw target, then
// `path[1..-1].split('/').join('.')` — no percent-decoding, no normalising.

import type { IncomingMessage } from 'node:http';
import { EventTime } from '../time/event-time.ts';
import { OrderedObject, type JsonRecord } from '../value/json-value.ts';
import { InputError } from './errors.ts';

export interface RequestTarget {
  /** URI path, or undefined when the target has none (e.g. `//host`). */
  readonly path: string | undefined;
  readonly query: string | undefined;
}

const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:/;

export function splitTarget(url: string): RequestTarget {
  let rest = url;
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  const query = q >= 0 ? rest.slice(q + 1) : undefined;
  if (q >= 0) rest = rest.slice(0, q);
  if (SCHEME.test(rest)) rest = rest.slice(rest.indexOf(':') + 1);
  if (rest.startsWith('//')) {
    // Network-path reference: the authority runs to the next '/'.
    const slash = rest.indexOf('/', 2);
    return { path: slash >= 0 ? rest.slice(slash) : undefined, query };
  }
  return { path: rest, query };
}

export function tagFromPath(path: string | undefined, prefix: string | undefined): string {
  // Ruby: ""[1..-1] is nil, and nil.split raises NoMethodError → 400.
  if (path === undefined || path.length === 0) {
    throw new InputError('AR_HTTP_NO_PATH', 'the request target has no path to derive a tag from; POST to /<tag>, e.g. /test.log');
  }
  const parts = path.slice(1).split('/');
  // Ruby's String#split drops trailing empty fields (`/a/b/` → a.b).
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  let tag = end === parts.length ? parts.join('.') : parts.slice(0, end).join('.');
  if (prefix !== undefined) tag = `${prefix}.${tag}`;
  return tag;
}

/** URI.decode_www_form: `+` is a space, %XX decoded; later keys win (Hash[]). */
export function parseQuery(query: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!query) return out;
  for (const [k, v] of new URLSearchParams(query)) out.set(k, v);
  return out;
}

/**
 * Ruby String#to_f: leading number, else 0.0 (`"abc".to_f == 0`). Underscores
 * between digits are allowed; "Infinity" is not a number to Ruby.
 */
export function rubyToF(text: string): number {
  const m = /^\s*[+-]?(?:\d(?:_?\d)*)?(?:\.\d(?:_?\d)*)?(?:[eE][+-]?\d+)?/.exec(text);
  if (!m || !/\d/.test(m[0])) return 0;
  const v = Number(m[0].replaceAll('_', '').trim());
  return Number.isFinite(v) ? v : 0;
}

export function addFields(record: JsonRecord, fields: [string, string][]): void {
  if (record instanceof OrderedObject) for (const [k, v] of fields) record.set(k, v);
  else for (const [k, v] of fields) Object.defineProperty(record, k, { value: v, writable: true, enumerable: true, configurable: true });
}

export function remoteAddr(req: IncomingMessage): string {
  const xff = req.headers['x-forwarded-for'];
  if (xff !== undefined) return (Array.isArray(xff) ? xff[0] : xff).split(',')[0];
  const addr = req.socket.remoteAddress ?? '';
  return addr.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** Fluentd keeps HTTP/1.1 alive unless `Connection: close`; 1.0 only with keep-alive. */
export function wantsKeepAlive(req: IncomingMessage): boolean {
  const conn = req.headers.connection;
  if (conn !== undefined) {
    if (/close/i.test(conn)) return false;
    if (/keep-alive/i.test(conn)) return true;
  }
  return req.httpVersionMajor === 1 && req.httpVersionMinor === 1;
}

/** `?time=` is Float: Fluentd's float time parser splits its text on '.' (9 digits of nsec). */
export function floatTime(f: number): EventTime {
  const text = String(f);
  const dot = text.indexOf('.');
  if (dot < 0 || text.includes('e')) {
    const sec = Math.floor(f);
    return new EventTime(sec, Math.round((f - sec) * 1e9));
  }
  return new EventTime(Number(text.slice(0, dot)), Number(text.slice(dot + 1, dot + 10).padEnd(9, '0')));
}

