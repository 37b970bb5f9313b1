// The server under test for bench/receiver.bench.ts, alone in its process so
// that its peak RSS and CPU seconds are its own (the load generator and s3rver
// are other processes). Args: `bare <certs.json>` (a Node https server that
// answers 200 and does no work: the ceiling) or `receiver <fluent.conf>`.
// IPC: sends {port}; on 'reset' zeroes the peak RSS and CPU counters; on
// 'stats' replies {peakRssMB, peakHeapMB, peakExternalMB, cpuSeconds, preempted, wakeups, loopBusy} since the last reset
// (preempted: involuntary context switches, how often another process took the core;
// wakeups: voluntary ones, how often the event loop slept and woke; loopBusy: event loop utilisation); on 'stop'
// closes and exits (so --cpu-prof writes its profile).
import { createServer } from 'node:https';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CertFiles } from '../test/support/certs.ts';
import { contextSwitches, procStatus } from '../test/support/proc.ts';

const [mode, file] = process.argv.slice(2);

async function bare(): Promise<{ port: number; close(): Promise<void> }> {
  const certs = JSON.parse(readFileSync(file, 'utf8')) as CertFiles;
  const key = createPrivateKey({ key: readFileSync(certs.serverKey), passphrase: certs.passphrase }).export({ type: 'pkcs8', format: 'pem' });
  const server = createServer({ key, cert: readFileSync(certs.serverCert), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 }).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function receiver(): Promise<{ port: number; close(): Promise<void> }> {
  // Imported here: the bare server's RSS must not include auditrelay's modules.
  const { startReceiver } = await import('../src/receiver.ts');
  const { pino } = await import('pino');
  const silent = pino({ level: 'error' });
  const receiver = await startReceiver({ configPath: file, processLog: { log: silent, writeLine: () => {}, flush: () => {} } });
  // As src/cli/receiver.ts does once it listens: a warm compile cache for the next start (bin/node-env).
  const { flushCompileCache } = await import('node:module');
  flushCompileCache();
  return receiver;
}

interface Switches { preempted: number; wakeups: number }

/** The main thread's (the event loop's) context switches. */
const switches = (): Switches => contextSwitches(procStatus('self'));

function switchesSince(before: Switches): Switches {
  const now = switches();
  return { preempted: now.preempted - before.preempted, wakeups: now.wakeups - before.wakeups };
}

const server = mode === 'bare' ? await bare() : await receiver();
let peak = 0;
// Where the RSS goes: V8's heap (old generation growth) or memory outside it (Buffers, TLS).
let peakHeap = 0;
let peakExternal = 0;
let samples = 0;
let cpu0 = process.cpuUsage();
let switches0 = switches();
let elu0 = performance.eventLoopUtilization();
const sample = (): void => {
  peak = Math.max(peak, process.memoryUsage.rss());
  if (samples++ % 5 !== 0) return; // memoryUsage() walks the heap spaces: every 250 ms
  const m = process.memoryUsage();
  peakHeap = Math.max(peakHeap, m.heapTotal);
  peakExternal = Math.max(peakExternal, m.external);
};
const mb = (bytes: number): number => +(bytes / 2 ** 20).toFixed(1);
const timer = setInterval(sample, 50);
process.on('message', (msg) => {
  if (msg === 'reset') {
    peak = 0;
    peakHeap = 0;
    peakExternal = 0;
    samples = 0;
    sample();
    cpu0 = process.cpuUsage();
    switches0 = switches();
    elu0 = performance.eventLoopUtilization();
  } else if (msg === 'stats') {
    samples = 0;
    sample();
    const cpu = process.cpuUsage(cpu0);
    process.send!({ peakRssMB: mb(peak), peakHeapMB: mb(peakHeap), peakExternalMB: mb(peakExternal), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), ...switchesSince(switches0), loopBusy: +performance.eventLoopUtilization(elu0).utilization.toFixed(2) });
  } else if (msg === 'stop') {
    clearInterval(timer);
    void server.close().then(() => process.exit(0));
  }
});
process.send!({ port: server.port });
