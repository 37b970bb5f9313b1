// The `workers 2` server for bench/receiver.bench.ts: runs bin/auditrelay on a
// config with `<system> workers 2` (a node:cluster primary and two workers) and
// speaks server-child.ts's IPC protocol for it: sends {port}; 'reset' / 'stats'
// count the CPU seconds and peak RSS of the primary and both workers together
// (from /proc, Linux); 'stop' sends SIGTERM and exits once auditrelay did.
// Args: <fluent.conf>.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [conf] = process.argv.slice(2);
const bin = new URL('../bin/auditrelay', import.meta.url).pathname;
const child = spawn(bin, ['-c', conf!], { stdio: ['ignore', 'pipe', 'inherit'] });
const pids = new Set<number>([child.pid!]);
const TICKS = 100; // USER_HZ on Linux

/** utime + stime (s) of every pid still alive. */
function cpuSeconds(): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited
    }
  }
  return ticks / TICKS;
}

function rssBytes(): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return kb * 1024;
}

// The port from a worker's "listening http" line, the workers' pids from the primary's "Worker N is running".
const port = await new Promise<number>((resolve, reject) => {
  child.once('exit', (code) => reject(new Error(`auditrelay exited (${code}) before listening`)));
  let found = 0;
  let running = 0;
  const rl = createInterface({ input: child.stdout! });
  rl.on('line', (line) => {
    const m = /"port":(\d+),"msg":"listening http"/.exec(line);
    if (m) found = Number(m[1]);
    const w = /"pid":(\d+),"msg":"Worker \d+ is running"/.exec(line);
    if (w) {
      pids.add(Number(w[1]));
      running += 1;
    }
    if (found > 0 && running === 2) resolve(found);
  });
});
let peak = 0;
let cpu0 = cpuSeconds();
const sample = (): void => {
  peak = Math.max(peak, rssBytes());
};
const timer = setInterval(sample, 50);
process.send!({ port });
process.on('message', (msg) => {
  if (msg === 'reset') {
    peak = 0;
    sample();
    cpu0 = cpuSeconds();
  } else if (msg === 'stats') {
    sample();
    process.send!({ peakRssMB: +(peak / 2 ** 20).toFixed(1), cpuSeconds: +(cpuSeconds() - cpu0).toFixed(2) });
  } else if (msg === 'stop') {
    clearInterval(timer);
    child.once('exit', () => process.exit(0));
    child.kill('SIGTERM');
  }
});
