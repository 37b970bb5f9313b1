// Receiver throughput, in ONE run (machines are noisy, only ratios from the same
// run mean anything). Each server alone in its process (bench/server-child.ts):
// (a) a bare Node https server with mTLS that answers 200 and does no work — the
// ceiling of Node's TLS+HTTP stack here, V8's default flags; (b) auditrelay with the
// seed config's S3 match swapped for out_null; (c) auditrelay with the seed pipeline
// (json parse → record_transformer → file buffer → S3 on a local s3rver, itself in
// another process: in production S3 is another machine). auditrelay runs with the
// Node flags users get (bin/node-flags, read by bin/auditrelay too). Load comes from
// autocannon in a separate process (bench/load-client.ts), keep-alive mTLS, at 1, 16
// and 64 connections, each point after a warm-up; then each gets one more point at 16
// connections held at half the rate it reached there (issue 16: p99 < 5 ms at half the
// maximum; bare's says what tail the machine itself adds). Last, three servers are measured in turn at 16 connections,
// BENCH_ROUNDS times over, so a busy spell of the machine falls on each alike: the
// seed pipeline as one process, the same with V8's default young generation (what
// --max-semi-space-size=1 costs), and under `<system> workers 2` (bench/cluster-child.ts:
// what a second worker gains), plus a half-rate point for workers 2. Records events/s,
// p50/p99, the server's peak RSS, CPU seconds, preemptions and event-loop wakeups,
// the ratio to bare; writes bench/results/receiver.json and prints one verdict per
// issue-16 target (bench/receiver-verdicts.ts).
// Env: BENCH_SECONDS (5), BENCH_WARMUP (1), BENCH_CONNECTIONS ("1,16,64"),
// BENCH_TARGETS ("bare,null,seed,seedDefaultYoung,workers2"), BENCH_ROUNDS (2),
// BENCH_PROF=<dir> (--cpu-prof on the seed receiver and the workers 2 processes,
// written there when they stop), BENCH_OUT (the JSON's path).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts, type CertFiles } from '../test/support/certs.ts';
import { seedConf, BUCKET } from '../test/e2e/harness.ts';
import { receiverNodeEnv, receiverNodeFlags } from '../test/support/node-flags.ts';
import { BARE_WELL_ABOVE, verdicts, type Point } from './receiver-verdicts.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number);
const TARGETS = (process.env.BENCH_TARGETS ?? 'bare,null,seed,seedDefaultYoung,workers2').split(',');
/** Rounds of the compared servers (one process, default young generation, workers 2). */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** The connection count the half-rate points and the compared servers use. */
const MAIN = CONNECTIONS.includes(16) ? 16 : CONNECTIONS[0]!;
const PROF = process.env.BENCH_PROF;

type ServerStats = Pick<Point, 'peakRssMB' | 'peakPssMB' | 'peakHeapMB' | 'peakExternalMB' | 'cpuSeconds' | 'preempted' | 'wakeups' | 'processes'>;
type LoadResult = Omit<Point, keyof ServerStats | 'cpuSecondsPerSecond' | 'cpuMicrosPerEvent' | 's3Uploads'>;

const here = (file: string): string => new URL(`./${file}`, import.meta.url).pathname;
const message = <T>(child: ChildProcess): Promise<T> => once(child, 'message').then(([m]) => m as T);

/** One measured point: autocannon warms up, the server's counters reset, then the measured run (at `rate` req/s, 0 = unbounded). */
async function point(server: ChildProcess, port: number, c: CertFiles, connections: number, rate = 0): Promise<Point> {
  const client = fork(here('load-client.ts'), [String(port), c.ca, c.clientCert, c.clientKey, String(connections), String(SECONDS), String(WARMUP), String(rate)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await message(client); // warm
  server.send('reset');
  const objects0 = s3Objects();
  client.send('go');
  const load = await message<LoadResult>(client);
  server.send('stats');
  const stats = await message<ServerStats>(server);
  // CPU per event is the figure least coloured by other load on a shared machine.
  const cpuMicrosPerEvent = Math.round((stats.cpuSeconds * 1e6) / Math.max(1, load.eventsPerSec * load.seconds));
  return { ...load, ...stats, cpuSecondsPerSecond: +(stats.cpuSeconds / load.seconds).toFixed(2), cpuMicrosPerEvent, s3Uploads: s3Objects() - objects0 };
}

interface TargetOptions {
  execArgv?: string[];
  child?: string;
  connections?: number[];
  /** Then one point at MAIN connections held at half the events/s reached there. */
  halfRate?: boolean;
  env?: NodeJS.ProcessEnv;
}

interface Server { child: ChildProcess; port: number }

async function start(args: string[], o: TargetOptions): Promise<Server> {
  // auditrelay runs with bin/auditrelay's environment too (bin/node-env: malloc, compile cache); bare Node with none of it.
  const env = o.env ?? (args[0] === 'bare' ? process.env : { ...process.env, ...receiverNodeEnv() });
  const child = fork(here(o.child ?? 'server-child.ts'), args, { execArgv: o.execArgv ?? [], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port } = await message<{ port: number }>(child);
  return { child, port };
}

async function stop(server: Server): Promise<void> {
  server.child.send('stop');
  await once(server.child, 'exit');
}

/** One more point at MAIN connections held at half the events/s `max` reached. */
const halfRatePoint = (server: Server, c: CertFiles, max: Point): Promise<Point> =>
  point(server.child, server.port, c, MAIN, Math.max(1, Math.round(max.eventsPerSec / 2)));

/** Starts one server child, runs every connection count against it, stops it. */
async function target(args: string[], c: CertFiles, o: TargetOptions = {}): Promise<Point[]> {
  const server = await start(args, o);
  const points: Point[] = [];
  for (const n of o.connections ?? CONNECTIONS) points.push(await point(server.child, server.port, c, n));
  const max = points.find((p) => p.connections === MAIN);
  if (o.halfRate && max) points.push(await halfRatePoint(server, c, max));
  await stop(server);
  return points;
}

/**
 * Servers compared with each other: all started, then measured in turn at MAIN
 * connections, `ROUNDS` times over, so that a busy spell of the machine falls on
 * each of them alike (one point each would compare two different moments).
 */
async function alternate(specs: Record<string, { args: string[]; o: TargetOptions }>, c: CertFiles): Promise<Record<string, Point[]>> {
  const servers: Record<string, Server> = {};
  for (const [name, spec] of Object.entries(specs)) servers[name] = await start(spec.args, spec.o);
  const points: Record<string, Point[]> = Object.fromEntries(Object.keys(specs).map((name) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, server] of Object.entries(servers)) points[name]!.push(await point(server.child, server.port, c, MAIN));
  }
  for (const [name, server] of Object.entries(servers)) {
    if (specs[name]!.o.halfRate) points[name]!.push(await halfRatePoint(server, c, points[name]![0]!));
    await stop(server);
  }
  return points;
}

/** Objects s3rver holds (its files `<key>._S3rver_object`): how many chunks reached S3 during a point. */
function s3Objects(): number {
  try {
    return readdirSync(join(dir, 's3'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('._S3rver_object')).length;
  } catch {
    return 0; // s3rver has not made its directory yet
  }
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
  // What bin/auditrelay runs the receiver with; the bare server is Node's own ceiling, V8's defaults.
  const flags = receiverNodeFlags();
  // Bare's half-rate point is the machine's own latency tail, the reference for ours.
  if (TARGETS.includes('bare')) results.bareNodeHttps = await target(['bare', join(dir, 'certs.json')], certs, { halfRate: true });
  if (TARGETS.includes('null')) results.auditrelayNullOutput = await target(['receiver', join(dir, 'null.conf')], certs, { execArgv: flags, halfRate: true });
  if (TARGETS.includes('seed')) results.auditrelaySeedPipeline = await target(['receiver', join(dir, 'seed.conf')], certs, { execArgv: [...flags, ...prof], halfRate: true });
  // One process with bin/node-flags, the same with V8's default young generation, and
  // `workers 2`, in turn: the flag's cost and the workers' gain, each from the same moments.
  const compared: Record<string, { args: string[]; o: TargetOptions }> = {};
  if (TARGETS.includes('seedDefaultYoung') || TARGETS.includes('workers2')) {
    writeFileSync(join(dir, 'seed-one.conf'), seed.replace(join(dir, 'buffer'), join(dir, 'buffer-one')));
    compared.auditrelaySeedOneProcess = { args: ['receiver', join(dir, 'seed-one.conf')], o: { execArgv: flags } };
  }
  if (TARGETS.includes('seedDefaultYoung')) {
    writeFileSync(join(dir, 'seed-default-young.conf'), seed.replace(join(dir, 'buffer'), join(dir, 'buffer-dy')));
    compared.auditrelaySeedDefaultYoung = { args: ['receiver', join(dir, 'seed-default-young.conf')], o: { execArgv: flags.filter((f) => !f.startsWith('--max-semi-space-size')) } };
  }
  if (TARGETS.includes('workers2')) {
    // Its own buffer path: the seed run's chunks stay out of it. bin/auditrelay: bin/node-flags, inherited by the workers.
    writeFileSync(join(dir, 'workers2.conf'), '<system>\n  workers 2\n</system>\n' + seed.replace(join(dir, 'buffer'), join(dir, 'buffer-w2')));
    // BENCH_PROF: NODE_OPTIONS reaches the primary and, through cluster.fork's environment, both workers.
    const env = PROF ? { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${prof.join(' ')}`.trim() } : process.env;
    compared.auditrelaySeedWorkers2 = { args: [join(dir, 'workers2.conf')], o: { child: 'cluster-child.ts', halfRate: true, env } };
  }
  if (Object.keys(compared).length > 0) Object.assign(results, await alternate(compared, certs));
} finally {
  s3.close();
  rmSync(dir, { recursive: true, force: true });
}

const bare = results.bareNodeHttps;
for (const points of Object.values(results)) {
  for (const p of points) {
    const b = bare?.find((x) => x.connections === p.connections && x.rate === undefined);
    if (p.rate !== undefined) continue;
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
  return { connections: n, bareOverOurs, generatorDroveBareWellAbove: bareOverOurs >= BARE_WELL_ABOVE };
}) : [];
const out = {
  bench: 'receiver', date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform, loadavgBefore: loadBefore, loadavgAfter: loadavg().map((l) => +l.toFixed(2)) },
  generator: 'autocannon 8 (separate process, keep-alive mTLS, pipelining 1), 691-byte session.start body with time = now (the live time key: one upload per 60 s key, as in production)',
  secondsPerPoint: SECONDS, warmupSecondsPerPoint: WARMUP,
  ...results,
  generatorCheck: generator,
  nodeFlags: receiverNodeFlags(),
  nodeEnv: receiverNodeEnv({}),
  targets: verdicts(results),
};
const outFile = process.env.BENCH_OUT ?? here('results/receiver.json');
mkdirSync(here('results/'), { recursive: true });
writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');

const row = (name: string, p: Point): string =>
  `${name.padEnd(26)} c=${String(p.connections).padEnd(3)}${p.rate === undefined ? '' : ` at ${p.rate}/s`} ${String(p.eventsPerSec).padStart(6)} ev/s  p50 ${p.p50ms} ms  p99 ${p.p99ms} ms  rss ${p.peakRssMB} MB${p.peakPssMB === undefined ? '' : ` (pss ${p.peakPssMB})`}${p.peakHeapMB === undefined ? '' : ` (heap ${p.peakHeapMB}, external ${p.peakExternalMB})`}  cpu ${p.cpuSeconds} s (${p.cpuSecondsPerSecond}/s, ${p.cpuMicrosPerEvent} µs/event, preempted ${p.preempted}, ${(p.eventsPerSec * p.seconds / Math.max(1, p.wakeups)).toFixed(1)} ev/wakeup)${p.s3Uploads > 0 ? `  ${p.s3Uploads} S3 upload(s)` : ''}  gen cpu ${p.generatorCpuSeconds} s  ratio ${p.ratioToBare ?? '-'} (cpu ${p.cpuRatioToBare ?? '-'})  errors ${p.errors}`;
for (const [name, points] of Object.entries(results)) for (const p of points) console.log(row(name, p));
for (const g of generator) {
  console.log(`c=${g.connections}: bare/ours = ${g.bareOverOurs} — ${g.generatorDroveBareWellAbove ? 'the generator drove bare well above ours: it is not what limits auditrelay' : 'bare is NOT well above ours: the generator may be the limit, the ratio is not trustworthy'}`);
}
for (const t of out.targets) console.log(`${t.met === undefined ? '-     ' : t.met ? 'MET   ' : 'MISSED'} ${t.target}: ${t.verdict}`);
console.log(`load average before ${loadBefore.join(' ')}, after ${out.machine.loadavgAfter.join(' ')}; wrote ${outFile}`);
