// Issue 13 defect 5: `REPLACE_…` placeholders and empty s3_bucket/s3_endpoint
// fail --dry-run (file:line, exit 1); an unset "#{ENV['X']}" warns naming X
// and file:line while the value stays '' as in Fluentd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseConfigString } from '../../src/config/parser.ts';

const BIN = new URL('../../bin/auditrelay', import.meta.url).pathname;

function conf(bucket: string, endpoint: string): string {
  return `<match test.log>
  @type s3
  aws_key_id S3RVER
  aws_sec_key S3RVER
  s3_bucket ${bucket}
  s3_endpoint ${endpoint}
  force_path_style true
  <buffer>
    @type memory
  </buffer>
</match>
`;
}

async function dryRun(text: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ar-placeholders-'));
  try {
    const file = join(dir, 'fluent.conf');
    await writeFile(file, text);
    return await promisify(execFile)(BIN, ['--dry-run', '-c', file], { env: { PATH: '/usr/bin:/bin', ...env } }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('--dry-run fails on a REPLACE_ placeholder, naming file:line', async () => {
  const r = await dryRun(conf('REPLACE_s3_bucket', 'http://127.0.0.1:9'));
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /fluent\.conf:5: s3_bucket is still the placeholder 'REPLACE_s3_bucket'; replace it with the real value/);
});

test('--dry-run fails on empty s3_bucket/s3_endpoint from unset ENV, and warns naming the variable', async () => {
  const r = await dryRun(conf(`"#{ENV['AR_TEST_BUCKET']}"`, `"#{ENV['AR_TEST_ENDPOINT']}"`));
  assert.equal(r.code, 1, r.stdout);
  assert.match(r.stderr, /fluent\.conf:5: s3_bucket is empty/);
  assert.match(r.stderr, /fluent\.conf:6: s3_endpoint is empty/);
  assert.match(r.stdout, /environment variable AR_TEST_BUCKET is not set/);
  assert.match(r.stdout, /"config":"[^"]*fluent\.conf:5"/);
});

test('--dry-run passes when the variables are set', async () => {
  const r = await dryRun(conf(`"#{ENV['AR_TEST_BUCKET']}"`, `"#{ENV['AR_TEST_ENDPOINT']}"`), { AR_TEST_BUCKET: 'b', AR_TEST_ENDPOINT: 'http://127.0.0.1:9' });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /is not set/);
});

test('parser: unset ENV interpolates "" and warns with the position', () => {
  const warnings: string[] = [];
  const root = parseConfigString(`<source>\n  port "#{ENV['AR_UNSET_PORT']}"\n</source>\n`, 'f.conf', '/', { env: {}, warn: (m, p) => warnings.push(`${p.file}:${p.line} ${m}`) });
  assert.equal(root.elements[0]!.params.get('port')!.value, '');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^f\.conf:2 "#\{ENV\['AR_UNSET_PORT'\]\}" is empty: environment variable AR_UNSET_PORT is not set/);
});
