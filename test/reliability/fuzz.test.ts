// Seeded fuzzer (issue 12 "fuzzer"): hostile bodies and tags against a real mTLS receiver.
// Every answer is a 2xx or a 4xx (503 only with Retry-After); the process stays up; the seed is
// printed on failure (rerun with FUZZ_SEED=<seed>). Cases: FUZZ_CASES (default 10,000).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { makeCerts } from '../support/certs.ts';
import { cleanup } from '../support/cleanup.ts';
import { mtlsSource, startTestReceiver } from '../support/receiver.ts';
import { MtlsClient } from '../e2e/harness.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function body(r: () => number): string | Buffer {
  const n = Math.floor(r() * 9);
  switch (n) {
    case 0: return Buffer.from(Array.from({ length: Math.floor(r() * 512) }, () => Math.floor(r() * 256)));
    case 1: return '['.repeat(200_000);
    case 2: return '{"a":'.repeat(50_000);
    case 3: return `{"n":${'9'.repeat(100_000)}}`;
    case 4: return Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
    case 5: return '{"a":"\\ud800"}';
    case 6: return '{"a":"\u0000x"}';
    case 7: return `[${Array.from({ length: Math.floor(r() * 5) }, (_, i) => `{"i":${i}}`).join(',')}]`;
    default: return `{"event":"x","v":${Math.floor(r() * 1e6)}}`;
  }
}

function tag(r: () => number): string {
  const n = Math.floor(r() * 6);
  if (n === 0) return '..';
  if (n === 1) return '%2e%2e/%2e%2e/etc';
  if (n === 2) return 'a/b/../c';
  if (n === 3) return 'x'.repeat(5000);
  if (n === 4) return `t${Math.floor(r() * 2000)}`;
  return 'test.log';
}

test('seeded fuzzer: every answer 2xx/4xx, the receiver survives', async (t) => {
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
  const cases = Number(process.env.FUZZ_CASES ?? 10_000);
  const defer = cleanup(t);
  const certs = await makeCerts();
  defer(() => rm(certs.dir, { recursive: true, force: true }));
  const conf = `${mtlsSource(certs)}<match **>\n  @type null\n</match>\n`;
  const r0 = await startTestReceiver(conf);
  defer(() => rm(r0.dir, { recursive: true, force: true }));
  defer(() => r0.receiver.close());
  const client = new MtlsClient(r0.port, certs, 8);
  defer(() => client.close());
  const r = rng(seed);
  let peak = process.memoryUsage().rss;
  const bad: string[] = [];
  for (let i = 0; i < cases; i += 8) {
    await Promise.all(Array.from({ length: 8 }, async () => {
      const b = body(r);
      const tg = tag(r);
      const a = await client.post(tg, typeof b === 'string' ? b : b.toString('latin1'));
      const ok = (a.status >= 200 && a.status < 500) || (a.status === 503 && a.headers['retry-after'] !== undefined);
      if (!ok) bad.push(`${a.status} tag=${tg.slice(0, 40)} body=${String(b).slice(0, 40)}`);
    }));
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  t.diagnostic(`seed ${seed}, ${cases} cases, peak RSS ${Math.round(peak / 2 ** 20)} MB`);
  assert.deepEqual(bad.slice(0, 10), [], `FUZZ_SEED=${seed}`);
});
