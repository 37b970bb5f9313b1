// The `workers 2` server for bench/receiver.bench.ts: runs bin/auditrelay on a
// config with `<system> workers 2` (a node:cluster primary and two workers) and
// speaks server-child.ts's IPC protocol for it: sends {port}; 'reset' / 'stats'
// count the CPU seconds and peak RSS of the primary and both workers together
// (from /proc, Linux), and each one's share in `processes` (where a worker's CPU goes:
// the primary's cluster round-robin, or the workers themselves); 'stop' sends SIGTERM and
// exits once auditrelay did. Args: <fluent.conf>.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [conf] = process.argv.slice(2);
const bin = new URL('../bin/auditrelay', import.meta.url).pathname;
const child = spawn(bin, ['-c', conf!], { stdio: ['ignore', 'pipe', 'inherit'] });
/** role (primary, worker0, worker1) → pid. */
const pids = new Map<string, number>([['primary', child.pid!]]);
const TICKS = 100; // USER_HZ on Linux

/** utime + stime (s) of one pid, 0 once it exited. */
function cpuOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0; // exited
  }
}

function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // exited
  }
}

const cpuByRole = (): Map<string, number> => new Map([...pids].map(([role, pid]) => [role, cpuOf(pid)]));
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
let peak = 0;
let peakByRole = new Map<string, number>();
let cpu0 = cpuByRole();
const sample = (): void => {
  const rss = [...pids].map(([role, pid]) => [role, rssOf(pid)] as const);
  for (const [role, bytes] of rss) peakByRole.set(role, Math.max(peakByRole.get(role) ?? 0, bytes));
  peak = Math.max(peak, sum(rss.map(([, bytes]) => bytes)));
};
const mb = (bytes: number): number => +(bytes / 2 ** 20).toFixed(1);
const timer = setInterval(sample, 50);
process.send!({ port });
process.on('message', (msg) => {
  if (msg === 'reset') {
    peak = 0;
    peakByRole = new Map();
    sample();
    cpu0 = cpuByRole();
  } else if (msg === 'stats') {
    sample();
    const cpu = [...cpuByRole()].map(([role, s]) => [role, s - (cpu0.get(role) ?? 0)] as const);
    const processes = Object.fromEntries(cpu.map(([role, s]) => [role, { cpuSeconds: +s.toFixed(2), peakRssMB: mb(peakByRole.get(role) ?? 0) }]));
    process.send!({ peakRssMB: mb(peak), cpuSeconds: +sum(cpu.map(([, s]) => s)).toFixed(2), processes });
  } else if (msg === 'stop') {
    clearInterval(timer);
    child.once('exit', () => process.exit(0));
    child.kill('SIGTERM');
  }
});
