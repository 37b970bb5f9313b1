// Issue 16: "RSS ... flat (± 20 MB) while a 256 MB chunk uploads". One 256 MiB
// chunk goes through out_s3 (gzip → multipart) to s3rver, which runs in a child
// process so only the plugin's memory is measured here. This process runs with
// bin/auditrelay's node flags (it re-executes itself with them): the young
// generation size decides how soon dead buffers are collected. Samples
// rss/heapUsed/external/arrayBuffers every 10 ms during the upload; prints and
// records before/peak/delta, time, MiB/s and CPU; exits 1 when the RSS delta is over 20 MiB.
// Before issue 16 (lib-storage, a fresh buffer per read and per part) the delta
// was 39–42 MiB here, 67 MiB with V8's default young generation.
// Run: node_modules/.bin/node bench/s3-multipart.bench.ts [MiB=256]

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DiskChunk } from '../test/support/disk-chunk.ts';
import { newS3Output, seedMatch } from '../test/support/s3-plugin.ts';
import { receiverNodeEnv, receiverNodeFlags } from '../test/support/node-flags.ts';

const MiB = 1024 * 1024;
const FLAT_MIB = 20; // the issue's ± 20 MB

// bin/auditrelay's flags and environment (bin/node-flags, bin/node-env), so the two cannot drift apart.
const nodeFlags = receiverNodeFlags();
if (!nodeFlags.every((f) => process.execArgv.includes(f))) {
  const r = spawnSync(process.execPath, [...nodeFlags, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...receiverNodeEnv() } });
  process.exit(r.status ?? 1);
}

const sizeMb = Number(process.argv[2] ?? '256');
const dir = await mkdtemp(join(tmpdir(), 'ar-bench-s3-'));
const bucket = 'bench';

// The child also writes the chunk file, so building it does not inflate this process's RSS.
const embedded = new URL('../src/dev/embedded-s3.ts', import.meta.url).pathname;
const diskChunk = new URL('../test/support/disk-chunk.ts', import.meta.url).pathname;
const child = spawn(process.execPath, ['--input-type=module', '-e', `
  const { startEmbeddedS3 } = await import(${JSON.stringify(embedded)});
  const { DiskChunk } = await import(${JSON.stringify(diskChunk)});
  const { randomUUID } = await import('node:crypto');
  const s3 = await startEmbeddedS3({ dir: ${JSON.stringify(join(dir, 's3'))}, bucket: ${JSON.stringify(bucket)} });
  // Audit-event-like lines: a random uid per event, the rest from small sets (gzip about 6:1).
  const chunk = await DiskChunk.createLarge(${JSON.stringify(dir)}, { timekey: 1700000000 - 20 }, ${sizeMb * MiB},
    (i) => '{"ei":' + i + ',"event":"session.start","uid":"' + randomUUID() + '","time":"2026-12-04T18:' + String(i % 60).padStart(2, '0')
      + ':00.' + (i % 1000) + 'Z","user":"user' + (i % 97) + '","addr.remote":"10.1.' + (i % 251) + '.' + (i % 13) + ':' + (40000 + (i % 9973))
      + '","server_id":"node-' + (i % 31) + '","cluster_name":"prod"}\\n');
  console.log(s3.endpoint + ' ' + chunk.idHex);
`], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
const [endpoint, idHex] = line.split(' ');

type Sample = ReturnType<typeof process.memoryUsage>;
const fields = ['rss', 'heapUsed', 'external', 'arrayBuffers'] as const;
const mib = (n: number): number => Math.round(n / MiB);

try {
  const chunk = await DiskChunk.reopen(dir, idHex);
  const { output, logs } = newS3Output(seedMatch(endpoint, bucket, 's3_object_key_format %{path}/bench_%{index}.%{file_extension}'));
  await output.start();
  // A warm-up object: the SDK's lazy modules and the connection pool are loaded before "before".
  const warm = await DiskChunk.create(dir, { timekey: 1700000000 - 80 }, ['{"warm":1}\n']);
  await output.write(warm);
  global.gc?.();
  const before: Sample = process.memoryUsage();
  const peak = { ...before };
  const sample = (): void => {
    const now = process.memoryUsage();
    for (const f of fields) peak[f] = Math.max(peak[f], now[f]);
  };
  const sampler = setInterval(sample, 10);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  await output.write(chunk);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const uploaded = logs.findLast((l) => l.msg.startsWith('out_s3: uploaded')) as unknown as { bytes: number };
  const objectMiB = uploaded.bytes / MiB;
  sample();
  clearInterval(sampler);
  await output.stop();

  const size = chunk.byteSize / MiB;
  const delta = mib(peak.rss - before.rss);
  const flat = delta <= FLAT_MIB;
  console.log(`node ${process.version} ${process.execArgv.join(' ')}`);
  console.log(`chunk ${size.toFixed(0)} MiB → ${objectMiB.toFixed(1)} MiB gzip multipart in ${(ms / 1000).toFixed(1)} s (${(size / (ms / 1000)).toFixed(1)} MiB/s), ${cpuSeconds.toFixed(1)} s CPU`);
  for (const f of fields) {
    console.log(`${f.padEnd(12)} before ${String(mib(before[f])).padStart(4)} MiB, peak ${String(mib(peak[f])).padStart(4)} MiB (+${mib(peak[f] - before[f])})`);
  }
  console.log(`rss delta ${delta} MiB: ${flat ? 'flat' : 'NOT flat'} (limit ${FLAT_MIB} MiB)`);
  if (!flat) process.exitCode = 1;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/s3-multipart.json', import.meta.url), JSON.stringify({
    bench: 's3-multipart', date: new Date().toISOString(), node: process.version, nodeFlags,
    chunkMiB: Math.round(size), objectMiB: +objectMiB.toFixed(1), seconds: +(ms / 1000).toFixed(2), mibPerSec: +(size / (ms / 1000)).toFixed(1), cpuSeconds: +cpuSeconds.toFixed(2),
    rssBeforeMiB: mib(before.rss), rssPeakMiB: mib(peak.rss), rssDeltaMiB: delta,
    heapUsedPeakDeltaMiB: mib(peak.heapUsed - before.heapUsed),
    externalPeakDeltaMiB: mib(peak.external - before.external),
    arrayBuffersPeakDeltaMiB: mib(peak.arrayBuffers - before.arrayBuffers),
    flatLimitMiB: FLAT_MIB, flat,
  }, null, 2) + '\n');
} finally {
  child.kill();
  await rm(dir, { recursive: true, force: true });
}
