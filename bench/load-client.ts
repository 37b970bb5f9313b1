// Load generator for bench/receiver.bench.ts, in its own process (the server
// under test is another one): autocannon over mTLS keep-alive connections,
// POSTing one ~600-byte Teleport event to https://127.0.0.1:<port>/test.log.
// autocannon writes requests from pre-built buffers and parses responses with a
// small HTTP parser, so it outruns a Node https server on one core; a node:https
// Agent client did not (it was the bottleneck, issue 16).
// Protocol (IPC with the parent): after a warm-up run it sends {warm:true}, waits
// for 'go' (the parent resets the server's counters), runs the measured load and
// sends the result. Args: port caFile certFile keyFile connections seconds warmupSeconds [rate]
// rate (requests/s over all connections, autocannon's overallRate; 0 or absent = as fast as
// the server answers) holds the load at a fixed rate, warm-up included: latency at a rate
// below the maximum is what a client sees in production, not at saturation.
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
// @ts-expect-error autocannon ships no type declarations
import autocannonModule from 'autocannon';

interface Histogram { p50: number; p99: number; average: number; max: number }
interface AutocannonResult {
  latency: Histogram; requests: Histogram & { total: number }; duration: number;
  errors: number; timeouts: number; non2xx: number; '2xx': number;
}
interface Instance extends Promise<AutocannonResult> {
  on(event: 'response', f: (client: unknown, status: number, bytes: number, ms: number) => void): void;
}
type Autocannon = (opts: Record<string, unknown>) => Instance;
const autocannon = autocannonModule as Autocannon;

const [port, ca, cert, key, connectionsArg, secondsArg, warmupArg, rateArg] = process.argv.slice(2);
const connections = Number(connectionsArg);
const rate = Number(rateArg ?? 0);
/** session.start from the fixture: 691 bytes, the closest to a typical 600-byte event. */
const fixture = readFileSync(new URL('../test/fixtures/teleport-events.jsonl', import.meta.url), 'utf8')
  .split('\n').find((l) => l.includes('"session.start"'))!;
/**
 * The event as Teleport sends it live: `time` is now (same length as the fixture's). With the
 * fixture's 2024 time every event lands in a time key long closed, so the seed pipeline uploaded
 * a small chunk at every flush (5–6 per 5 s point) where production uploads once per 60 s key.
 */
const liveBody = (): string => fixture.replace(/"time":"[^"]*"/, `"time":"${new Date().toISOString().slice(0, 19)}.648137154Z"`);

// autocannon's own histogram keeps whole milliseconds; sub-millisecond
// latencies are the point at 1 connection, so each response's time is kept here.
let latencies: number[] = [];
const run = (seconds: number): Instance => autocannon({
  url: `https://127.0.0.1:${port}/test.log`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: liveBody(),
  connections,
  pipelining: 1,
  ...(rate > 0 ? { overallRate: rate } : {}),
  duration: seconds,
  servername: 'localhost',
  tlsOptions: { ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) },
});

await run(Number(warmupArg)); // TLS handshakes, JIT on both sides
process.send!({ warm: true });
await once(process, 'message');
const cpu0 = process.cpuUsage();
latencies = [];
const instance = run(Number(secondsArg));
instance.on('response', (_c, status, _b, ms) => {
  if (status === 200) latencies.push(ms);
});
const r = await instance;
const cpu = process.cpuUsage(cpu0);
const sorted = Float64Array.from(latencies).sort();
const pct = (p: number): number => +(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN).toFixed(2);
process.send!({
  connections,
  ...(rate > 0 ? { rate } : {}),
  requests: r.requests.total,
  seconds: r.duration,
  eventsPerSec: Math.round(r['2xx'] / r.duration),
  p50ms: pct(0.5),
  p99ms: pct(0.99),
  errors: r.errors + r.timeouts + r.non2xx,
  generatorCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
}, () => process.exit(0));
