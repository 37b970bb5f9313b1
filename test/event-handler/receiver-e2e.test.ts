// End to end: the files `configure` writes drive our receiver directly. The generated
// fluent.conf is used as written except for what a test must change: the port (0), the
// /keys/ container paths, the S3 buffer path, and the S3 placeholders, replaced exactly as the
// file's own comment says for the embedded S3 store (s3rver).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './cli-helpers.ts';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanup } from '../support/cleanup.ts';
import { startReceiver } from '../../src/receiver.ts';

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverCtor = new (opts: object) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;


const RECEIVER_BIN = fileURLToPath(new URL('../../bin/auditrelay', import.meta.url));

function runReceiverCli(args: readonly string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(RECEIVER_BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function post(port: number, path: string, body: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1', // an IP SAN configure resolved from localhost
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        ...tls,
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('generated fluent.conf + client cert: POST accepted with the cert, refused without', async (t) => {
  const defer = cleanup(t);
  const dir = await mkdtemp(join(tmpdir(), 'auditrelay-e2e-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const r = await runCli(['configure', '.', '--length', '2048'], dir, 'e2e-passphrase');
  assert.equal(r.code, 0, r.stderr);

  const s3 = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: join(dir, 's3-data'),
    configureBuckets: [{ name: 'teleport-events', configs: [] }],
  });
  const { port: s3Port } = await s3.run();
  defer(() => s3.close());

  const original = await readFile(join(dir, 'fluent.conf'), 'latin1');
  const conf = original
    .replace(/^    port 8888$/m, '    port 0')
    .replaceAll('"/keys/', `"${dir}/`)
    .replace('path /var/log/fluent/buffer/s3-events', `path ${join(dir, 'buffer', 's3-events')}`)
    .replace('path /var/log/fluent/dedup/test-log', `path ${join(dir, 'dedup', 'test-log')}`)
    .replace('path /var/log/fluent/dedup/session', `path ${join(dir, 'dedup', 'session')}`)
    .replace('aws_key_id  REPLACE_aws_access_key', 'aws_key_id S3RVER')
    .replace('aws_sec_key  REPLACE_aws_secret_access_key', 'aws_sec_key S3RVER')
    .replace('s3_bucket  REPLACE_s3_bucket', 's3_bucket teleport-events')
    .replace('s3_region us-west-2', `s3_region us-east-1\n  s3_endpoint http://127.0.0.1:${s3Port}\n  force_path_style true`);
  assert.notEqual(conf, original);
  const settings = conf.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  assert.doesNotMatch(settings, /REPLACE_|port 8888|\/keys\/|\/var\/log/);
  const confPath = join(dir, 'fluent.test.conf');
  await writeFile(confPath, conf, 'latin1');
  // The generated conf (both dedup filters included) passes the receiver's --dry-run.
  const dry = await runReceiverCli(['--dry-run', '-c', confPath], dir);
  assert.equal(dry.code, 0, dry.stderr + dry.stdout);
  assert.match(conf, /<filter session\.\*\*>\n  @type dedup\n  key sid,ei\n  path [^\n]*dedup\/session\n/);

  const receiver = await startReceiver({ configPath: confPath, level: 'error' });
  defer(() => receiver.close());

  const ca = await readFile(join(dir, 'ca.crt'));
  const cert = await readFile(join(dir, 'client.crt'));
  const key = await readFile(join(dir, 'client.key'));
  const status = await post(receiver.port, '/test.log', '{"event":"test","time":"2024-11-20T10:00:00Z"}', { ca, cert, key });
  assert.equal(status, 200);
  // The generated dedup filter: the same uid twice is answered 200 twice and journaled once.
  for (let i = 0; i < 2; i++) {
    assert.equal(await post(receiver.port, '/test.log', '{"event":"user.login","uid":"e2e-uid-1","time":"2024-11-20T10:00:00Z"}', { ca, cert, key }), 200);
  }
  const journal = await readFile(join(dir, 'dedup', 'test-log', 'keys.log'), 'utf8');
  assert.equal(journal.split('\n').filter((l) => l.endsWith(' "e2e-uid-1"')).length, 1, journal);
  // The session dedup filter: sid+ei identifies a recording event; a resent one is dropped.
  const sid = '9b6ec731-0000-4000-8000-000000000001';
  for (const ei of [0, 1, 1, 2, 0]) {
    assert.equal(await post(receiver.port, `/session.${sid}.log`, JSON.stringify({ event: 'resize', sid, ei, time: '2024-11-20T10:00:00Z' }), { ca, cert, key }), 200);
  }
  const sessionKeys = (await readFile(join(dir, 'dedup', 'session', 'keys.log'), 'utf8')).split('\n').filter(Boolean).map((l) => l.slice(l.indexOf(' ') + 1));
  assert.deepEqual(sessionKeys, [0, 1, 2].map((ei) => JSON.stringify(JSON.stringify([sid, String(ei)]))));

  // Without a client certificate the TLS handshake (client_cert_auth true) must fail.
  await assert.rejects(post(receiver.port, '/test.log', '{"event":"test"}', { ca }));
  // And a certificate from another CA is refused too.
  const other = await mkdtemp(join(tmpdir(), 'auditrelay-e2e-other-'));
  defer(() => rm(other, { recursive: true, force: true }));
  assert.equal((await runCli(['configure', '.', '--length', '1024'], other, 'x')).code, 0);
  await assert.rejects(
    post(receiver.port, '/test.log', '{"event":"test"}', {
      ca,
      cert: await readFile(join(other, 'client.crt')),
      key: await readFile(join(other, 'client.key')),
    }),
  );
});
