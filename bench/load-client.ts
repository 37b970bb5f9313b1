// Load generator for bench/receiver.bench.ts, in its own process so the server
// under test has its core to itself: POSTs Teleport fixture events to
// https://127.0.0.1:<port>/test.log over mTLS keep-alive connections, and prints
// one JSON line with events/s and latency percentiles.
// Args: port caFile certFile keyFile total concurrency
import { Agent, request } from 'node:https';
import { readFileSync } from 'node:fs';

const [port, ca, cert, key, totalArg, concurrencyArg] = process.argv.slice(2);
const total = Number(totalArg);
const concurrency = Number(concurrencyArg);
const bodies = readFileSync(new URL('../test/fixtures/teleport-events.jsonl', import.meta.url), 'utf8')
  .split('\n').filter(Boolean).map((e) => Buffer.from(e));
const agent = new Agent({ keepAlive: true, maxSockets: concurrency, ca: readFileSync(ca), cert: readFileSync(cert), key: readFileSync(key) });

async function run(count: number): Promise<{ seconds: number; latencies: number[]; errors: number }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const one = (body: Buffer) => new Promise<void>((resolve) => {
    const t0 = performance.now();
    const req = request({ host: '127.0.0.1', port: Number(port), path: '/test.log', method: 'POST', agent, servername: 'localhost',
      headers: { 'Content-Type': 'application/json', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) errors++;
        latencies.push(performance.now() - t0);
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(body);
  });
  const worker = async () => {
    while (next < count) await one(bodies[next++ % bodies.length]);
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (performance.now() - start) / 1000, latencies, errors };
}

await run(Math.min(2000, total)); // warm-up: TLS sessions, JIT on both sides
const r = await run(total);
r.latencies.sort((a, b) => a - b);
const pct = (p: number) => +r.latencies[Math.floor(r.latencies.length * p)].toFixed(2);
agent.destroy();
process.stdout.write(JSON.stringify({
  events: total, seconds: +r.seconds.toFixed(3), eventsPerSec: Math.round(total / r.seconds),
  p50ms: pct(0.5), p99ms: pct(0.99), errors: r.errors,
}) + '\n');
