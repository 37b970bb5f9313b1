// Issue 5 acceptance: "A 300 MB slice uploads via multipart while RSS stays
// under 200 MB". The S3 server (s3rver) runs in a child process so only the
// plugin's memory is measured here. Prints size, time, throughput and peak
// RSS; exits 1 when the peak is over the limit.
// Run: node_modules/.bin/node bench/s3-multipart.bench.ts [MB=300]

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DiskChunk } from '../test/support/disk-chunk.ts';
import { newS3Output, seedMatch } from '../test/support/s3-plugin.ts';

const MiB = 1024 * 1024;
const sizeMb = Number(process.argv[2] ?? '300');
const LIMIT = 200_000_000; // the issue says 200 MB
const dir = await mkdtemp(join(tmpdir(), 'ar-bench-s3-'));
const bucket = 'bench';

// The child also writes the chunk file, so building it does not inflate this process's RSS.
const embedded = new URL('../src/dev/embedded-s3.ts', import.meta.url).pathname;
const diskChunk = new URL('../test/support/disk-chunk.ts', import.meta.url).pathname;
const child = spawn(process.execPath, ['--input-type=module', '-e', `
  const { startEmbeddedS3 } = await import(${JSON.stringify(embedded)});
  const { DiskChunk } = await import(${JSON.stringify(diskChunk)});
  const { randomBytes } = await import('node:crypto');
  const s3 = await startEmbeddedS3({ dir: ${JSON.stringify(join(dir, 's3'))}, bucket: ${JSON.stringify(bucket)} });
  // Audit-event-like lines with varied content (gzip about 3:1).
  const pad = randomBytes(4096).toString('hex');
  const chunk = await DiskChunk.createLarge(${JSON.stringify(dir)}, { timekey: 1700000000 - 20 }, ${sizeMb * MiB},
    (i) => '{"event":"session.start","uid":"' + i + '","addr":"' + pad.slice(i % 4000, (i % 4000) + 96) + '"}\\n');
  console.log(s3.endpoint + ' ' + chunk.idHex);
`], { stdio: ['ignore', 'pipe', 'inherit'] });
const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
const [endpoint, idHex] = line.split(' ');

try {
  const chunk = await DiskChunk.reopen(dir, idHex);
  const { output } = newS3Output(seedMatch(endpoint, bucket, 's3_object_key_format %{path}/bench_%{index}.%{file_extension}'));
  await output.start();
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
  const start = performance.now();
  await output.write(chunk);
  const ms = performance.now() - start;
  clearInterval(sampler);
  await output.stop();
  const mb = chunk.byteSize / MiB;
  console.log(`chunk ${mb.toFixed(0)} MiB → gzip multipart in ${(ms / 1000).toFixed(1)} s (${(mb / (ms / 1000)).toFixed(1)} MiB/s)`);
  console.log(`rss before ${(before / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB (limit ${(LIMIT / MiB).toFixed(1)} MiB = 200 MB)`);
  if (peak > LIMIT) process.exitCode = 1;
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('./results/s3-multipart.json', import.meta.url), JSON.stringify({
    bench: 's3-multipart', date: new Date().toISOString(), node: process.version,
    chunkMiB: Math.round(mb), seconds: +(ms / 1000).toFixed(2), mibPerSec: +(mb / (ms / 1000)).toFixed(1),
    rssBeforeMiB: Math.round(before / MiB), rssPeakMiB: Math.round(peak / MiB), rssLimitMiB: +(LIMIT / MiB).toFixed(1), withinLimit: peak <= LIMIT,
  }, null, 2) + '\n');
} finally {
  child.kill();
  await rm(dir, { recursive: true, force: true });
}
