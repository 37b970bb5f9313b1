// Signals (issue 13.7, partial): SIGUSR1 to `npm start` flushes the buffers as
// Fluentd does, instead of opening Node's debugger; the process keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

test('npm start: SIGUSR1 → "force flushing buffered events", no debugger, still running; SIGTERM → exit 0', async (t) => {
  const defer = cleanup(t);
  const dev = mkdtempSync(join(tmpdir(), 'ar-signals-'));
  defer(() => rmSync(dev, { recursive: true, force: true }));
  const child = spawn(join(ROOT, 'node_modules/.bin/node'), ['scripts/quickstart.ts'], {
    cwd: ROOT, env: { PATH: '/usr/bin:/bin', AUDITRELAY_DEV: dev, AUDITRELAY_PORT: '0', AUDITRELAY_S3_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((res) => child.once('close', (code) => res(code)));
  defer(async () => { if (child.exitCode === null) { child.kill('SIGKILL'); await exited; } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const until = async (cond: () => boolean, what: string) => {
    for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(cond(), `${what}\nstdout: ${out}\nstderr: ${err}`);
  };
  await until(() => err.includes('auditrelay is listening'), 'quickstart did not start');
  child.kill('SIGUSR1');
  await until(() => out.includes('force flushing buffered events'), 'SIGUSR1 did not flush');
  assert.doesNotMatch(err, /Debugger listening/);
  assert.equal(child.exitCode, null, 'still running after SIGUSR1');
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
