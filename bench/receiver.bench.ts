// Receiver throughput: Teleport events POSTed over mTLS keep-alive connections
// (by bench/load-client.ts, a separate process; s3rver runs in a third one) to (a) a bare Node https server that reads the body and answers 200 — the
// ceiling of Node's TLS+HTTP stack on this machine — and (b) auditrelay running
// the seed pipeline (json parse → record_transformer → file buffer → s3 via an
// in-process s3rver), and (c) the same pipeline ending in out_null. Reports events/s, latency and the ratio b/a from ONE run,
// since machines are noisy; writes bench/results/receiver.json.

import { createServer } from 'node:https';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { makeCerts, type CertFiles } from '../test/support/certs.ts';
import { startReceiver } from '../src/receiver.ts';
import { seedConf, BUCKET } from '../test/e2e/harness.ts';

const TOTAL = Number(process.env.BENCH_EVENTS ?? 20000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);

interface Result { events: number; seconds: number; eventsPerSec: number; p50ms: number; p99ms: number; errors: number }

/** Runs bench/load-client.ts in its own process against `port` (warm-up included). */
async function load(port: number, c: CertFiles): Promise<Result> {
  const client = spawn(process.execPath, [new URL('./load-client.ts', import.meta.url).pathname, String(port), c.ca, c.clientCert, c.clientKey, String(TOTAL), String(CONCURRENCY)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: client.stdout! }), 'line')) as [string];
  return JSON.parse(line) as Result;
}

/** s3rver in its own process too: in production S3 is another machine, not our CPU. */
async function startS3Child(dir: string): Promise<{ endpoint: string; close(): void }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { startEmbeddedS3 } from ${JSON.stringify(new URL('../src/dev/embedded-s3.ts', import.meta.url).pathname)};
    const s3 = await startEmbeddedS3({ dir: ${JSON.stringify(dir)}, bucket: ${JSON.stringify(BUCKET)} });
    console.log(s3.endpoint);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [endpoint] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { endpoint, close: () => child.kill() };
}

const certs = await makeCerts();
const key = (await import('node:crypto')).createPrivateKey({ key: readFileSync(certs.serverKey), passphrase: certs.passphrase }).export({ type: 'pkcs8', format: 'pem' });
const bare = createServer({ key, cert: readFileSync(certs.serverCert), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true }, (req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 }).end());
});
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
const barePort = (bare.address() as { port: number }).port;
const bareResult = await load(barePort, certs);
bare.close();

const dir = mkdtempSync(join(tmpdir(), 'ar-bench-'));
const s3 = await startS3Child(join(dir, 's3'));
// The guide's config, changed only in certs, endpoint and buffer path (the e2e tests' builder).
const seed = seedConf({ certs, endpoint: s3.endpoint, bufferPath: join(dir, 'buffer'), timekey: 60 });
const silent = pino({ level: 'error' });
/** Runs one config through the real receiver: warm-up, then the measured load. */
async function measure(name: string, conf: string): Promise<Result> {
  writeFileSync(join(dir, name), conf);
  const receiver = await startReceiver({ configPath: join(dir, name), processLog: { log: silent, writeLine: () => {}, flush: () => {} } });
  const result = await load(receiver.port, certs);
  await receiver.close();
  return result;
}
// Same pipeline with the S3 match swapped for out_null: isolates the buffer's share.
const nullResult = await measure('null.conf', seed.replace(/<match test\.log>[\s\S]*?<\/match>/, '<match test.log>\n  @type null\n</match>'));
const arResult = await measure('fluent.conf', seed);
s3.close();

const out = {
  bench: 'receiver', date: new Date().toISOString(), node: process.version, concurrency: CONCURRENCY,
  bareNodeHttps: bareResult, auditrelayNullOutput: nullResult, auditrelaySeedPipeline: arResult,
  ratioNullOutputToBare: +(nullResult.eventsPerSec / bareResult.eventsPerSec).toFixed(3),
  ratio: +(arResult.eventsPerSec / bareResult.eventsPerSec).toFixed(3),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/receiver.json', import.meta.url), JSON.stringify(out, null, 2) + '\n');
console.log(JSON.stringify(out, null, 2));
