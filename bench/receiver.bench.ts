// Receiver throughput, in ONE run (machines are noisy, only ratios from the same
// run mean anything). Three servers, each alone in its process
// (bench/server-child.ts): (a) a bare Node https server with mTLS that answers
// 200 and does no work — the ceiling of Node's TLS+HTTP stack here; (b)
// auditrelay with the seed config's S3 match swapped for out_null; (c) auditrelay
// with the seed pipeline (json parse → record_transformer → file buffer → S3 on
// a local s3rver, itself in a third process: in production S3 is another
// machine). Load comes from autocannon in a separate process
// (bench/load-client.ts), keep-alive mTLS, at 1, 16 and 64 connections, each
// point after a warm-up. Records events/s, p50/p99, the server's peak RSS and
// CPU seconds, the ratio to bare; writes bench/results/receiver.json.
// Env: BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_CONNECTIONS ("1,16,64"),
// BENCH_TARGETS ("bare,null,seed,workers2"; workers2 = the seed pipeline under
// `<system> workers 2`, bench/cluster-child.ts, at 16 connections only), BENCH_PROF=<dir> (--cpu-prof on the seed
// receiver, written there when it stops), BENCH_OUT (the JSON's path).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts, type CertFiles } from '../test/support/certs.ts';
import { seedConf, BUCKET } from '../test/e2e/harness.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number);
const TARGETS = (process.env.BENCH_TARGETS ?? 'bare,null,seed,workers2').split(',');
const PROF = process.env.BENCH_PROF;

interface LoadResult {
  connections: number; requests: number; seconds: number; eventsPerSec: number;
  p50ms: number; p99ms: number; errors: number; generatorCpuSeconds: number;
}
interface ServerStats { peakRssMB: number; cpuSeconds: number }
type Point = LoadResult & ServerStats & { cpuSecondsPerSecond: number; cpuMicrosPerEvent: number; ratioToBare?: number; cpuRatioToBare?: number };

const here = (file: string): string => new URL(`./${file}`, import.meta.url).pathname;
const message = <T>(child: ChildProcess): Promise<T> => once(child, 'message').then(([m]) => m as T);

/** One measured point: autocannon warms up, the server's counters reset, then the measured run. */
async function point(server: ChildProcess, port: number, c: CertFiles, connections: number): Promise<Point> {
  const client = fork(here('load-client.ts'), [String(port), c.ca, c.clientCert, c.clientKey, String(connections), String(SECONDS), String(WARMUP)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await message(client); // warm
  server.send('reset');
  client.send('go');
  const load = await message<LoadResult>(client);
  server.send('stats');
  const stats = await message<ServerStats>(server);
  // CPU per event is the figure least coloured by other load on a shared machine.
  const cpuMicrosPerEvent = Math.round((stats.cpuSeconds * 1e6) / Math.max(1, load.eventsPerSec * load.seconds));
  return { ...load, ...stats, cpuSecondsPerSecond: +(stats.cpuSeconds / load.seconds).toFixed(2), cpuMicrosPerEvent };
}

/** Starts one server child, runs every connection count against it, stops it. */
async function target(args: string[], c: CertFiles, execArgv: string[] = [], child = 'server-child.ts', connections = CONNECTIONS): Promise<Point[]> {
  const server = fork(here(child), args, { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await message<{ port: number }>(server);
  const points: Point[] = [];
  for (const n of connections) points.push(await point(server, port, c, n));
  server.send('stop');
  await once(server, 'exit');
  return points;
}

/** s3rver in its own process: in production S3 is another machine, not our CPU. */
async function startS3Child(dir: string): Promise<{ endpoint: string; close(): void }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `
    import { startEmbeddedS3 } from ${JSON.stringify(here('../src/dev/embedded-s3.ts'))};
    const s3 = await startEmbeddedS3({ dir: ${JSON.stringify(dir)}, bucket: ${JSON.stringify(BUCKET)} });
    console.log(s3.endpoint);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [endpoint] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { endpoint, close: () => child.kill() };
}

const loadBefore = loadavg().map((l) => +l.toFixed(2));
const dir = mkdtempSync(join(tmpdir(), 'ar-bench-'));
mkdirSync(join(dir, 'certs'));
const certs = await makeCerts(join(dir, 'certs'));
const results: Record<string, Point[]> = {};
const s3 = await startS3Child(join(dir, 's3'));
try {
  writeFileSync(join(dir, 'certs.json'), JSON.stringify(certs));
  // The guide's config, changed only in certs, endpoint and buffer path (the e2e tests' builder).
  const seed = seedConf({ certs, endpoint: s3.endpoint, bufferPath: join(dir, 'buffer'), timekey: 60 });
  writeFileSync(join(dir, 'seed.conf'), seed);
  // Same pipeline with the S3 match swapped for out_null: isolates the buffer's and S3's share.
  writeFileSync(join(dir, 'null.conf'), seed.replace(/<match test\.log>[\s\S]*?<\/match>/, '<match test.log>\n  @type null\n</match>'));
  const prof = PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROF}`] : [];
  if (TARGETS.includes('bare')) results.bareNodeHttps = await target(['bare', join(dir, 'certs.json')], certs);
  if (TARGETS.includes('null')) results.auditrelayNullOutput = await target(['receiver', join(dir, 'null.conf')], certs);
  if (TARGETS.includes('seed')) results.auditrelaySeedPipeline = await target(['receiver', join(dir, 'seed.conf')], certs, prof);
  if (TARGETS.includes('workers2')) {
    // Its own buffer path: the seed run's chunks stay out of it.
    writeFileSync(join(dir, 'workers2.conf'), '<system>\n  workers 2\n</system>\n' + seed.replace(join(dir, 'buffer'), join(dir, 'buffer-w2')));
    results.auditrelaySeedWorkers2 = await target([join(dir, 'workers2.conf')], certs, [], 'cluster-child.ts', CONNECTIONS.includes(16) ? [16] : CONNECTIONS.slice(0, 1));
  }
} finally {
  s3.close();
  rmSync(dir, { recursive: true, force: true });
}

const bare = results.bareNodeHttps;
for (const points of Object.values(results)) {
  for (const p of points) {
    const b = bare?.find((x) => x.connections === p.connections);
    if (!b) continue;
    p.ratioToBare = +(p.eventsPerSec / b.eventsPerSec).toFixed(3);
    // Bare's CPU per event over ours: the ratio one core would reach if both
    // had it to themselves (throughput ratios suffer when others share the cores).
    p.cpuRatioToBare = +(b.cpuMicrosPerEvent / p.cpuMicrosPerEvent).toFixed(3);
  }
}
const seedPoints = results.auditrelaySeedPipeline;
const generator = bare && seedPoints ? CONNECTIONS.map((n, i) => {
  const bareOverOurs = +(bare[i].eventsPerSec / seedPoints[i].eventsPerSec).toFixed(2);
  return { connections: n, bareOverOurs, generatorDroveBareWellAbove: bareOverOurs >= 1.2 };
}) : [];
const out = {
  bench: 'receiver', date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform, loadavgBefore: loadBefore, loadavgAfter: loadavg().map((l) => +l.toFixed(2)) },
  generator: 'autocannon 8 (separate process, keep-alive mTLS, pipelining 1), 691-byte session.start body',
  secondsPerPoint: SECONDS, warmupSecondsPerPoint: WARMUP,
  ...results,
  generatorCheck: generator,
};
const outFile = process.env.BENCH_OUT ?? here('results/receiver.json');
mkdirSync(here('results/'), { recursive: true });
writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');

const row = (name: string, p: Point): string =>
  `${name.padEnd(24)} c=${String(p.connections).padEnd(3)} ${String(p.eventsPerSec).padStart(6)} ev/s  p50 ${p.p50ms} ms  p99 ${p.p99ms} ms  rss ${p.peakRssMB} MB  cpu ${p.cpuSeconds} s (${p.cpuSecondsPerSecond}/s, ${p.cpuMicrosPerEvent} µs/event)  gen cpu ${p.generatorCpuSeconds} s  ratio ${p.ratioToBare ?? '-'} (cpu ${p.cpuRatioToBare ?? '-'})  errors ${p.errors}`;
for (const [name, points] of Object.entries(results)) for (const p of points) console.log(row(name, p));
for (const g of generator) {
  console.log(`c=${g.connections}: bare/ours = ${g.bareOverOurs} — ${g.generatorDroveBareWellAbove ? 'the generator drove bare well above ours: it is not what limits auditrelay' : 'bare is NOT well above ours: the generator may be the limit, the ratio is not trustworthy'}`);
}
console.log(`load average before ${loadBefore.join(' ')}, after ${out.machine.loadavgAfter.join(' ')}; wrote ${outFile}`);
