// Exporter → receiver throughput, events/s, pipelined (default window) vs sequential
// (`--fluentd-max-in-flight 1`, upstream's one-at-a-time sending), same run, same machine:
// fake Teleport over mTLS gRPC → runStart → the real receiver over mTLS (`@type null`).
// Three processes, as in production: the exporter (bench/exporter-child.ts), the receiver
// (bench/server-child.ts), and this one with the fake Teleport (and the latency relay). In one
// process they would share one event loop, which alone caps the pipelined figure at
// 1 / (exporter + receiver + Teleport CPU per event) and says nothing about the exporter.
// Twice: straight over loopback, and through a relay adding 5 ms each way (10 ms RTT, a
// collector in another region or behind a VPN), where one-request-per-round-trip hurts.
// Besides events/s (noisy on a shared machine), CPU µs per event of each side.
// Writes bench/results/exporter.json. Run: node bench/exporter.bench.ts [events]
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld } from '../test/event-handler/start-helpers.ts';
import { PIPELINE_WINDOW } from '../src/event-handler/start/senders.ts';
import type { World } from '../test/event-handler/start-helpers.ts';
import { mtlsSource } from '../test/support/receiver.ts';
import { startLatencyProxy } from './latency-proxy.ts';

const events = Number(process.argv[2] ?? 6000);
const RTT_MS = 10;

interface ChildReceiver {
  readonly port: number;
  stats(): Promise<{ cpuSeconds: number; loopBusy: number }>;
  reset(): void;
  stop(): Promise<void>;
}

/** The real receiver (in_http over mTLS with the world's certs, `@type null`) in its own process. */
async function childReceiver(w: World): Promise<ChildReceiver> {
  const conf = join(w.dir, 'bench-receiver.conf');
  writeFileSync(conf, `${mtlsSource(w.fcerts, { parse: '@type json\n    time_key no_such_key' })}<match **>\n  @type null\n</match>\n`);
  const child = fork(new URL('./server-child.ts', import.meta.url).pathname, ['receiver', conf], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const next = () => new Promise<unknown>((resolve, reject) => {
    child.once('message', resolve);
    void exited.then(() => reject(new Error('bench receiver exited')));
  });
  const { port } = (await next()) as { port: number };
  return {
    port,
    reset: () => child.send('reset'),
    async stats() {
      const s = next();
      child.send('stats');
      return (await s) as { cpuSeconds: number; loopBusy: number };
    },
    async stop() {
      child.send('stop');
      await exited;
    },
  };
}

interface Point {
  /** Whole runStart: connecting and the cold JIT included. */
  readonly eventsPerSec: number;
  /** From the first progress line (100 ms) with events answered to the end. */
  readonly steadyEventsPerSec: number;
  // The rest over the steady span.
  readonly exporterCpuUsPerEvent: number;
  /** Share of the span the event loop was not waiting for I/O (includes time the OS ran others). */
  readonly exporterLoopBusy: number;
  readonly receiverCpuUsPerEvent: number;
  readonly receiverLoopBusy: number;
}

interface Span {
  readonly events: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly loopBusy: number;
}

interface ExporterResult {
  readonly auditEvents: number;
  readonly whole: Span;
  readonly steady?: Span;
}

async function measure(inFlight: string, count: number, oneWayMs: number): Promise<Point> {
  const w = await makeWorld({ bulk: false, count, days: 2, sessions: 0 });
  const recv = await childReceiver(w);
  const proxy = oneWayMs > 0 ? await startLatencyProxy(recv.port, oneWayMs) : undefined;
  try {
    const port = proxy?.port ?? recv.port;
    const flags = {
      'fluentd-max-in-flight': inFlight, batch: '500',
      'fluentd-url': `https://localhost:${port}/test.log`, 'fluentd-session-url': `https://localhost:${port}/session`,
    };
    const prof = process.env.EXPORTER_BENCH_PROF; // a directory: the exporter's --cpu-prof goes there
    const execArgv = prof === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${prof}`];
    const exporter = fork(new URL('./exporter-child.ts', import.meta.url).pathname, [w.tomlPath, JSON.stringify(flags), w.dir], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const r = await new Promise<ExporterResult>((resolve, reject) => {
      // The receiver's counters restart with the exporter's run, then with its steady span.
      exporter.on('message', (m) => (m === 'starting' || m === 'steady' ? recv.reset() : resolve(m as ExporterResult)));
      exporter.once('exit', (code) => reject(new Error(`exporter exited (${String(code)}) without a result`)));
    });
    const rs = await recv.stats();
    if (r.auditEvents !== count) throw new Error(`sent ${r.auditEvents} of ${count}`);
    const s = r.steady ?? r.whole;
    return {
      eventsPerSec: Math.round(count / r.whole.seconds),
      steadyEventsPerSec: Math.round(s.events / s.seconds),
      exporterCpuUsPerEvent: Math.round((s.cpuSeconds * 1e6) / s.events),
      exporterLoopBusy: Number(s.loopBusy.toFixed(2)),
      receiverCpuUsPerEvent: Math.round((rs.cpuSeconds * 1e6) / s.events),
      receiverLoopBusy: rs.loopBusy,
    };
  } finally {
    await proxy?.close();
    await recv.stop();
    await w.close();
  }
}

function pair(seq: Point, seqEvents: number, pipe: Point, pipeEvents: number): Record<string, unknown> {
  const ratio = (a: number, b: number) => Number((a / b).toFixed(2));
  return {
    sequential: { events: seqEvents, ...seq },
    pipelined: { events: pipeEvents, ...pipe },
    ratio: ratio(pipe.eventsPerSec, seq.eventsPerSec),
    steadyRatio: ratio(pipe.steadyEventsPerSec, seq.steadyEventsPerSec),
  };
}

const only = process.env.EXPORTER_BENCH_ONLY; // 'pipelined': loopback pipelined alone, printed, nothing written
if (only === 'pipelined') {
  console.log(await measure('0', events, 0));
  process.exit(0);
}
// Loopback is CPU-bound on a shared machine: two alternating rounds, the faster (steady) run of
// each mode kept, so a burst of other work during one run does not decide the ratio.
const faster = (a: Point, b: Point): Point => (b.steadyEventsPerSec > a.steadyEventsPerSec ? b : a);
let loopSeq = await measure('1', events, 0);
let loopPipe = await measure('0', events, 0);
loopSeq = faster(loopSeq, await measure('1', events, 0));
loopPipe = faster(loopPipe, await measure('0', events, 0));
// Sequential at 10 ms RTT manages ~75 events/s: a smaller count keeps the run short (the
// pipelined run keeps the full count, or its steady span would be a few progress lines).
const wanEvents = Math.min(events, 1000);
const wanSeq = await measure('1', wanEvents, RTT_MS / 2);
const wanPipe = await measure('0', events, RTT_MS / 2);
const result = {
  setup: 'three processes: exporter (runStart), receiver (in_http mTLS, @type null), fake Teleport (legacy search API, batch 500) + latency relay; loopback: faster of 2 alternating runs per mode',
  modes: `pipelined: one HTTP/1.1 connection, up to ${PIPELINE_WINDOW} in flight (the default window); sequential: --fluentd-max-in-flight 1 (upstream's one at a time, through the keep-alive pool)`,
  loopback: pair(loopSeq, events, loopPipe, events),
  [`rtt${RTT_MS}ms`]: pair(wanSeq, wanEvents, wanPipe, events),
  node: process.version,
  at: new Date().toISOString(),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/exporter.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result, null, 2));
