// Issue 15 §6: log lines an operator can act on, read from a real bin/auditrelay child
// (seed fluent.conf over mTLS, real s3rver, plus an out_file match and a prometheus source):
// one info line per upload (key, events, bytes, ms), a periodic summary of events no
// <match> took (with the sampled Fluentd warn kept, and a /metrics counter), retry warnings
// with retry_times / next_retry_time, and nothing at warn for a client that just disconnects.

import { RUBY_TIME_TO_S, rubyTimeMs } from '../support/ruby-time.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { e2eWorld } from '../support/world.ts';
import { killChild, startChild, type Child } from '../support/child.ts';
import type { CertFiles } from '../support/certs.ts';
import { parsePrometheus } from '../support/prometheus-text.ts';
import { isoAt, MtlsClient, seedConf, waitFor } from './harness.ts';

type Line = Record<string, unknown> & { level: number; msg: string };

function entries(c: Child): Line[] {
  const out: Line[] = [];
  for (const l of c.lines) if (l.startsWith('{')) out.push(JSON.parse(l) as Line);
  return out;
}

function waitLine(c: Child, what: string, pred: (e: Line) => boolean): Promise<Line> {
  return waitFor(what, () => entries(c).find(pred), 60_000, 50);
}

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

/** Connects with the client certificate, sends part of a request, and goes away. */
function halfRequestThenLeave(port: number, certs: CertFiles): Promise<void> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey), servername: 'localhost' });
    s.on('secureConnect', () => {
      s.write('POST /test.log HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
      setTimeout(() => s.destroy(), 100);
    });
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
}

/** A TCP connection that sends one TLS record byte and closes (a port scanner, a load balancer probe). */
function probeAndLeave(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => {
      s.write(Buffer.from([0x16, 0x03, 0x01]));
      setTimeout(() => s.resetAndDestroy(), 100);
    });
    s.on('error', () => {});
    s.on('close', () => resolve());
  });
}

test('upload info lines, unmatched summary + counter, retry warnings, quiet disconnects (child receiver)', async (t) => {
  const w = await e2eWorld(t, 'ar-logs-');
  const fileDir = join(w.dir, 'files');
  const conf = seedConf({
    certs: w.certs, endpoint: w.s3.endpoint, bufferPath: join(w.dir, 'buffer'), timekey: 1,
    bufferExtra: 'flush_thread_interval 0.1\nflush_thread_burst_interval 0.05\nretry_wait 0.3\nretry_max_interval 0.5',
  }) + `<match file.log>
  @type file
  path ${fileDir}/out
  <buffer>
    @type memory
    flush_mode immediate
  </buffer>
</match>
<source>
  @type prometheus
  port 0
</source>
`;
  const confPath = join(w.dir, 'fluent.conf');
  await writeFile(confPath, conf);
  const child = await startChild(confPath, ['-v'], { AUDITRELAY_UNMATCHED_SUMMARY_INTERVAL: '0.5' });
  w.defer(() => killChild(child));
  const client = new MtlsClient(child.port, w.certs, 1);
  w.defer(() => client.close());
  const metricsPort = (await waitLine(child, 'the prometheus port', (e) => e.msg === 'listening prometheus http server')).port as number;

  // Clients that go away mid-request or mid-handshake: debug at most, never warn.
  await halfRequestThenLeave(child.port, w.certs);
  await probeAndLeave(child.port);

  // Upload: one info line with key, events, bytes and ms.
  const now = Math.floor(Date.now() / 1000);
  // One request holding three records: one emit, one chunk (three posts could straddle a flush of a closed timekey).
  const three = [0, 1, 2].map((n) => ({ event: 'e', time: isoAt(now - 2), n }));
  assert.equal((await client.post('test.log', JSON.stringify(three))).status, 200);
  const up = await waitLine(child, 'the upload line', (e) => e.msg.startsWith('out_s3: uploaded '));
  assert.equal(up.level, 30);
  assert.equal(up.events, 3);
  assert.equal(up.bucket, 'teleport-audit');
  assert.match(String(up.key), /^teleport\/logs\d{14}_0\.gz$/);
  assert.equal(typeof up.ms, 'number');
  const objects = await w.s3.objects();
  assert.deepEqual([...objects.keys()], [up.key]);
  assert.equal(objects.get(String(up.key))!.split('\n').filter(Boolean).length, 3);
  assert.equal(up.bytes, await storedSize(join(w.s3.dir, 'teleport-audit'), String(up.key)), 'bytes = the object size');
  assert.equal(up.msg, `out_s3: uploaded s3://teleport-audit/${String(up.key)}: 3 events, ${String(up.bytes)} bytes in ${String(up.ms)} ms`);

  // out_file: the same line for a written file.
  assert.equal((await client.post('file.log', JSON.stringify([{ a: 1 }, { a: 2 }]))).status, 200);
  const wrote = await waitLine(child, 'the out_file line', (e) => e.msg.startsWith('out_file: wrote '));
  assert.equal(wrote.level, 30);
  assert.equal(wrote.events, 2);
  assert.equal(wrote.bytes, (await stat(String(wrote.path))).size);
  assert.ok(String(wrote.path).startsWith(fileDir));

  // Unmatched: Fluentd's sampled warn on the 1st emit, then one summary per interval with tags and counts.
  assert.equal((await client.post('no.match', JSON.stringify([{ a: 1 }, { a: 2 }]))).status, 200);
  assert.equal((await client.post('no.match', JSON.stringify({ a: 3 }))).status, 200);
  assert.equal((await client.post('other.tag', JSON.stringify({ a: 4 }))).status, 200);
  const summary = await waitLine(child, 'the unmatched summary', (e) => e.msg.includes('because no <match> takes their tag'));
  assert.equal(summary.level, 40);
  assert.equal(summary.events, 4);
  assert.deepEqual(summary.tags, { 'no.match': 3, 'other.tag': 1 });
  assert.match(summary.msg, /^4 events dropped in the last 0\.5s because no <match> takes their tag: no\.match \(3\), other\.tag \(1\); /);
  const sampled = entries(child).filter((e) => e.msg === 'no patterns matched' && e.level === 40);
  assert.deepEqual(sampled.map((e) => e.tag), ['no.match', 'no.match'], 'the 1st and 2nd unmatched emits');
  const scrape = parsePrometheus(await get(metricsPort, '/metrics'));
  assert.equal(scrape.one('auditrelay_unmatched_events_total', { tag: 'no.match' }), 3);
  assert.equal(scrape.one('auditrelay_unmatched_events_total', { tag: 'other.tag' }), 1);

  // Retry: the warn names retry_times and next_retry_time.
  await w.s3.stop();
  assert.equal((await client.post('test.log', JSON.stringify({ event: 'e', time: isoAt(Math.floor(Date.now() / 1000) - 2) }))).status, 200);
  const failed = await waitLine(child, 'the retry warning', (e) => e.msg === 'failed to flush the buffer.');
  assert.equal(failed.level, 40);
  assert.equal(failed.retry_times, 0);
  assert.match(String(failed.next_retry_time), RUBY_TIME_TO_S, 'printed as Ruby Time#to_s, as Fluentd logs it');
  assert.ok(rubyTimeMs(String(failed.next_retry_time)) >= (failed.time as number) - 1000, 'next retry is not in the past');
  assert.match(String(failed.chunk), /^[0-9a-f]{32}$/);
  assert.equal(typeof failed.error_class, 'string');
  await w.s3.start();
  await waitLine(child, 'retry succeeded', (e) => e.msg === 'retry succeeded.');

  // Nothing else at warn or above once running (the seed config's own start-up warnings come before):
  // the disconnects above left at most debug lines.
  const all = entries(child);
  const running = all.findIndex((e) => e.msg === 'fluentd worker is now running worker=0');
  assert.ok(running >= 0);
  const allowed = new Set(['failed to flush the buffer.', 'retry succeeded.', 'no patterns matched']);
  const loud = all.slice(running).filter((e) => e.level >= 40 && !allowed.has(e.msg) && !e.msg.includes('because no <match> takes their tag'));
  assert.deepEqual(loud.map((e) => e.msg), []);
  assert.ok(entries(child).some((e) => e.level === 20 && /client closed the connection|refused|aborted/.test(e.msg)),
    `the disconnect left no debug line:\n${child.lines.filter((l) => l.includes('"level":20')).join('\n')}`);
});

/** Size of the object s3rver stored for `key` (its `.../key/object` file, or the file named after the key). */
async function storedSize(bucketDir: string, key: string): Promise<number> {
  for (const candidate of [join(bucketDir, key, 'object'), join(bucketDir, `${key}._S3rver_object`), join(bucketDir, key)]) {
    try {
      const s = await stat(candidate);
      if (s.isFile()) return s.size;
    } catch {
      // try the next layout
    }
  }
  throw new Error(`no stored object for ${key} under ${bucketDir}: ${(await readdir(bucketDir, { recursive: true })).join(', ')}`);
}
