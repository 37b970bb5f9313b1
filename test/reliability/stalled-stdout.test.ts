// A reader that stops reading the receiver's stdout (a stalled `docker logs`): the log
// stream holds at most LOG_BUFFER_LIMIT bytes, drops what comes past it, the receiver keeps
// answering with flat memory, and once stdout is read again one warn line says how many
// lines were dropped. A bin/auditrelay child, plain HTTP on loopback, out_stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';
import { tempDirFor } from '../support/world.ts';
import { REPO_ROOT } from '../support/child.ts';
import { childMemory } from '../support/hostile.ts';
import { LOG_BUFFER_LIMIT } from '../../src/log.ts';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as { port: number }).port;
  s.close();
  return port;
}

function post(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/test.log', headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const rssMB = async (pid: number): Promise<number> => (await childMemory(pid)).rssMB;

test('stdout not read: the log stream drops past its limit, the receiver keeps answering with flat memory, and says how much it dropped', async (t) => {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, 'ar-stalled-stdout-');
  const port = await freePort();
  const conf = join(dir, 'fluent.conf');
  await writeFile(conf, `<source>\n  @type http\n  bind 127.0.0.1\n  port ${port}\n</source>\n<match **>\n  @type stdout\n</match>\n`);
  const child = spawn(join(REPO_ROOT, 'bin/auditrelay'), ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  defer(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
  child.stdout!.pause(); // nobody reads stdout: the pipe fills, then the log stream's buffer
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    up = await post(port, '{"warm":1}').then((s) => s === 200, () => false);
    if (!up) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(up, 'the receiver answers');
  const record = JSON.stringify({ event: 'session.start', pad: 'x'.repeat(600) });
  const batch = `[${Array(100).fill(record).join(',')}]`;
  const total = Math.ceil((2.5 * LOG_BUFFER_LIMIT) / batch.length); // ~2.5× the limit in out_stdout lines
  let peak = 0;
  for (let i = 0; i < total; i++) {
    assert.equal(await post(port, batch), 200, `batch ${i} answered`);
    if (i % 20 === 0) peak = Math.max(peak, await rssMB(child.pid!));
  }
  peak = Math.max(peak, await rssMB(child.pid!));
  // The stream's buffer is capped: what was posted (~40 MB of lines) is not all held.
  assert.ok(peak < 220, `peak RSS ${peak.toFixed(1)} MB with ${((total * batch.length) / 2 ** 20).toFixed(0)} MB posted to a stalled stdout`);
  // Read stdout again: the warn line arrives once the stream drained.
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString('latin1')));
  child.stdout!.resume();
  const end = Date.now() + 30_000;
  while (!text.includes('the log stream was not read fast enough') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  const line = text.split('\n').find((l) => l.includes('the log stream was not read fast enough'));
  assert.ok(line !== undefined, 'one warn line says lines were dropped');
  const warn = JSON.parse(line) as { level: number; dropped_writes: number; dropped_bytes: number; limit_bytes: number };
  assert.equal(warn.level, 40);
  assert.equal(warn.limit_bytes, LOG_BUFFER_LIMIT);
  assert.ok(warn.dropped_writes > 0 && warn.dropped_bytes > LOG_BUFFER_LIMIT / 2, `dropped ${warn.dropped_writes} writes, ${warn.dropped_bytes} bytes`);
  assert.equal(await post(port, '{"after":1}'), 200, 'still answering');
  t.diagnostic(`posted ${total} × 100 events (${((total * batch.length) / 2 ** 20).toFixed(0)} MB) to a stalled stdout: peak RSS ${peak.toFixed(1)} MB; dropped ${warn.dropped_writes} writes (${(warn.dropped_bytes / 2 ** 20).toFixed(1)} MB)`);
});
