// /proc/<pid>/status (Linux), read for the memory and scheduling figures of the tests
// and benches: VmRSS / VmHWM, and the main thread's context switches.
import { readFileSync } from 'node:fs';

/** /proc/<pid>/status, '' once the process has exited. */
export function procStatus(pid: number | 'self'): string {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return '';
  }
}

/** The `<field>: <n> kB` line of a status text, in kB; `absent` when there is none (an exited process). */
export function statusKB(status: string, field: string, absent = Number.NaN): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return m === null ? absent : Number(m[1]);
}

/** The main thread's context switches: preempted (involuntary: another process took the core) and wakeups (voluntary: the event loop slept). */
export function contextSwitches(status: string): { preempted: number; wakeups: number } {
  const count = (kind: string): number => Number(new RegExp(`^${kind}_ctxt_switches:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { preempted: count('nonvoluntary'), wakeups: count('voluntary') };
}
