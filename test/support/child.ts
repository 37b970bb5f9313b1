// A real `bin/auditrelay` child process and a concurrent load against it,
// shared by test/e2e/kill-restart.test.ts and test/reliability/kill9.test.ts
// (and sigterm.test.ts): the child's stdout lines are kept, its port is read
// from its "listening http" log line.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = new URL('../../', import.meta.url).pathname;

export interface Child {
  proc: ChildProcess;
  port: number;
  /** stdout lines (the JSON log). */
  lines: string[];
  /** stderr, as one string. */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts `bin/auditrelay -c conf [...args]` and resolves once it listens. */
export async function startChild(confPath: string, args: readonly string[] = [], env: Readonly<Record<string, string>> = {}): Promise<Child> {
  const proc = spawn(join(REPO_ROOT, 'bin/auditrelay'), ['-c', confPath, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.on('line', (line) => {
      lines.push(line);
      if (line.includes('"listening http"')) resolve((JSON.parse(line) as { port: number }).port);
    });
    void exited.then((code) => reject(new Error(`auditrelay exited (${String(code)}) before listening: ${stderr}\n${lines.join('\n')}`)));
  });
  return { proc, port, lines, stderr: () => stderr, exited };
}

/** Kills a child still running and waits for its exit. */
export async function killChild(c: Child): Promise<void> {
  if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
  await c.exited;
}

export interface Poster {
  post(tag: string, body: string): Promise<{ status: number }>;
}

/** What a load run saw: uids sent, uids that got a 2xx, answers that were not 2xx. */
export interface LoadTally {
  sent: Set<string>;
  acked: Set<string>;
  refused: number;
}

export function newTally(): LoadTally {
  return { sent: new Set(), acked: new Set(), refused: 0 };
}

/**
 * `senders` concurrent loops posting one Teleport-like event each (unique `uid`,
 * numbered from `prefix`) every `pauseMs`, until a request fails at the
 * transport level (the receiver is gone) or `stop()` returns true.
 */
export function runLoad(client: Poster, tally: LoadTally, prefix: string, opts: { senders?: number; pauseMs?: number; stop?: () => boolean } = {}): Promise<void> {
  let next = 0;
  const sender = async (): Promise<void> => {
    while (!(opts.stop?.() ?? false)) {
      const uid = `${prefix}-${next++}`;
      tally.sent.add(uid);
      try {
        const a = await client.post('test.log', JSON.stringify({ event: 'session.command', code: 'T4000I', uid, user: 'alice' }));
        if (a.status >= 200 && a.status < 300) tally.acked.add(uid);
        else tally.refused += 1;
      } catch {
        return; // the receiver is gone
      }
      await new Promise((r) => setTimeout(r, opts.pauseMs ?? 20));
    }
  };
  return Promise.all(Array.from({ length: opts.senders ?? 4 }, sender)).then(() => undefined);
}
