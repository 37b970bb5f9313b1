// Issue 5 acceptance: kill -9 the receiver (a real `bin/auditrelay` child)
// in the middle of a load, restart it on the same buffer path: every event
// that got a 2xx is in S3 exactly once (counted by `uid`), none twice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { makeCerts } from '../support/certs.ts';
import { allLines, MtlsClient, REPO_ROOT, S3Store, seedConf, tally, waitFor } from './harness.ts';

interface Child {
  proc: ChildProcess;
  port: number;
  lines: string[];
  exited: Promise<unknown>;
}

/** Starts `bin/auditrelay -c conf` and resolves once it listens (port from its "listening http" log line). */
async function startChild(confPath: string): Promise<Child> {
  const proc = spawn(join(REPO_ROOT, 'bin/auditrelay'), ['-c', confPath], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const exited = new Promise((resolve) => proc.once('exit', resolve));
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
  return { proc, port, lines, exited };
}

test('kill -9 mid-load, restart on the same buffer: every acknowledged event in S3 exactly once', async (t) => {
  const certs = await makeCerts();
  const s3 = new S3Store();
  const dir = await mkdtemp(join(tmpdir(), 'ar-e2e-kill-'));
  const children: Child[] = [];
  t.after(async () => {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exited));
    await s3.remove();
    await rm(dir, { recursive: true, force: true });
    await rm(certs.dir, { recursive: true, force: true });
  });
  await s3.start();
  const bufferPath = join(dir, 'buffer', 's3-events');
  const confPath = join(dir, 'fluent.conf');
  // A 2 s timekey keeps chunks closing (and uploading) all through the load.
  await writeFile(confPath, seedConf({
    certs, endpoint: s3.endpoint, bufferPath, timekey: 2,
    bufferExtra: 'flush_thread_interval 0.2\nflush_thread_burst_interval 0.1',
  }));

  const first = await startChild(confPath);
  children.push(first);
  const client = new MtlsClient(first.port, certs, 4);
  t.after(() => client.close());
  const acked = new Set<string>();
  const sent = new Set<string>();
  let failures = 0;
  let next = 0;
  let killed = false;
  const sender = async (): Promise<void> => {
    while (!killed || failures === 0) {
      const uid = `uid-${next++}`;
      sent.add(uid);
      try {
        const a = await client.post('test.log', JSON.stringify({ event: 'session.command', code: 'T4000I', uid, user: 'alice' }));
        if (a.status >= 200 && a.status < 300) acked.add(uid);
      } catch {
        failures += 1;
        return; // the receiver is gone
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const loadStarted = Date.now();
  const senders = [sender(), sender(), sender(), sender()];
  // Kill once uploads have happened and more events are staged.
  await waitFor('a first upload under load', async () => ((await s3.objects()).size > 0 && Date.now() - loadStarted > 2500 ? true : undefined), 15_000, 100);
  first.proc.kill('SIGKILL');
  killed = true;
  await first.exited;
  await Promise.all(senders);
  const beforeRestart = allLines(await s3.objects()).length;
  const leftOnDisk = (await readdir(bufferPath)).filter((f) => f.endsWith('.log')).length;

  const restartedAt = Date.now();
  const second = await startChild(confPath);
  children.push(second);
  const uidsInS3 = async (): Promise<Map<string, number>> =>
    tally(allLines(await s3.objects()).map((l) => (JSON.parse(l) as { uid: string }).uid));
  // Drained = every chunk file gone from the buffer directory.
  await waitFor('the resumed chunks uploaded', async () => ((await readdir(bufferPath)).length === 0 ? true : undefined), 20_000, 100)
    .catch(async (err: Error) => {
      throw new Error(`${err.message}; left in ${bufferPath}: ${(await readdir(bufferPath)).join(' ')}\n` +
        `after restart:\n${second.lines.join('\n')}`);
    });
  const counts = await uidsInS3();
  const drainedMs = Date.now() - restartedAt;
  t.diagnostic(`sent ${sent.size}, acknowledged ${acked.size}, in S3 before restart ${beforeRestart} lines, ` +
    `${leftOnDisk} chunk files left by the kill, drained ${drainedMs} ms after restart, in S3 ${counts.size} uids`);
  assert.ok(acked.size >= 50, `only ${acked.size} events acknowledged before the kill`);
  assert.ok(leftOnDisk > 0, 'the kill left no chunk behind: nothing was tested');
  const missing = [...acked].filter((u) => !counts.has(u));
  assert.deepEqual(missing, [], 'acknowledged events missing from S3');
  const twice = [...counts].filter(([, n]) => n > 1);
  assert.deepEqual(twice, [], 'events stored more than once');
  for (const uid of counts.keys()) assert.ok(sent.has(uid), `unknown uid ${uid}`);
});
