// <secondary> end to end: out_s3 (real s3rver, closed so every PUT fails) with
// retry_max_times 1 hands the chunk to its <secondary> once the retries run out,
// and the dump holds the records as out_s3 formatted them. Without a secondary
// the queue is dropped with Fluentd's "Hit limit for retries" line. An unrecoverable
// error skips the retries and goes to the secondary at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startS3, type TestS3 } from '../support/s3.ts';
import { cleanup } from '../support/cleanup.ts';
import { captureContext, matchElement, tempDir, type CapturedLog } from '../support/s3-plugin.ts';
import { buffered } from '../../src/buffer/buffered-plugin.ts';
import { S3Output } from '../../src/output/s3.ts';
import { EventTime } from '../../src/time/event-time.ts';
import type { BufferedOutput } from '../../src/buffer/buffered-output.ts';

const BUCKET = 'audit';
const T = 1700000000; // 2023-11-14T22:13:20Z
const DROPPED = 'Hit limit for retries. dropping all chunks in the buffer queue.';

interface Shape {
  /** Close s3rver after start so every upload fails (retryable). */
  readonly closeS3?: boolean;
  readonly tag?: string;
  readonly bufferArg?: string;
  readonly extra?: string;
}

function conf(endpoint: string, bufferDir: string, secondary: string, shape: Shape): string {
  return `<match test.log>
  @type s3
  @id s3_out
  aws_key_id S3RVER
  aws_sec_key S3RVER
  s3_bucket ${BUCKET}
  s3_region us-west-2
  s3_endpoint ${endpoint}
  force_path_style true
  path logs/
  ${shape.extra ?? ''}
  <buffer ${shape.bufferArg ?? ''}>
    @type file
    path ${bufferDir}
    timekey 60
    timekey_wait 0
    timekey_use_utc true
    retry_max_times 1
    retry_wait 0.2
    retry_randomize false
    flush_thread_interval 0.05
    flush_thread_burst_interval 0.01
  </buffer>
  <format>
    @type json
  </format>
${secondary}
</match>
`;
}

interface World {
  output: BufferedOutput;
  logs: CapturedLog[];
  dir: string;
}

/** out_s3 over a real s3rver that is closed after start, so every upload fails. */
async function failingS3(t: import('node:test').TestContext, secondary: (dir: string) => string, shape: Shape = { closeS3: true }): Promise<World & { s3: TestS3 }> {
  const defer = cleanup(t);
  const tmp = await tempDir('ar-secondary-');
  defer(() => tmp.remove());
  const s3 = await startS3([BUCKET]);
  let closed = false;
  defer(() => (closed ? undefined : s3.close()));
  // Where the file buffer evacuates a dropped queue (Fluentd's DEFAULT_BACKUP_DIR override).
  const before = process.env.FLUENT_BACKUP_DIR;
  process.env.FLUENT_BACKUP_DIR = join(tmp.dir, 'backup');
  defer(() => {
    if (before === undefined) delete process.env.FLUENT_BACKUP_DIR;
    else process.env.FLUENT_BACKUP_DIR = before;
  });
  const { ctx, logs } = captureContext();
  const output = new (buffered(S3Output))(matchElement(conf(s3.endpoint, join(tmp.dir, 'buffer'), secondary(tmp.dir), shape)), ctx);
  await output.start();
  defer(() => output.stop());
  if (shape.closeS3 === true) {
    await s3.close();
    closed = true;
  }
  await output.emit(shape.tag ?? 'test.log', [
    { time: new EventTime(T), record: { event: 'session.start', n: 1 } },
    { time: new EventTime(T + 1), record: { event: 'session.end', n: 2 } },
  ]);
  output.enqueueDue();
  return { output, logs, dir: tmp.dir, s3 };
}

async function until(pred: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const RECORDS = '{"event":"session.start","n":1}\n{"event":"session.end","n":2}\n';

test('<secondary> @type secondary_file: the chunk lands in directory/dump.bin.0 with its records', async (t) => {
  const w = await failingS3(t, (dir) => `  <secondary>\n    @type secondary_file\n    directory ${join(dir, 'failed')}\n  </secondary>`);
  const dump = join(w.dir, 'failed', 'dump.bin.0');
  await until(() => w.logs.some((l) => l.msg === 'retry succeeded by secondary.'));
  assert.equal(await readFile(dump, 'utf8'), RECORDS);
  assert.deepEqual(await readdir(join(w.dir, 'failed')), ['dump.bin.0']);
  assert.ok(w.logs.some((l) => l.msg === 'failed to flush the buffer.'), 'the primary failed first');
  assert.ok(!w.logs.some((l) => l.msg === DROPPED), 'nothing was dropped');
  assert.equal(w.output.counters().writeSecondaryCount, 1);
  assert.equal(w.output.counters().queueLength, 0);
});

test('secondary_file with basename ${chunk_id}, compress gzip and append: one gzip member per chunk', async (t) => {
  const w = await failingS3(t, (dir) => `  <secondary>\n    @type secondary_file\n    directory ${join(dir, 'gz')}\n    basename \${chunk_id}\n    compress gzip\n    append true\n  </secondary>`);
  await until(() => w.logs.some((l) => l.msg === 'retry succeeded by secondary.'));
  const files = await readdir(join(w.dir, 'gz'));
  assert.equal(files.length, 1);
  assert.match(files[0], /^[0-9a-f]{32}\.gz$/);
  assert.equal(gunzipSync(await readFile(join(w.dir, 'gz', files[0]))).toString(), RECORDS);
});

test('<secondary> @type file: the chunk lands in its path with the primary\'s timekey', async (t) => {
  const w = await failingS3(t, (dir) => `  <secondary>\n    @type file\n    path ${join(dir, 'out', 'failed')}\n  </secondary>`);
  await until(() => w.logs.some((l) => l.msg === 'retry succeeded by secondary.'));
  assert.deepEqual(await readdir(join(w.dir, 'out')), ['failed.202311142213_0.log']);
  assert.equal(await readFile(join(w.dir, 'out', 'failed.202311142213_0.log'), 'utf8'), RECORDS);
  assert.ok(w.logs.some((l) => l.msg === 'Use different plugin for secondary. Check the plugin works with primary like secondary_file'));
});

test('an unrecoverable error (tag escaping the key prefix) skips retries and goes to the secondary at once', async (t) => {
  const w = await failingS3(t, (dir) => `  <secondary>\n    @type secondary_file\n    directory ${join(dir, 'failed')}\n  </secondary>`, {
    tag: '../escape', bufferArg: 'tag,time', extra: 's3_object_key_format %{path}${tag}/%{time_slice}_%{index}.%{file_extension}',
  });
  const dump = join(w.dir, 'failed', 'dump.bin.0');
  await until(() => w.output.counters().flushedRecords === 2); // counted once the secondary's write returned
  assert.equal(await readFile(dump, 'utf8'), RECORDS);
  assert.ok(w.logs.some((l) => l.msg === 'got unrecoverable error in primary. Skip retry and flush chunk to secondary'));
  assert.ok(!w.logs.some((l) => l.msg === 'failed to flush the buffer.'), 'no retry');
  assert.deepEqual(await w.s3.listKeys(BUCKET), []);
});

test('no <secondary>: after retry_max_times the queue is dropped with Fluentd\'s error line', async (t) => {
  const w = await failingS3(t, () => '');
  // The error line comes first, then the queue is evacuated and cleared.
  await until(() => w.logs.some((l) => l.msg === 'buffer queue cleared'));
  const line = w.logs.find((l) => l.msg === DROPPED) as CapturedLog & { retry_times: number; records: number; level: number };
  assert.equal(line.level, 50, 'logged at error');
  assert.equal(line.retry_times, 1);
  assert.equal(line.records, 2);
  assert.equal(w.output.counters().queueLength, 0);
  assert.equal(w.output.counters().writeSecondaryCount, 0);
  // buf_file evacuates the dropped chunk under <backup>/buffer/<@id>/ before clearing the queue.
  const evacuated = join(w.dir, 'backup', 'buffer', 's3_out');
  const files = (await readdir(evacuated)).filter((f) => f.endsWith('.log'));
  assert.equal(files.length, 1);
  assert.equal(await readFile(join(evacuated, files[0]), 'utf8'), RECORDS);
  assert.deepEqual((await readdir(w.dir)).sort(), ['backup', 'buffer']);
});
