// The server under test for bench/receiver.bench.ts, alone in its process so
// that its peak RSS and CPU seconds are its own (the load generator and s3rver
// are other processes). Args: `bare <certs.json>` (a Node https server that
// answers 200 and does no work: the ceiling) or `receiver <fluent.conf>`.
// IPC: sends {port}; on 'reset' zeroes the peak RSS and CPU counters; on
// 'stats' replies {peakRssMB, cpuSeconds, loopBusy (event loop utilisation)} since the last reset; on 'stop'
// closes and exits (so --cpu-prof writes its profile).
import { createServer } from 'node:https';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CertFiles } from '../test/support/certs.ts';

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
  return startReceiver({ configPath: file, processLog: { log: silent, writeLine: () => {}, flush: () => {} } });
}

const server = mode === 'bare' ? await bare() : await receiver();
let peak = 0;
let cpu0 = process.cpuUsage();
let elu0 = performance.eventLoopUtilization();
const sample = (): void => {
  peak = Math.max(peak, process.memoryUsage.rss());
};
const timer = setInterval(sample, 50);
process.on('message', (msg) => {
  if (msg === 'reset') {
    peak = 0;
    sample();
    cpu0 = process.cpuUsage();
    elu0 = performance.eventLoopUtilization();
  } else if (msg === 'stats') {
    sample();
    const cpu = process.cpuUsage(cpu0);
    process.send!({ peakRssMB: +(peak / 2 ** 20).toFixed(1), cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2), loopBusy: +performance.eventLoopUtilization(elu0).utilization.toFixed(2) });
  } else if (msg === 'stop') {
    clearInterval(timer);
    void server.close().then(() => process.exit(0));
  }
});
process.send!({ port: server.port });
