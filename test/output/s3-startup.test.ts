// Issue 13 defect 4: out_s3's start-up checks say what failed (DNS, refused,
// TLS, 403 with the call and IAM action, no such bucket) and how to fix it,
// against real servers: s3rver, a stopped port, a .invalid host, an HTTPS
// server with an untrusted certificate, and a tiny HTTP server answering 403.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server } from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { newS3Output, seedMatch, tempDir } from '../support/s3-plugin.ts';
import { startS3 } from '../support/s3.ts';
import { makeCerts } from '../support/certs.ts';

const BUCKET = 'teleport-audit';

type Expected = { code: string; message: RegExp };

async function assertStartFails(t: TestContext, conf: string, expected: Expected): Promise<string> {
  const { output } = newS3Output(conf);
  t.after(() => output.stop());
  let message = '';
  await assert.rejects(output.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, expected.code, err.message);
    assert.match(err.message, expected.message);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    message = err.message;
    return true;
  });
  return message;
}

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound once, then closed. */
async function stoppedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const DENIED = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>';

/** Answers like S3 to a principal whose policy lacks the call: 403 AccessDenied (HEAD: no body). */
function s3Denying(deny: (req: IncomingMessage) => boolean): Server {
  return createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (!deny(req)) {
      res.writeHead(req.method === 'HEAD' ? 404 : 200, { 'content-type': 'application/xml' });
      res.end();
      return;
    }
    res.writeHead(403, { 'content-type': 'application/xml' });
    res.end(req.method === 'HEAD' ? undefined : DENIED);
  }) as unknown as Server;
}

test('refused: a stopped endpoint names ECONNREFUSED host:port and s3_endpoint, not the credentials', async (t) => {
  const port = await stoppedPort();
  const msg = await assertStartFails(t, seedMatch(`http://127.0.0.1:${port}`, BUCKET), {
    code: 'AR_S3_REFUSED', message: new RegExp(`ListObjects to http://127\\.0\\.0\\.1:${port} failed: connection refused \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); .*fix s3_endpoint \\(fluent\\.conf:7\\)`),
  });
  assert.doesNotMatch(msg, /credentials/);
});

test('refused with check_apikey_on_start false: the bucket check says the same, no raw stack', async (t) => {
  const port = await stoppedPort();
  await assertStartFails(t, seedMatch(`http://127.0.0.1:${port}`, BUCKET, 'check_apikey_on_start false'), {
    code: 'AR_S3_REFUSED', message: /^out_s3: HeadBucket to .* connection refused \(ECONNREFUSED 127\.0\.0\.1:\d+\)/,
  });
});

test('DNS: a host that does not resolve is named', async (t) => {
  await assertStartFails(t, seedMatch('http://s3.auditrelay-test.invalid:9000', BUCKET), {
    code: 'AR_S3_DNS', message: /the host name s3\.auditrelay-test\.invalid does not resolve \(DNS (ENOTFOUND|EAI_AGAIN)\); fix s3_endpoint \(fluent\.conf:7\)/,
  });
});

test('TLS: an endpoint with an untrusted certificate says TLS and how to trust it', async (t) => {
  const certs = await makeCerts();
  t.after(() => rmSync(certs.dir, { recursive: true, force: true }));
  const server = createHttpsServer({
    cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), passphrase: certs.passphrase,
  }, (_req, res) => res.end()) as unknown as Server;
  const port = await listen(t, server);
  await assertStartFails(t, seedMatch(`https://127.0.0.1:${port}`, BUCKET), {
    code: 'AR_S3_TLS', message: /ListObjects to https:\/\/127\.0\.0\.1:\d+ failed: TLS error .*NODE_EXTRA_CA_CERTS.*ssl_verify_peer false/,
  });
});

test('403 on ListObjects names the call and s3:ListBucket', async (t) => {
  const port = await listen(t, s3Denying(() => true));
  await assertStartFails(t, seedMatch(`http://127.0.0.1:${port}`, BUCKET), {
    code: 'AR_S3_FORBIDDEN', message: /^out_s3: ListObjects on bucket teleport-audit was denied \(403 AccessDenied\); grant s3:ListBucket on arn:aws:s3:::teleport-audit .*check_apikey_on_start false/,
  });
});

test('403 on HeadBucket (check_apikey_on_start false) names HeadBucket and check_bucket', async (t) => {
  const port = await listen(t, s3Denying(() => true));
  await assertStartFails(t, seedMatch(`http://127.0.0.1:${port}`, BUCKET, 'check_apikey_on_start false'), {
    code: 'AR_S3_FORBIDDEN', message: /HeadBucket on bucket teleport-audit was denied \(403 .*\); grant s3:ListBucket .*check_bucket false/,
  });
});

test('403 on CreateBucket (bucket missing) names s3:CreateBucket', async (t) => {
  const port = await listen(t, s3Denying((req) => req.method === 'PUT'));
  await assertStartFails(t, seedMatch(`http://127.0.0.1:${port}`, BUCKET, 'check_apikey_on_start false'), {
    code: 'AR_S3_FORBIDDEN', message: /CreateBucket on bucket teleport-audit was denied \(403 AccessDenied\); grant s3:CreateBucket .*auto_create_bucket false/,
  });
});

test('no such bucket with auto_create_bucket false: names the bucket, its line and the fixes', async (t) => {
  const s3 = await startS3([]);
  t.after(() => s3.close());
  await assertStartFails(t, seedMatch(s3.endpoint, 'absent', 'auto_create_bucket false'), {
    code: 'AR_S3_NO_BUCKET', message: /The specified bucket does not exist: bucket = absent \(fluent\.conf:5\); create it, fix s3_bucket, or remove 'auto_create_bucket false' \(fluent\.conf:10\)/,
  });
});

test('bin/auditrelay: a refused S3 endpoint at start is one stderr line and exit 1', async (t) => {
  const tmp = await tempDir('ar-s3-start-');
  t.after(() => tmp.remove());
  const port = await stoppedPort();
  const conf = join(tmp.dir, 'fluent.conf');
  await writeFile(conf, seedMatch(`http://127.0.0.1:${port}`, BUCKET).replace('/var/log/fluent/buffer/s3-events', join(tmp.dir, 'buffer')));
  const bin = new URL('../../bin/auditrelay', import.meta.url).pathname;
  const r = await promisify(execFile)(bin, ['-q', '-c', conf], { env: { PATH: '/usr/bin:/bin' } }).then(
    () => ({ code: 0, stderr: '' }),
    (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
  );
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^auditrelay: out_s3: ListObjects to http:\/\/127\.0\.0\.1:\d+ failed: connection refused .*\[AR_S3_REFUSED\]$/);
});
