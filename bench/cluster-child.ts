// The `workers 2` server for bench/receiver.bench.ts: runs bin/auditrelay on a
// config with `<system> workers 2` (a node:cluster primary and two workers) and
// speaks server-child.ts's IPC protocol for it: sends {port}; 'reset' / 'stats'
// count the CPU seconds, preemptions and peak RSS / PSS of the primary and both workers
// together (from /proc, Linux), and each one's share in `processes` (where the CPU goes:
// the primary's cluster round-robin, or the workers themselves); 'stop' sends SIGTERM and
// exits once auditrelay did. Args: <fluent.conf>.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { contextSwitches, statusKB } from '../test/support/proc.ts';

const [conf] = process.argv.slice(2);
const bin = new URL('../bin/auditrelay', import.meta.url).pathname;
const child = spawn(bin, ['-c', conf!], { stdio: ['ignore', 'pipe', 'inherit'] });
/** role (primary, worker0, worker1) → pid. */
const pids = new Map<string, number>([['primary', child.pid!]]);
const TICKS = 100; // USER_HZ on Linux

/** A /proc file of a pid, '' once it exited. */
function proc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return ''; // exited
  }
}
const kB = (text: string, field: string): number => statusKB(text, field, 0) * 1024;

interface Counters { cpu: number; preempted: number; wakeups: number }

/** The counters of one process (its main thread's switches): CPU seconds, preemptions (a busy machine shows here), event-loop wakeups. */
function counters(pid: number): Counters {
  const fields = proc(pid, 'stat').split(') ')[1]?.split(' ') ?? [];
  return { cpu: (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS, ...contextSwitches(proc(pid, 'status')) };
}

const countersByRole = (): Map<string, Counters> => new Map([...pids].map(([role, pid]) => [role, counters(pid)]));
const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);

// The port from a worker's "listening http" line, the workers' pids from the primary's "Worker N is running".
const port = await new Promise<number>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`auditrelay exited (${code}) before listening`)));
  let found = 0;
  let running = 0;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    const m = /"port":(\d+),"msg":"listening http"/.exec(line);
    if (m) found = Number(m[1]);
    const w = /"worker":(\d+),"pid":(\d+),"msg":"Worker \d+ is running"/.exec(line);
    if (w) {
      pids.set(`worker${w[1]}`, Number(w[2]));
      running += 1;
    }
    if (found > 0 && running === 2) resolve(found);
  });
});
// RSS counts the pages the three share (node's own code, ~50 MB) three times; PSS
// splits them between the processes, so the sum of PSS is what the machine gives up.
let peak = { rss: 0, pss: 0 };
let peakByRole = new Map<string, { rss: number; pss: number }>();
let before = countersByRole();
let samples = 0;
const sample = (): void => {
  // smaps_rollup walks the page tables: every 10th sample (500 ms) is enough for a peak.
  const withPss = samples++ % 10 === 0;
  const now = [...pids].map(([role, pid]) => {
    const last = peakByRole.get(role) ?? { rss: 0, pss: 0 };
    const m = { rss: kB(proc(pid, 'status'), 'VmRSS'), pss: withPss ? kB(proc(pid, 'smaps_rollup'), 'Pss') : last.pss };
    peakByRole.set(role, { rss: Math.max(last.rss, m.rss), pss: Math.max(last.pss, m.pss) });
    return m;
  });
  peak = { rss: Math.max(peak.rss, sum(now.map((m) => m.rss))), pss: Math.max(peak.pss, sum(now.map((m) => m.pss))) };
};
const mb = (bytes: number): number => +(bytes / 2 ** 20).toFixed(1);
const timer = setInterval(sample, 50);
process.send!({ port });
process.on('message', (msg) => {
  if (msg === 'reset') {
    peak = { rss: 0, pss: 0 };
    peakByRole = new Map();
    samples = 0;
    sample();
    before = countersByRole();
  } else if (msg === 'stats') {
    samples = 0;
    sample();
    const processes = Object.fromEntries([...countersByRole()].map(([role, c]) => {
      const b = before.get(role) ?? { cpu: 0, preempted: 0, wakeups: 0 };
      const p = peakByRole.get(role) ?? { rss: 0, pss: 0 };
      return [role, { cpuSeconds: +(c.cpu - b.cpu).toFixed(2), preempted: c.preempted - b.preempted, wakeups: c.wakeups - b.wakeups, peakRssMB: mb(p.rss), peakPssMB: mb(p.pss) }];
    }));
    const cpuSeconds = +sum(Object.values(processes).map((p) => p.cpuSeconds)).toFixed(2);
    const preempted = sum(Object.values(processes).map((p) => p.preempted));
    const wakeups = sum(Object.values(processes).map((p) => p.wakeups));
    process.send!({ peakRssMB: mb(peak.rss), peakPssMB: mb(peak.pss), cpuSeconds, preempted, wakeups, processes });
  } else if (msg === 'stop') {
    clearInterval(timer);
    child.once('exit', () => process.exit(0));
    child.kill('SIGTERM');
  }
});
