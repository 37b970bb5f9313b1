// Exporter → receiver throughput, events/s, pipelined (default pool) vs sequential
// (`--fluentd-max-in-flight 1`, upstream's one-at-a-time sending), same run, same machine:
// fake Teleport over mTLS gRPC → runStart → the real receiver over mTLS (out null).
// Writes bench/results/exporter.json. Run: node bench/exporter.bench.ts [events]
import { mkdirSync, writeFileSync } from 'node:fs';
import { runStart } from '../src/exporter/start.ts';
import { config, makeWorld, quietLog } from '../test/exporter/start-helpers.ts';

const events = Number(process.argv[2] ?? 5000);

async function measure(inFlight: string): Promise<number> {
  const w = await makeWorld({ bulk: false, count: events, days: 2, sessions: 0 });
  try {
    const t0 = performance.now();
    const r = await runStart(config(w, { 'fluentd-max-in-flight': inFlight, batch: '500' }), { log: quietLog() });
    const secs = (performance.now() - t0) / 1000;
    if (r.auditEvents !== events) throw new Error(`sent ${r.auditEvents} of ${events}`);
    return events / secs;
  } finally {
    await w.close();
  }
}

const sequential = await measure('1');
const pipelined = await measure('0');
const result = {
  events,
  sequentialEventsPerSec: Math.round(sequential),
  pipelinedEventsPerSec: Math.round(pipelined),
  ratio: Number((pipelined / sequential).toFixed(2)),
  pool: 'default (max-connections = 2 × concurrency = 10)',
  node: process.version,
  at: new Date().toISOString(),
};
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/exporter.json', import.meta.url), JSON.stringify(result, null, 2) + '\n');
console.log(result);
