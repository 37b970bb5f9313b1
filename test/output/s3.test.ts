// out_s3 against a real s3rver over HTTP: key layout, object bytes and
// headers (docs/compatibility.md O5), params and start-up checks (§9).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { startS3 } from '../support/s3.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { newS3Output, seedMatch, tempDir } from '../support/s3-plugin.ts';
import { Strftime } from '../../src/time/strftime.ts';
import { localZone } from '../../src/time/zone.ts';

const BUCKET = 'audit';
// ?time=1700000000 → its 60 s timekey (O5: teleport/logs20231114221300_0.gz under TZ=UTC).
const TIMEKEY = 1700000000 - (1700000000 % 60);
const LINES = ['{"message":"hello","n":1,"time":null}\n', '{"message":"a","i":1,"time":null}\n', '{"message":"b","i":2,"time":null}\n'];

/** O5: the slice is printed in the process zone, so expectations follow TZ. */
function slice(format: string, timekey = TIMEKEY): string {
  return new Strftime(format).format(timekey, 0, localZone());
}

async function setup(t: import('node:test').TestContext, buckets = [BUCKET]) {
  const s3 = await startS3(buckets);
  const tmp = await tempDir('ar-s3-chunks-');
  t.after(async () => {
    await s3.close();
    await tmp.remove();
  });
  return { s3, dir: tmp.dir };
}

test('seed config: key layout, gzip body, content type, storage class, no metadata (O5)', async (t) => {
  const { s3, dir } = await setup(t);
  const { output, logs } = newS3Output(seedMatch(s3.endpoint, BUCKET, 'time_slice_format %Y%m%d%H%M%S'));
  await output.start();
  t.after(() => output.stop());

  const first = await DiskChunk.create(dir, { timekey: TIMEKEY }, LINES);
  await output.write(first);
  const second = await DiskChunk.create(dir, { timekey: TIMEKEY }, ['{"x":1}\n']);
  await output.write(second);

  const k0 = `teleport/logs${slice('%Y%m%d%H%M%S')}_0.gz`;
  const k1 = `teleport/logs${slice('%Y%m%d%H%M%S')}_1.gz`;
  assert.deepEqual(await s3.listKeys(BUCKET), [k0, k1]);
  const obj = await s3.getObject(BUCKET, k0);
  assert.equal(obj.contentType, 'application/x-gzip');
  assert.equal(obj.contentEncoding, undefined);
  assert.equal(obj.storageClass, 'STANDARD');
  assert.deepEqual(obj.metadata, {});
  // One gzip member, no file name, OS unix; mtime 0 so retries are byte-identical.
  assert.deepEqual([...obj.body.subarray(0, 10)], [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03]);
  assert.equal(gunzipSync(obj.body).toString(), LINES.join(''));
  // The key was persisted in the chunk before the upload.
  assert.equal(first.storedAttributes().s3_key, k0);
  assert.equal(second.storedAttributes().s3_key, k1);

  const warnings = logs.filter((l) => l.level === 40).map((l) => l.msg);
  assert.ok(warnings.some((m) => m.includes("'force_path_style' parameter is deprecated: S3 will drop path style API in 2020: See https://aws.amazon.com/blogs/aws/amazon-s3-path-deprecation-plan-the-rest-of-the-story/")));
  assert.ok(warnings.includes('The default value of s3_object_key_format will use ${chunk_id} instead of %{index} to avoid object conflict in v2'));
});

test('start-up requests: ListObjects v1 on a non-empty bucket, then HeadBucket', async (t) => {
  const { s3, dir } = await setup(t);
  const a = newS3Output(seedMatch(s3.endpoint, BUCKET));
  await a.output.start();
  await a.output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, LINES));
  await a.output.stop();
  // A second start against the now non-empty bucket (s3rver fails ListObjectsV2 max-keys=1 there, O5).
  const b = newS3Output(seedMatch(s3.endpoint, BUCKET));
  await b.output.start();
  await b.output.stop();
});

for (const c of [
  { name: 'timekey 60, no time_slice_format → %Y%m%d%H%M', buffer: 'timekey 60', format: '%Y%m%d%H%M' },
  { name: 'timekey 30s → %Y%m%d%H%M%S', buffer: 'timekey 30s', format: '%Y%m%d%H%M%S' },
  { name: 'timekey 1h → %Y%m%d%H', buffer: 'timekey 1h', format: '%Y%m%d%H' },
  { name: 'no timekey (default 1d) → %Y%m%d', buffer: '', format: '%Y%m%d' },
]) {
  test(`time_slice_format derived: ${c.name}`, async (t) => {
    const { s3, dir } = await setup(t);
    const { output } = newS3Output(seedMatch(s3.endpoint, BUCKET, '', c.buffer));
    await output.start();
    t.after(() => output.stop());
    await output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, LINES));
    assert.deepEqual(await s3.listKeys(BUCKET), [`teleport/logs${slice(c.format)}_0.gz`]);
  });
}

for (const c of [
  { storeAs: 'json', ext: 'json', type: 'application/json' },
  { storeAs: 'text', ext: 'txt', type: 'text/plain' },
]) {
  test(`store_as ${c.storeAs}: .${c.ext}, ${c.type}, raw body`, async (t) => {
    const { s3, dir } = await setup(t);
    const { output } = newS3Output(seedMatch(s3.endpoint, BUCKET, `store_as ${c.storeAs}\n  time_slice_format %Y%m%d%H%M%S`));
    await output.start();
    t.after(() => output.stop());
    await output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, LINES));
    const key = `teleport/logs${slice('%Y%m%d%H%M%S')}_0.${c.ext}`;
    assert.deepEqual(await s3.listKeys(BUCKET), [key]);
    const obj = await s3.getObject(BUCKET, key);
    assert.equal(obj.contentType, c.type);
    assert.equal(obj.body.toString(), LINES.join(''));
  });
}

test('placeholders: strftime + ${tag} in path, ${chunk_id}, %{hex_random}, storage_class', async (t) => {
  const { s3, dir } = await setup(t);
  const conf = seedMatch(s3.endpoint, BUCKET, '', 'timekey 60')
    .replace('path teleport/logs', 'path logs/${tag}/%Y/%m/%d/')
    .replace('<buffer>', '<buffer tag,time>')
    .replace('force_path_style true', 'force_path_style true\n  s3_object_key_format %{path}%{hex_random}-${chunk_id}-%{index}.%{file_extension}\n  storage_class STANDARD_IA');
  const { output, logs } = newS3Output(conf);
  await output.start();
  t.after(() => output.stop());
  const chunk = await DiskChunk.create(dir, { timekey: TIMEKEY, tag: 'test.log' }, LINES);
  await output.write(chunk);
  const reversed = [...chunk.idHex].reverse().join('').slice(0, 4);
  const key = `logs/test.log/${slice('%Y/%m/%d')}/${reversed}-${chunk.idHex}-0.gz`;
  assert.deepEqual(await s3.listKeys(BUCKET), [key]);
  assert.equal((await s3.getObject(BUCKET, key)).storageClass, 'STANDARD_IA');
  assert.ok(!logs.some((l) => l.msg.startsWith('The default value of s3_object_key_format')));
});

test('%{hostname} is replaced at configure time with its warning', async (t) => {
  const { s3, dir } = await setup(t);
  const { output, logs } = newS3Output(seedMatch(s3.endpoint, BUCKET, 's3_object_key_format %{path}/%{hostname}/%{index}.%{file_extension}'));
  await output.start();
  t.after(() => output.stop());
  await output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, LINES));
  assert.deepEqual(await s3.listKeys(BUCKET), ['teleport/logs/test-host/0.gz']);
  assert.ok(logs.some((l) => l.level === 40 && l.msg === '%{hostname} will be removed in the future. Use "#{Socket.gethostname}" instead'));
});

for (const c of [
  { extra: 'store_as lzo', code: 'AR_CONF_UNSUPPORTED', text: /use gzip \(default\), json or text/ },
  { extra: 'store_as zstd', code: 'AR_CONF_UNSUPPORTED', text: /zstd/ },
  { extra: 'store_as parquet', code: 'AR_CONF_UNSUPPORTED', text: /parquet/ },
  { extra: 's3_object_key_format %{path}%{uuid}.gz', code: 'AR_CONF_BAD_VALUE', text: /%\{uuid\} placeholder in s3_object_key_format is removed/ },
  { extra: 's3_object_key_format %{path}%{uuid:random}.gz', code: 'AR_CONF_BAD_VALUE', text: /%\{uuid:random\} placeholder/ },
  { extra: 'index_format %5d', code: 'AR_CONF_BAD_VALUE', text: /index_format parameter should follow/ },
  { extra: 'hex_random_length 17', code: 'AR_CONF_BAD_VALUE', text: /less than or equal to 16/ },
  { extra: '<assume_role_credentials>\n  role_arn x\n  role_session_name s\n  sts_http_proxy http://p\n  </assume_role_credentials>', code: 'AR_CONF_UNSUPPORTED', text: /sts_http_proxy/ },
  // Without keys: static keys win over these sections (out_s3.rb setup_credentials order).
  { extra: '<instance_profile_credentials>\n  ip_address 10.0.0.1\n  </instance_profile_credentials>', code: 'AR_CONF_UNSUPPORTED', text: /AWS_EC2_METADATA_SERVICE_ENDPOINT/, noKeys: true },
  { extra: '<web_identity_credentials>\n  role_arn x\n  </web_identity_credentials>', code: 'AR_CONF_MISSING', text: /role_session_name/, noKeys: true },
  { extra: 'aws_credential_process /bin/creds', code: 'AR_CONF_UNSUPPORTED', text: /credential_process/, noKeys: true },
]) {
  test(`configure refuses: ${c.extra.split('\n')[0]}`, () => {
    let conf = seedMatch('http://127.0.0.1:9', BUCKET, c.extra);
    if (c.noKeys) conf = conf.replace(/aws_(key_id|sec_key) S3RVER\n/g, '');
    assert.throws(() => newS3Output(conf), (err: Error & { code?: string }) => {
      assert.equal(err.code, c.code);
      assert.match(err.message, c.text);
      return true;
    });
  });
}

test('configure refuses an AWS endpoint in s3_endpoint', () => {
  assert.throws(() => newS3Output(seedMatch('https://s3.us-west-2.amazonaws.com', BUCKET)), { code: 'AR_CONF_BAD_VALUE' });
  // VPC endpoints and FIPS endpoints are allowed (out_s3.rb reject_s3_endpoint?).
  newS3Output(seedMatch('https://bucket.vpce-1a2b.s3.us-west-2.vpce.amazonaws.com', BUCKET));
  newS3Output(seedMatch('https://s3-fips.us-west-2.amazonaws.com', BUCKET));
});

test('unknown store_as falls back to text with out_s3 warning', () => {
  const { output, logs } = newS3Output(seedMatch('http://127.0.0.1:9', BUCKET, 'store_as bzip9'));
  assert.equal(output.storeAs.name, 'text');
  assert.ok(logs.some((l) => l.level === 40 && l.msg.startsWith("'bzip9' not supported. Use 'text' instead")));
});

test('credential sections map to providers (no network at configure)', () => {
  for (const c of [
    { extra: '', source: 'aws_key_id' },
    { extra: '<assume_role_credentials>\n  role_arn arn:aws:iam::1:role/r\n  role_session_name s\n  </assume_role_credentials>', source: 'assume_role_credentials' },
  ]) {
    const { output, logs } = newS3Output(seedMatch('http://127.0.0.1:9', BUCKET, c.extra));
    assert.ok(output);
    assert.ok(!logs.some((l) => l.level >= 50));
  }
  const noKeys = seedMatch('http://127.0.0.1:9', BUCKET).replace(/aws_(key_id|sec_key) S3RVER\n/g, '');
  for (const extra of [
    '<web_identity_credentials>\n  role_arn arn:aws:iam::1:role/r\n  role_session_name s\n  web_identity_token_file /tmp/t\n  </web_identity_credentials>',
    '<instance_profile_credentials>\n  retries 2\n  http_open_timeout 1.5\n  </instance_profile_credentials>',
    '<shared_credentials>\n  profile_name p\n  </shared_credentials>',
    'aws_profile p',
    '',
  ]) {
    assert.ok(newS3Output(noKeys.replace('path teleport/logs', `path teleport/logs\n  ${extra}`)).output);
  }
});

test('missing bucket: auto_create_bucket true creates it with the out_s3 log line', async (t) => {
  const { s3, dir } = await setup(t, []);
  const { output, logs } = newS3Output(seedMatch(s3.endpoint, 'fresh'));
  await output.start();
  t.after(() => output.stop());
  assert.ok(logs.some((l) => l.level === 30 && l.msg === `Creating bucket fresh on ${s3.endpoint}`));
  await output.write(await DiskChunk.create(dir, { timekey: TIMEKEY }, LINES));
  assert.equal((await s3.listKeys('fresh')).length, 1);
});

test('missing bucket: auto_create_bucket false fails start', async (t) => {
  const { s3 } = await setup(t, []);
  const { output } = newS3Output(seedMatch(s3.endpoint, 'absent', 'auto_create_bucket false'));
  t.after(() => output.stop());
  await assert.rejects(output.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'AR_S3_NO_BUCKET');
    assert.match(err.message, /The specified bucket does not exist: bucket = absent/);
    return true;
  });
});

test('unreachable endpoint: the API check says connection refused, not credentials (s3-startup.test.ts has the rest)', async (t) => {
  const { output } = newS3Output(seedMatch('http://127.0.0.1:9', BUCKET));
  t.after(() => output.stop());
  await assert.rejects(output.start(), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'AR_S3_REFUSED');
    assert.match(err.message, /^out_s3: ListObjects to http:\/\/127\.0\.0\.1:9 failed: connection refused/);
    return true;
  });
});

test('write before start is refused', async (t) => {
  const tmp = await tempDir('ar-s3-chunks-');
  t.after(() => tmp.remove());
  const { output } = newS3Output(seedMatch('http://127.0.0.1:9', BUCKET));
  await assert.rejects(output.write(await DiskChunk.create(tmp.dir, { timekey: TIMEKEY }, LINES)), { code: 'AR_S3_NOT_STARTED' });
});

test('bufferDefaults: chunk key time, timekey 1d (out_s3.rb config_section :buffer)', () => {
  const { output } = newS3Output(seedMatch('http://127.0.0.1:9', BUCKET));
  assert.deepEqual(output.bufferDefaults, { chunkKeys: ['time'], timekey: 86400 });
});
