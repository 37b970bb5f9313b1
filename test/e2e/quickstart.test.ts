// Issue 5 acceptance: `npm start` (scripts/quickstart.ts) on a fresh
// directory, then the curl command it prints, run as printed with the real
// curl: an object appears where it says, holding Fluentd's line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { eventSeconds, fluentdLine, REPO_ROOT, slice, waitFor } from './harness.ts';

const run = promisify(execFile);

test('quickstart: the printed curl command stores an object under the printed directory', async (t) => {
  const dev = await mkdtemp(join(tmpdir(), 'ar-e2e-quickstart-'));
  const started = Date.now();
  const child = spawn(join(REPO_ROOT, 'node_modules/.bin/node'), ['scripts/quickstart.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, AUDITRELAY_DEV: dev, AUDITRELAY_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((res) => child.once('exit', res));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dev, { recursive: true, force: true });
  });
  let stderr = '';
  child.stdout!.resume(); // the receiver's log
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  void exited.then(() => (stderr += '\n[quickstart exited]'));

  const banner = await waitFor('the quickstart banner', () => (/Ctrl-C stops/.test(stderr) ? stderr : undefined), 30_000);
  assert.doesNotMatch(banner, /localhost:0\b/, 'the banner shows port 0, not the real port');
  const curlMatch = /^ {2}(curl [^\n]*\\\n[^\n]*\/test\.log)$/m.exec(banner);
  assert.ok(curlMatch, `no curl command in:\n${banner}`);
  const curl = curlMatch[1];
  const whereMatch = /^ {2}(\S+)\/teleport\/logs<YYYYmmddHHMMSS>_0\.gz\._S3rver_object/m.exec(banner);
  assert.ok(whereMatch, `no object location in:\n${banner}`);
  const bucketDir = resolve(REPO_ROOT, whereMatch[1]);
  const posted = /-d '([^']*)'/.exec(curl)![1];

  const sent = Date.now();
  const out = await run('sh', ['-c', `${curl} --silent --show-error --write-out '%{http_code}'`], { cwd: REPO_ROOT });
  assert.equal(out.stdout, '200', out.stderr);

  const file = await waitFor('the object file', async () => {
    const dir = join(bucketDir, 'teleport');
    const names = await readdir(dir).catch(() => [] as string[]);
    const hit = names.find((n) => /^logs\d{14}_0\.gz\._S3rver_object$/.test(n));
    return hit === undefined ? undefined : join(dir, hit);
  }, 20_000, 100);
  const appearedMs = Date.now() - sent;
  // conf/quickstart.conf: timekey 10, so the slice is the event time floored to 10 s.
  const at = eventSeconds(posted);
  assert.equal(file.slice(bucketDir.length + 1), `teleport/logs${slice(at - (at % 10))}_0.gz._S3rver_object`);
  const line = gunzipSync(await readFile(file)).toString('utf8');
  assert.equal(line, fluentdLine(posted));
  t.diagnostic(`banner after ${sent - started} ms, object ${appearedMs} ms after curl: ${file.slice(bucketDir.length + 1)}`);
});
