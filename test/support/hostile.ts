// Hostile input, shared by the fuzzer (test/reliability/fuzz.test.ts) and the memory run
// (bench/hostile.ts): a seeded generator, the hostile bodies and tags of issue 12, slowloris
// connections over mTLS, and the child's peak RSS read from /proc/<pid>/status (VmHWM).
import { readFile } from 'node:fs/promises';
import type { TLSSocket } from 'node:tls';
import type { CertFiles } from './certs.ts';
import { mtlsConnect } from './receiver.ts';
import { statusKB } from './proc.ts';

/** mulberry32: a small seeded generator, so a failing run can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

export type BodyKind = 'random' | 'deep-array' | 'deep-object' | 'huge-number' | 'bad-utf8' | 'lone-surrogate' | 'nul' | 'array' | 'event';

// Built once: the big ones are 100–250 kB each, and the run sends them thousands of times.
const DEEP_ARRAY = Buffer.from('['.repeat(200_000));
const DEEP_OBJECT = Buffer.from('{"a":'.repeat(50_000));
const HUGE_NUMBER = Buffer.from(`{"n":${'9'.repeat(100_000)}}`);

/** A body of the given kind, and whether the seed's json parser must accept it (2xx) or refuse it (400). */
export function hostileBody(kind: BodyKind, r: () => number): { body: Buffer; valid: boolean | undefined } {
  switch (kind) {
    case 'random': return { body: Buffer.from(Array.from({ length: Math.floor(r() * 512) }, () => Math.floor(r() * 256))), valid: undefined };
    case 'deep-array': return { body: DEEP_ARRAY, valid: false };
    case 'deep-object': return { body: DEEP_OBJECT, valid: false };
    case 'huge-number': return { body: HUGE_NUMBER, valid: undefined };
    case 'bad-utf8': return { body: Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), valid: undefined };
    case 'lone-surrogate': return { body: Buffer.from('{"a":"\\ud800"}'), valid: undefined };
    case 'nul': return { body: Buffer.from('{"a":"\u0000x"}'), valid: undefined };
    case 'array': return { body: Buffer.from(`[${Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => `{"i":${i}}`).join(',')}]`), valid: true };
    case 'event': return { body: Buffer.from(JSON.stringify({ event: 'x', v: Math.floor(r() * 1e6) })), valid: true };
  }
}

export const BODY_KINDS: readonly BodyKind[] = ['random', 'deep-array', 'deep-object', 'huge-number', 'bad-utf8', 'lone-surrogate', 'nul', 'array', 'event'];

/**
 * Path tricks and tag floods. The tag is the URL path with `/` → `.` and no
 * percent-decoding (in_http), so none of these may name a file: `../../x` must
 * stay a tag.
 */
export function hostileTag(r: () => number, distinct: number): string {
  const n = Math.floor(r() * 9);
  if (n === 0) return '..';
  if (n === 1) return '%2e%2e/%2e%2e/etc';
  if (n === 2) return '../../x';
  if (n === 3) return 'a/b/../c';
  if (n === 4) return 'x'.repeat(5000);
  if (n === 5) return `t${Math.floor(r() * distinct)}`;
  if (n === 6) return `session.t${Math.floor(r() * distinct)}`;
  return 'test.log';
}

/** The child's peak resident set (VmHWM) and current one (VmRSS), in MB. */
export async function childMemory(pid: number): Promise<{ hwmMB: number; rssMB: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return { hwmMB: statusKB(status, 'VmHWM') / 1024, rssMB: statusKB(status, 'VmRSS') / 1024 };
}

/** An mTLS socket to the receiver, resolved once the handshake is done. */
export function mtlsSocket(port: number, c: CertFiles): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = mtlsConnect(port, c);
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export interface Slowloris {
  /** Connections the server has closed so far. */
  closed(): number;
  /** Connections opened. */
  readonly opened: number;
  stop(): void;
}

/**
 * `count` mTLS connections that send a request's headers one byte every
 * `byteEveryMs` and never finish them. The receiver must time them out.
 */
export async function slowloris(port: number, c: CertFiles, count: number, byteEveryMs: number): Promise<Slowloris> {
  const head = Buffer.from(`POST /test.log HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Slow: ${'s'.repeat(100_000)}`);
  const sockets = await Promise.all(Array.from({ length: count }, () => mtlsSocket(port, c)));
  let closed = 0;
  const timers: NodeJS.Timeout[] = [];
  for (const s of sockets) {
    let at = 0;
    s.on('error', () => {});
    s.once('close', () => {
      closed += 1;
      clearInterval(timer);
    });
    const timer = setInterval(() => {
      if (!s.destroyed && at < head.length) s.write(head.subarray(at, ++at));
    }, byteEveryMs);
    timers.push(timer);
  }
  return {
    opened: count,
    closed: () => closed,
    stop: () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

export interface HostileCase {
  kind: BodyKind;
  tag: string;
  body: Buffer;
  valid: boolean | undefined;
}

export interface BodyPoster {
  post(tag: string, body: Buffer): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>;
}

/**
 * The hostile body/tag run: first one small event to each of `distinct` tags
 * (unmatched `t<i>` and stdout-matched `session.t<i>`), then `cases` random
 * hostile requests, `concurrency` at a time. `check` sees each answer.
 */
export async function hostileRun(client: BodyPoster, r: () => number, opts: { cases: number; distinct: number; concurrency: number; kinds?: readonly BodyKind[] },
  check: (c: HostileCase, a: { status: number; headers: Record<string, string | string[] | undefined>; body: string }) => void): Promise<number> {
  let done = 0;
  const one = async (c: HostileCase): Promise<void> => {
    check(c, await client.post(c.tag, c.body));
    done += 1;
  };
  const flood: HostileCase[] = [];
  for (let i = 0; i < opts.distinct; i++) {
    const body = Buffer.from(`{"event":"flood","i":${i}}`);
    flood.push({ kind: 'event', tag: i % 2 === 0 ? `t${i}` : `session.t${i}`, body, valid: true });
  }
  for (let i = 0; i < flood.length; i += opts.concurrency) await Promise.all(flood.slice(i, i + opts.concurrency).map(one));
  for (let i = 0; i < opts.cases; i += opts.concurrency) {
    const batch: HostileCase[] = [];
    for (let j = 0; j < opts.concurrency && i + j < opts.cases; j++) {
      const kinds = opts.kinds ?? BODY_KINDS;
      const kind = kinds[Math.floor(r() * kinds.length)];
      batch.push({ kind, tag: hostileTag(r, opts.distinct), ...hostileBody(kind, r) });
    }
    await Promise.all(batch.map(one));
  }
  return done;
}
