// SIGTERM with a file buffer (issue 13.7): flush_at_shutdown defaults to false for
// `@type file`, so the open chunk stays on disk. The receiver says so, one info line
// per output naming how many events in how many chunks stay in which directory, and
// the next start uploads them (proved here: restart, SIGUSR1, the object holds them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, type Defer } from '../support/cleanup.ts';
import { startS3 } from '../support/s3.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/auditrelay');
const BUCKET = 'shutdown-bucket';
const N = 7;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

interface Running { child: ChildProcess; out: () => string; exited: Promise<number | null>; until(cond: () => boolean, what: string): Promise<void> }
function start(conf: string, defer: Defer): Running {
  const child = spawn(BIN, ['-c', conf], { cwd: ROOT, env: { PATH: '/usr/bin:/bin', TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  defer(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; } });
  return {
    child, out: () => out, exited,
    async until(cond, what) {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(cond(), `${what}\noutput:\n${out}`);
    },
  };
}

/** The info lines our shutdown note wrote (pino JSON on stdout). */
function notes(out: string): Array<{ msg: string; path?: string; chunks?: number; events?: number }> {
  return out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; level: number; path?: string })
    .filter((l) => l.level === 30 && l.path !== undefined && /at the next start|empty at shutdown/.test(l.msg));
}

test(`SIGTERM with a file buffer: exit 0, one line "${N} events in 1 chunk … stay in <path>", and the next start uploads them`, async (t) => {
  const defer = cleanup(t);
  const dir = mkdtempSync(join(tmpdir(), 'ar-shutdown-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const s3 = await startS3([BUCKET]);
  defer(() => s3.close());
  const port = await freePort();
  const buffer = join(dir, 'buffer');
  const conf = join(dir, 'fluent.conf');
  writeFileSync(conf, `<source>\n  @type http\n  port ${port}\n  bind 127.0.0.1\n</source>\n<match test.log>\n  @type s3\n` +
    `  aws_key_id S3RVER\n  aws_sec_key S3RVER\n  s3_bucket ${BUCKET}\n  s3_region us-east-1\n  s3_endpoint ${s3.endpoint}\n  force_path_style true\n` +
    `  path teleport/logs/\n  <buffer time>\n    @type file\n    path ${buffer}\n    timekey 3600\n    timekey_wait 600\n  </buffer>\n` +
    `  <format>\n    @type json\n  </format>\n</match>\n`);

  const first = start(conf, defer);
  await first.until(() => first.out().includes('fluentd worker is now running'), 'receiver did not start');
  for (let i = 0; i < N; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/test.log`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ seq: i }) });
    assert.equal(res.status, 200);
  }
  const t0 = Date.now();
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.out());
  t.diagnostic(`SIGTERM → exit in ${Date.now() - t0} ms`);
  const lines = notes(first.out());
  assert.equal(lines.length, 1, `one line for the one output:\n${first.out()}`);
  assert.equal(lines[0].msg, `${N} events in 1 chunk (1 staged, 0 queued) stay in ${buffer} (flush_at_shutdown false); they are uploaded at the next start with this path`);
  assert.deepEqual([lines[0].path, lines[0].chunks, lines[0].events], [buffer, 1, N]);
  assert.deepEqual(await s3.listKeys(BUCKET), [], 'nothing uploaded at shutdown');
  assert.equal(readdirSync(buffer).filter((f) => /^buffer\.b[0-9a-f]+\.log$/.test(f)).length, 1, 'the staged chunk is on disk');

  // The next start resumes the chunk; SIGUSR1 flushes it now instead of after timekey_wait.
  const second = start(conf, defer);
  await second.until(() => second.out().includes('fluentd worker is now running'), 'receiver did not restart');
  second.child.kill('SIGUSR1');
  let keys: string[] = [];
  for (let i = 0; i < 200 && keys.length === 0; i++) {
    keys = await s3.listKeys(BUCKET);
    if (keys.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(keys.length, 1, `the resumed chunk was uploaded as one object\n${second.out()}`);
  const body = (await s3.getObject(BUCKET, keys[0])).body;
  t.diagnostic(`uploaded ${keys[0]}`);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, second.out());
  const again = notes(second.out());
  assert.equal(again.length, 1, second.out());
  assert.equal(again[0].msg, `buffer ${buffer} is empty at shutdown; nothing is left to upload`);
  // s3 stores gzip by default: the N events are in it.
  const { gunzipSync } = await import('node:zlib');
  const text = gunzipSync(body).toString();
  assert.deepEqual(text.trim().split('\n').map((l) => (JSON.parse(l) as { seq: number }).seq), [...Array(N).keys()]);
});
