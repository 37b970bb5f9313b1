// Exporter → receiver throughput, events/s, pipelined (default pool) vs sequential
// (`--fluentd-max-in-flight 1`, upstream's one-at-a-time sending), same run, same machine:
// fake Teleport over mTLS gRPC → runStart → the real receiver over mTLS (out null).
// Twice: straight over loopback (CPU-bound: both processes share 2 cores), and through a
// relay adding 5 ms each way (10 ms RTT, a collector in another region or behind a VPN),
// which is where one-request-per-round-trip hurts. Writes bench/results/exporter.json.
// Run: node bench/exporter.bench.ts [events]
import { mkdirSync, writeFileSync } from 'node:fs';
import { runStart } from '../src/event-handler/start/start.ts';
import { config, makeWorld, quietLog } from '../test/event-handler/start-helpers.ts';
import { startLatencyProxy } from './latency-proxy.ts';

const events = Number(process.argv[2] ?? 3000);
const RTT_MS = 10;

async function measure(inFlight: string, count: number, oneWayMs: number): Promise<number> {
  const w = await makeWorld({ bulk: false, count, days: 2, sessions: 0 });
  const proxy = oneWayMs > 0 ? await startLatencyProxy(w.recv.port, oneWayMs) : undefined;
  try {
    const port = proxy?.port ?? w.recv.port;
    const t0 = performance.now();
    const r = await runStart(config(w, {
      'fluentd-max-in-flight': inFlight, batch: '500',
      'fluentd-url': `https://localhost:${port}/test.log`, 'fluentd-session-url': `https://localhost:${port}/session`,
    }), { log: quietLog() });
    const secs = (performance.now() - t0) / 1000;
    if (r.auditEvents !== count) throw new Error(`sent ${r.auditEvents} of ${count}`);
    return count / secs;
  } finally {
    await proxy?.close();
    await w.close();
  }
}

const loopSeq = await measure('1', events, 0);
const loopPipe = await measure('0', events, 0);
// Sequential at 10 ms RTT manages ~90 events/s: a smaller count keeps the run short.
const wanEvents = Math.min(events, 1000);
const wanSeq = await measure('1', wanEvents, RTT_MS / 2);
const wanPipe = await measure('0', wanEvents, RTT_MS / 2);
const result = {
  events,
  pool: 'pipelined: one HTTP/1.1 connection, up to max-connections (default 2 × concurrency = 10) in flight; sequential: --fluentd-max-in-flight 1',
  loopback: { sequentialEventsPerSec: Math.round(loopSeq), pipelinedEventsPerSec: Math.round(loopPipe), ratio: Number((loopPipe / loopSeq).toFixed(2)) },
  [`rtt${RTT_MS}ms`]: { events: wanEvents, sequentialEventsPerSec: Math.round(wanSeq), pipelinedEventsPerSec: Math.round(wanPipe), ratio: Number((wanPipe / wanSeq).toFixed(2)) },
  node: process.version,
  at: new Date().toISOString(),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/exporter.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
console.log(result);
