// Issue 12 guarantee "Secrets": `aws_sec_key`, `private_key_passphrase` and the
// exporter's identity file contents never appear in a log line, `--dry-run`
// output or error message — on success and on failure paths (wrong S3
// credentials, wrong passphrase, broken identity), at -vv / --debug. Fluentd
// masks secret params as `xxxxxx` in its config dump; so do we. Real
// processes (bin/auditrelay, bin/auditrelay-event-handler), real s3rver, real TLS.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts, type CertFiles } from '../support/certs.ts';
import { cleanup, type Defer } from '../support/cleanup.ts';
import { killChild, REPO_ROOT, startChild, type Child } from '../support/child.ts';
import { startS3, type TestS3 } from '../support/s3.ts';
import { BUCKET, MtlsClient, seedConf, waitFor } from '../e2e/harness.ts';
import { runCli } from '../event-handler/cli-helpers.ts';
import { makeWorld } from '../event-handler/start-helpers.ts';
import { identityText } from '../event-handler/fake-teleport/fixtures.ts';

const AWS_SECRET = `aws-SECRET-${Math.random().toString(36).slice(2)}-key`;

/** Every secret of `secrets` found in `text`, by name. */
function found(text: string, secrets: Record<string, readonly string[]>): string[] {
  return Object.entries(secrets).flatMap(([name, values]) => values.filter((v) => text.includes(v)).map((v) => `${name} (${v.slice(0, 24)}…)`));
}

function assertClean(what: string, text: string, secrets: Record<string, readonly string[]>): void {
  const leaks = found(text, secrets);
  assert.deepEqual(leaks, [], `${what} shows secrets:\n${text}`);
}

interface World {
  dir: string;
  certs: CertFiles;
  defer: Defer;
  children: Child[];
}

async function world(t: Parameters<typeof cleanup>[0]): Promise<World> {
  const defer = cleanup(t);
  const certs = await makeCerts();
  defer(() => rm(certs.dir, { recursive: true, force: true }));
  const dir = await mkdtemp(join(tmpdir(), 'ar-rel-secrets-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const children: Child[] = [];
  defer(() => Promise.all(children.map(killChild)));
  return { dir, certs, defer, children };
}

/** The seed fluent.conf with our own secret key and (optionally) another passphrase, key id, or edit. */
function writeConf(w: World, endpoint: string, passphrase = w.certs.passphrase, keyId = 'S3RVER', edit = (c: string) => c): string {
  let conf = seedConf({ certs: w.certs, endpoint, bufferPath: join(w.dir, 'buffer'), timekey: 1, bufferExtra: 'flush_thread_interval 0.1\nretry_wait 0.2' });
  conf = conf.replace(/aws_sec_key\s+S3RVER/, `aws_sec_key ${AWS_SECRET}`);
  conf = conf.replace(/aws_key_id\s+S3RVER/, `aws_key_id ${keyId}`);
  conf = conf.replace(JSON.stringify(w.certs.passphrase), JSON.stringify(passphrase));
  assert.ok(conf.includes(AWS_SECRET) && conf.includes(passphrase) && conf.includes(keyId));
  conf = edit(conf);
  const path = join(w.dir, 'fluent.conf');
  writeFileSync(path, conf);
  return path;
}

/** Runs bin/auditrelay to its end (dry runs, failing starts): exit code + stdout + stderr. */
function runReceiver(args: readonly string[]): Promise<{ code: number | null; out: string }> {
  const proc = spawn(join(REPO_ROOT, 'bin/auditrelay'), args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) => proc.once('close', (code) => {
    clearTimeout(timer);
    resolve({ code, out });
  }));
}

/** Starts the receiver at -vv, posts one event, waits for `until`, stops it with SIGTERM: every line it wrote. */
async function serveOnce(w: World, confPath: string, until: (lines: string[]) => Promise<boolean> | boolean): Promise<string> {
  const child = await startChild(confPath, ['-vv']);
  w.children.push(child);
  const client = new MtlsClient(child.port, w.certs, 1);
  try {
    const a = await client.post('test.log', JSON.stringify({ event: 'user.login', uid: 'u-1', user: 'alice' }));
    assert.equal(a.status, 200, a.body);
    await waitFor('the expected outcome', async () => ((await until(child.lines)) ? true : undefined), 20_000, 100)
      .catch((err: Error) => { throw new Error(`${err.message}\n${child.lines.join('\n')}`); });
  } finally {
    client.close();
  }
  child.proc.kill('SIGTERM');
  await child.exited;
  return `${child.lines.join('\n')}\n${child.stderr()}`;
}

function receiverSecrets(w: World, wrongPassphrase?: string): Record<string, readonly string[]> {
  return { aws_sec_key: [AWS_SECRET], private_key_passphrase: [w.certs.passphrase, ...(wrongPassphrase ? [wrongPassphrase] : [])] };
}

// s3rver checks the access key id but does not verify SigV4 signatures: any
// secret key signs for S3RVER, and a wrong key id is "wrong S3 credentials".
async function s3For(w: World): Promise<TestS3> {
  const s3 = await startS3([BUCKET]);
  w.defer(() => s3.close());
  return s3;
}

// A misspelt param (`s3_regoin`, `cert_pth`) makes -v dump its whole section
// (<match> with both keys, <transport> with the passphrase): they must be masked
// there. Both secrets also sit misplaced in the <source>'s unused <buffer>, which
// no plugin declares them for: that dump must mask them too.
const TYPOS = (w: World) => (c: string): string => c
  .replace(/(aws_sec_key .*\n)/, '$1  s3_regoin us-east-1\n')
  .replace(/(private_key_passphrase .*\n)/, '$1        cert_pth /nowhere\n')
  .replace('flush_thread_count 8\n', `flush_thread_count 8\n      aws_sec_key ${AWS_SECRET}\n      private_key_passphrase ${w.certs.passphrase}\n`);

test('receiver, success at -vv: --dry-run and a run that uploads show secrets only as xxxxxx', async (t) => {
  const w = await world(t);
  const s3 = await s3For(w);
  const confPath = writeConf(w, s3.endpoint, w.certs.passphrase, 'S3RVER', TYPOS(w));
  const dry = await runReceiver(['-c', confPath, '--dry-run', '-vv']);
  assert.equal(dry.code, 0, dry.out);
  assertClean('--dry-run -vv', dry.out, receiverSecrets(w));
  const out = await serveOnce(w, confPath, async () => (await s3.listKeys(BUCKET)).length > 0);
  assertClean('a run at -vv', out, receiverSecrets(w));
  for (const text of [dry.out, out]) {
    assert.match(text, /s3_regoin/, 'the misspelt param should be reported');
    assert.match(text, /aws_sec_key xxxxxx/, 'the -v dump of <match> should show the key masked');
    assert.match(text, /private_key_passphrase xxxxxx/, 'the -v dump of <transport> should show the passphrase masked');
    assert.match(text, /section <buffer> is not used in <source>.*\n.*the section as read:\\n<buffer>\\n.*aws_sec_key xxxxxx/, 'the unused <buffer> dump');
  }
});

test('receiver, wrong S3 credentials at -vv: the refused start, the failed uploads and retries never show the keys', async (t) => {
  const w = await world(t);
  const s3 = await s3For(w);
  const wrongId = `AKIAWRONG${Math.random().toString(36).slice(2).toUpperCase()}`;
  const secrets = { ...receiverSecrets(w), aws_key_id: [wrongId] };
  // check_apikey_on_start (the default): the start is refused.
  const refused = await runReceiver(['-c', writeConf(w, s3.endpoint, w.certs.passphrase, wrongId), '-vv']);
  assert.equal(refused.code, 1, refused.out);
  assert.match(refused.out, /InvalidAccessKeyId/);
  assertClean('a start refused for wrong S3 credentials', refused.out, secrets);
  // check_apikey_on_start false, check_bucket false: it serves, every upload fails and is retried.
  const confPath = writeConf(w, s3.endpoint, w.certs.passphrase, wrongId, (c) => c.replace(/(aws_sec_key .*\n)/, '$1  check_apikey_on_start false\n  check_bucket false\n'));
  const out = await serveOnce(w, confPath, (lines) => lines.filter((l) => /failed to flush/.test(l)).length >= 2);
  assert.deepEqual(await s3.listKeys(BUCKET), [], 'an upload with a wrong key id went through: nothing failed');
  assertClean('a run with wrong S3 credentials', out, secrets);
});

test('receiver, wrong private_key_passphrase: the refusal (run and --dry-run, -vv) never shows either passphrase', async (t) => {
  const w = await world(t);
  const s3 = await s3For(w);
  const wrong = `wrong-PASS-${Math.random().toString(36).slice(2)}`;
  const confPath = writeConf(w, s3.endpoint, wrong);
  for (const args of [['-c', confPath, '-vv'], ['-c', confPath, '--dry-run', '-vv']]) {
    const r = await runReceiver(args);
    assertClean(`auditrelay ${args.slice(2).join(' ')} with a wrong passphrase`, r.out, receiverSecrets(w, wrong));
    if (!args.includes('--dry-run')) {
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /passphrase/i, 'the refusal should name the passphrase');
    }
  }
});

test('receiver, a config error on a secret\'s line (run and --dry-run, -vv): the message names the line, not the value', async (t) => {
  const w = await world(t);
  const s3 = await s3For(w);
  const cases = [
    // a secret holding "#{" (Fluentd would run it as Ruby)
    { edit: (c: string) => c.replace(`aws_sec_key ${AWS_SECRET}`, `aws_sec_key "x#{${AWS_SECRET}}"`), code: 'AR_CONF_EMBEDDED_RUBY' },
    // a passphrase holding a double quote
    { edit: (c: string) => c.replace(JSON.stringify(w.certs.passphrase), `"ab"${w.certs.passphrase}`), code: 'AR_CONF_SYNTAX' },
  ];
  for (const c of cases) {
    const confPath = writeConf(w, s3.endpoint, w.certs.passphrase, 'S3RVER', c.edit);
    for (const extra of [[], ['--dry-run']]) {
      const r = await runReceiver(['-c', confPath, '-vv', ...extra]);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out, new RegExp(`fluent\\.conf:\\d+: .*\\[${c.code}\\]`));
      assertClean(`auditrelay ${extra.join(' ')} refusing ${c.code}`, r.out, receiverSecrets(w));
    }
  }
});

/** 40-character runs of every base64 line of the PEM blocks in `pem` (any one in the output is a leak). */
function pemPieces(pem: string): string[] {
  return pem.split('\n').filter((l) => !l.startsWith('-----') && l.length >= 40).map((l) => l.slice(0, 40));
}

test('exporter at --debug: start, --dry-run and a broken identity never show the identity file contents', async (t) => {
  const w = await makeWorld({ bulk: false, count: 5, days: 1 });
  const defer = cleanup(t);
  defer(() => rm(w.dir, { recursive: true, force: true }));
  defer(() => w.close());
  const secrets = { 'identity private key': pemPieces(w.tcerts.clientKeyPem) };
  const identityPieces = { ...secrets, 'identity certificate': pemPieces(w.tcerts.clientCertPem) };
  for (const extra of [[], ['--dry-run']]) {
    const r = await runCli(['start', '-c', w.tomlPath, '--exit-on-last-event', '--debug', ...extra], w.dir);
    assert.equal(r.code, 0, r.stderr);
    assertClean(`start --debug ${extra.join(' ')}`, r.stdout + r.stderr, identityPieces);
  }
  const original = readFileSync(w.identity, 'utf8');
  const broken = [
    // the key's body damaged: it no longer decodes
    identityText(w.tcerts.clientKeyPem.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!'), w.tcerts.clientCertPem, [w.tcerts.caPem]),
    // the certificate's body damaged
    identityText(w.tcerts.clientKeyPem, w.tcerts.clientCertPem.replace(/\n([A-Za-z0-9+/]{10})/, '\nAAAAAAAAAA'), [w.tcerts.caPem]),
    // no PEM blocks at all: the contents are the key's base64 only
    pemPieces(w.tcerts.clientKeyPem).join('\n'),
  ];
  for (const [i, text] of broken.entries()) {
    writeFileSync(w.identity, text);
    const r = await runCli(['start', '-c', w.tomlPath, '--exit-on-last-event', '--debug'], w.dir);
    assert.notEqual(r.code, 0, `broken identity ${i} was accepted`);
    assertClean(`start with broken identity ${i}`, r.stdout + r.stderr, secrets);
  }
  writeFileSync(w.identity, original);
});
