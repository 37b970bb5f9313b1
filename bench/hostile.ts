// Issue 12.8: peak RSS of a seed-config receiver (bin/auditrelay child: json parse →
// record_transformer → file buffer → S3 on s3rver) under hostile input: random bodies,
// 200k-deep arrays, 50k-deep objects, 100k-digit numbers, 2,000 distinct tags and slowloris
// connections, all at once. Reads the child's VmHWM from /proc (idle baseline first).
// Env: HOSTILE_CASES (10000), HOSTILE_SEED, HOSTILE_SLOW (slowloris connections, 200),
// HOSTILE_KINDS (body kinds, comma-separated; default all),
// HOSTILE_NODE_OPTIONS (e.g. --heapsnapshot-signal=SIGUSR2 for the child), BENCH_OUT.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { childWorld } from '../test/support/world.ts';
import { startChild } from '../test/support/child.ts';
import { MtlsClient } from '../test/e2e/harness.ts';
import { childMemory, hostileRun, rng, slowloris, type BodyKind } from '../test/support/hostile.ts';

const CASES = Number(process.env.HOSTILE_CASES ?? 10_000);
const SEED = Number(process.env.HOSTILE_SEED ?? 12_8);
const SLOW = Number(process.env.HOSTILE_SLOW ?? 200);
const KINDS = process.env.HOSTILE_KINDS?.split(',') as BodyKind[] | undefined;

const teardown: Array<() => Promise<void> | void> = [];
const t = { after: (fn: () => Promise<void> | void) => void teardown.push(fn) };
try {
  const w = await childWorld(t, 'ar-bench-hostile-', 60, '');
  if (process.env.HOSTILE_SOURCE_EXTRA) {
    const conf = readFileSync(w.confPath, 'utf8').replace('@type http\n', `@type http\n    ${process.env.HOSTILE_SOURCE_EXTRA}\n`);
    writeFileSync(w.confPath, conf);
  }
  if (process.env.HOSTILE_NODE_OPTIONS) process.env.NODE_OPTIONS = process.env.HOSTILE_NODE_OPTIONS;
  const child = await startChild(w.confPath);
  w.children.push(child);
  const pid = child.proc.pid!;
  await new Promise((r) => setTimeout(r, 1000));
  const idle = await childMemory(pid);
  console.log(`idle receiver: VmRSS ${idle.rssMB.toFixed(1)} MB, VmHWM ${idle.hwmMB.toFixed(1)} MB`);
  let peak = idle.hwmMB;
  const sampler = setInterval(() => void childMemory(pid).then((m) => (peak = Math.max(peak, m.hwmMB)), () => {}), 100);
  const slow = await slowloris(child.port, w.certs, SLOW, 200);
  const client = new MtlsClient(child.port, w.certs, 8);
  const statuses = new Map<number, number>();
  const began = Date.now();
  if (process.env.HOSTILE_SNAPSHOT_AFTER) setTimeout(() => child.proc.kill('SIGUSR2'), Number(process.env.HOSTILE_SNAPSHOT_AFTER) * 1000);
  const done = await hostileRun(client, rng(SEED), { cases: CASES, distinct: 2000, concurrency: 8, kinds: KINDS }, (_c, a) => {
    statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  });
  const seconds = (Date.now() - began) / 1000;
  client.close();
  const slowClosed = slow.closed();
  slow.stop();
  clearInterval(sampler);
  const end = await childMemory(pid);
  peak = Math.max(peak, end.hwmMB);
  if (process.env.HOSTILE_SNAPSHOT) {
    // The child was started with --heapsnapshot-signal=SIGUSR2 (HOSTILE_NODE_OPTIONS): snapshot the heap as the run left it.
    child.proc.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, Number(process.env.HOSTILE_SNAPSHOT) * 1000));
  }
  if (process.env.HOSTILE_TRACE_GC) for (const l of child.lines.filter((x) => x.includes('Mark-Compact')).slice(-Number(process.env.HOSTILE_TRACE_GC))) console.log(l);
  const result = {
    seed: SEED, cases: done, seconds, slowloris: SLOW, slowlorisClosedByServer: slowClosed,
    statuses: Object.fromEntries(statuses), idleRssMB: +idle.rssMB.toFixed(1), peakHwmMB: +peak.toFixed(1), endRssMB: +end.rssMB.toFixed(1),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(process.env.BENCH_OUT ?? join(import.meta.dirname, 'results', 'hostile.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const fn of teardown.reverse()) await fn();
}
