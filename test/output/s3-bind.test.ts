// out_s3 learns its <buffer> through ChunkSink.bind (as out_file does): the key
// template from the chunk keys, timekey and timekey_zone the buffer resolved.
// Real s3rver; the objects' keys are what is checked.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startS3 } from '../support/s3.ts';
import { cleanup } from '../support/cleanup.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { newS3Output, tempDir } from '../support/s3-plugin.ts';
import { Strftime } from '../../src/time/strftime.ts';
import { localZone } from '../../src/time/zone.ts';
import type { ChunkMetadata } from '../../src/plugin-api.ts';

const BUCKET = 'audit';
const T = 1700000000; // 2023-11-14T22:13:20Z

function conf(endpoint: string, bufferArg: string, bufferParams: string, extra = ''): string {
  return `<match test.log>
  @type s3
  aws_key_id S3RVER
  aws_sec_key S3RVER
  s3_bucket ${BUCKET}
  s3_region us-west-2
  s3_endpoint ${endpoint}
  force_path_style true
  path logs/
  ${extra}
  <buffer ${bufferArg}>
    @type file
    path /var/log/fluent/buffer/s3-bind
    ${bufferParams}
  </buffer>
  <format>
    @type json
  </format>
</match>
`;
}

async function keysWritten(t: import('node:test').TestContext, c: (endpoint: string) => string, chunks: readonly ChunkMetadata[]): Promise<string[]> {
  const s3 = await startS3([BUCKET]);
  const tmp = await tempDir('ar-s3-bind-');
  const { output } = newS3Output(c(s3.endpoint));
  const defer = cleanup(t);
  defer(() => tmp.remove());
  defer(() => s3.close());
  await output.start();
  defer(() => output.stop());
  for (const md of chunks) await output.write(await DiskChunk.create(tmp.dir, md, ['{"a":1}\n']));
  return s3.listKeys(BUCKET);
}

const local = (format: string, timekey: number): string => new Strftime(format).format(timekey, 0, localZone());

for (const [timekey, format] of [[60, '%Y%m%d%H%M'], [3600, '%Y%m%d%H'], [86400, '%Y%m%d']] as const) {
  test(`timekey ${timekey}: the time slice is ${format}`, async (t) => {
    const tk = T - (T % timekey);
    const keys = await keysWritten(t, (e) => conf(e, 'time', `timekey ${timekey}\n    timekey_wait 0`), [{ timekey: tk }]);
    assert.deepEqual(keys, [`logs/${local(format, tk)}_0.gz`]);
  });
}

test('timekey_zone +0900 prints the slice in that zone; timekey_use_utc alone keeps the local zone (O5)', async (t) => {
  const tk = T - (T % 3600);
  const tokyo = await keysWritten(t, (e) => conf(e, 'time', 'timekey 1h\n    timekey_zone +0900'), [{ timekey: tk }]);
  assert.deepEqual(tokyo, ['logs/2023111507_0.gz']);
  const utc = await keysWritten(t, (e) => conf(e, 'time', 'timekey 1h\n    timekey_use_utc true'), [{ timekey: tk }]);
  assert.deepEqual(utc, [`logs/${local('%Y%m%d%H', tk)}_0.gz`]);
});

test('%{index} counts up per slice, ${tag} comes from the tag chunk key', async (t) => {
  const tk = T - (T % 60);
  const keys = await keysWritten(t, (e) => conf(e, 'time,tag', 'timekey 60\n    timekey_zone +0000',
    's3_object_key_format %{path}${tag}/%{time_slice}-%{index}.%{file_extension}'),
  [{ timekey: tk, tag: 'audit.a' }, { timekey: tk, tag: 'audit.a' }, { timekey: tk, tag: 'audit.b' }]);
  assert.deepEqual(keys, ['logs/audit.a/202311142213-0.gz', 'logs/audit.a/202311142213-1.gz', 'logs/audit.b/202311142213-0.gz']);
});
