import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startEmbeddedS3 } from '../../src/dev/embedded-s3.ts';
import { DiskChunk } from '../support/disk-chunk.ts';
import { newS3Output, seedMatch, tempDir } from '../support/s3-plugin.ts';

test('embedded S3: bucket ready under dir, the seed out_s3 uploads into it', async (t) => {
  const tmp = await tempDir('ar-embedded-');
  t.after(() => tmp.remove());
  const s3 = await startEmbeddedS3({ dir: join(tmp.dir, '.dev/s3'), bucket: 'teleport-events' });
  t.after(() => s3.close());
  assert.match(s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.ok(existsSync(s3.bucketDir));
  const { output, logs } = newS3Output(seedMatch(s3.endpoint, s3.bucket, 'time_slice_format %Y%m%d%H%M%S'));
  await output.start();
  t.after(() => output.stop());
  assert.ok(!logs.some((l) => l.msg.startsWith('Creating bucket')));
  await output.write(await DiskChunk.create(tmp.dir, { timekey: 1699999980 }, ['{"a":1}\n']));
  const prefix = join(s3.bucketDir, 'teleport');
  assert.ok(existsSync(prefix), 'object stored under the bucket directory');
});
