import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferedOutput } from '../../src/buffer/buffered-output.ts';
import { UnrecoverableChunkError } from '../../src/plugin-api.ts';
import { decodeMeta } from '../../src/buffer/meta.ts';
import { section, context, ev, RecordingSink, tempDir, until } from './helpers.ts';

const fast = { flush_thread_interval: 0.02, flush_thread_burst_interval: 0.01 };

function make(conf: Record<string, string | number | boolean>, sink: RecordingSink, arg = 'time', opts: { backupDir?: string } = {}) {
  const ctx = context();
  const out = new BufferedOutput(section('buffer', arg, { ...fast, ...conf }), sink, ctx, {
    chunkKeys: ['time'], timekey: 86400, bufferType: 'file', pluginId: 'out1', ...opts,
  });
  return { out, ctx };
}

test('timekey grouping: events in different minutes go to different chunks', async (t) => {
  for (const c of [
    { type: 'memory', events: [60, 61, 119, 120], want: [[60, 2 + 1], [120, 1]] },
    { type: 'file', events: [0, 59, 60, 3600], want: [[0, 2], [60, 1], [3600, 1]] },
  ]) {
    const dir = await tempDir(t);
    const sink = new RecordingSink();
    const { out } = make({ '@type': c.type, path: join(dir, 'buf'), timekey: 60, timekey_use_utc: true }, sink);
    await out.start();
    await out.emit('test.log', c.events.map((s, i) => ev(s, { i })));
    await out.flushAll();
    await out.stop();
    const got = sink.delivered.map((d) => [d.metadata.timekey, d.body.split('\n').length - 1]).sort((a, b) => a[0]! - b[0]!);
    assert.deepEqual(got, c.want, c.type);
  }
});

test('enqueue rule: timekey + timekey + timekey_wait <= now', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const cur = now - (now % 60);
  for (const c of [
    { name: 'current window stays staged', time: now, wait: 0, queued: false },
    { name: 'closed window, wait not over', time: cur - 60, wait: 600, queued: false },
    { name: 'closed window, wait 0', time: cur - 60, wait: 0, queued: true },
    { name: 'old window, wait over', time: cur - 1200, wait: 600, queued: true },
  ]) {
    const dir = await tempDir(t);
    const sink = new RecordingSink(1_000_000); // never succeeds: the chunk stays visible in the queue
    const { out } = make({ path: dir, timekey: 60, timekey_wait: c.wait, timekey_use_utc: true, retry_wait: 60 }, sink);
    await out.start();
    await out.emit('t', [ev(c.time, { a: 1 })]);
    out.enqueueDue();
    await new Promise((r) => setTimeout(r, 50));
    const n = out.counters();
    assert.equal(n.queueLength + (sink.attempts.length > 0 ? 1 : 0) > 0, c.queued, c.name);
    assert.equal(n.stageLength, c.queued ? 0 : 1, c.name);
    await out.stop();
  }
});

test('chunk_limit_size splits a slice into several chunks, order kept', async (t) => {
  const dir = await tempDir(t);
  const sink = new RecordingSink();
  const { out } = make({ path: dir, timekey: 60, chunk_limit_size: 40 }, sink);
  await out.start();
  const events = Array.from({ length: 10 }, (_, i) => ev(0, { n: `record-${String(i).padStart(2, '0')}` }));
  await out.emit('t', events.slice(0, 5));
  await out.emit('t', events.slice(5));
  await out.flushAll();
  await out.stop();
  assert.equal(sink.delivered.length, 5, 'two 18-byte lines per 40-byte chunk');
  for (const d of sink.delivered) assert.equal(Buffer.byteLength(d.body), 36);
  assert.equal(sink.delivered.map((d) => d.body).join(''), events.map((e) => JSON.stringify(e.record) + '\n').join(''));
});

test('a record larger than chunk_limit_size fails with AR_BUFFER_CHUNK_OVERFLOW, the others are kept', async (t) => {
  const dir = await tempDir(t);
  const sink = new RecordingSink();
  const { out } = make({ path: dir, timekey: 60, chunk_limit_size: 50 }, sink);
  await out.start();
  await assert.rejects(out.emit('t', [ev(0, { a: 1 }), ev(0, { big: 'x'.repeat(100) }), ev(0, { b: 2 })]), { code: 'AR_BUFFER_CHUNK_OVERFLOW' });
  await out.flushAll();
  await out.stop();
  assert.equal(sink.delivered.map((d) => d.body).join(''), '{"a":1}\n{"b":2}\n');
});

test('ack after write: when emit resolves the chunk file holds the bytes and the meta counts them', async (t) => {
  for (const fsync of [false, true]) {
    const dir = await tempDir(t);
    const { out } = make({ path: dir, timekey: 60, fsync }, new RecordingSink());
    await out.start();
    await Promise.all([out.emit('t', [ev(0, { a: 1 })]), out.emit('t', [ev(1, { b: 2 }), ev(2, { c: 3 })])]);
    const names = (await readdir(dir)).sort();
    assert.equal(names.length, 2, names.join());
    assert.match(names[0], /^buffer\.b[0-9a-f]{32}\.log$/);
    assert.equal(names[1], names[0] + '.meta');
    assert.equal(await readFile(join(dir, names[0]), 'utf8'), '{"a":1}\n{"b":2}\n{"c":3}\n');
    const meta = decodeMeta(await readFile(join(dir, names[1])));
    assert.equal(meta.records, 3);
    assert.equal(meta.committedBytes, 24);
    assert.equal(meta.metadata.timekey, 0);
    await out.stop();
  }
});

test('retry with backoff: same chunk id and attribute on every attempt, delivered once', async (t) => {
  const dir = await tempDir(t);
  const sink = new RecordingSink(3);
  const { out, ctx } = make({ path: dir, timekey: 60, retry_wait: 0.05, retry_randomize: false }, sink);
  await out.start();
  await out.emit('t', [ev(0, { a: 1 })]);
  out.enqueueDue();
  await until(() => sink.delivered.length === 1);
  await out.stop();
  assert.equal(sink.attempts.length, 4);
  assert.equal(new Set(sink.attempts.map((a) => a.idHex)).size, 1);
  assert.equal(new Set(sink.attempts.map((a) => a.attr)).size, 1);
  const fails = ctx.logs.filter((l) => l.msg === 'failed to flush the buffer.');
  assert.deepEqual(fails.map((l) => l.retry_times), [0, 1, 2]);
  assert.ok(ctx.logs.some((l) => l.msg === 'retry succeeded.'));
  assert.equal(out.counters().numErrors, 3);
  assert.deepEqual(await readdir(dir), [], 'purged after success');
});

test('retry_max_times reached: queue evacuated and dropped with Fluentd\'s error', async (t) => {
  const dir = await tempDir(t);
  const backup = await tempDir(t);
  const sink = new RecordingSink(100);
  const { out, ctx } = make({ path: join(dir, 'buf'), timekey: 60, retry_wait: 0.02, retry_randomize: false, retry_max_times: 2 }, sink, 'time', { backupDir: backup });
  await out.start();
  await out.emit('t', [ev(0, { a: 1 })]);
  out.enqueueDue();
  await until(() => ctx.logs.some((l) => l.msg === 'Hit limit for retries. dropping all chunks in the buffer queue.'));
  await until(() => out.counters().queueLength === 0);
  await out.stop();
  const evac = await readdir(join(backup, 'buffer', 'out1'));
  assert.equal(evac.length, 2);
});

test('unrecoverable error: no retry, chunk backed up under backup/worker0/<id>/<hex>.log', async (t) => {
  const dir = await tempDir(t);
  const backup = await tempDir(t);
  const sink = new RecordingSink();
  sink.failWith = () => new UnrecoverableChunkError('bad chunk');
  const { out, ctx } = make({ path: dir, timekey: 60 }, sink, 'time', { backupDir: backup });
  await out.start();
  await out.emit('t', [ev(0, { a: 1 })]);
  await out.flushAll();
  await out.stop();
  assert.equal(sink.attempts.length, 1);
  const file = join(backup, 'backup', 'worker0', 'out1', `${sink.attempts[0].idHex}.log`);
  assert.equal(await readFile(file, 'utf8'), '{"a":1}\n');
  assert.ok(ctx.logs.some((l) => l.msg === `bad chunk is moved to ${file}`));
  assert.deepEqual(await readdir(dir), []);
});

test('overflow: AR_BUFFER_OVERFLOW with Fluentd\'s message, accepted again after drain', async (t) => {
  const dir = await tempDir(t);
  const sink = new RecordingSink(1_000_000);
  const { out } = make({ path: dir, timekey: 60, chunk_limit_size: 40, total_limit_size: 100, retry_wait: 0.02, retry_randomize: false, flush_mode: 'immediate' }, sink);
  await out.start();
  let err: unknown;
  for (let i = 0; i < 20 && !err; i++) {
    try {
      await out.emit('t', [ev(0, { n: `value-${i}` })]);
    } catch (e) {
      err = e;
    }
  }
  assert.ok(err, 'overflowed');
  assert.equal((err as { code: string }).code, 'AR_BUFFER_OVERFLOW');
  assert.equal((err as Error).message, 'buffer space has too many data');
  assert.ok((err as { retryAfterSeconds: number }).retryAfterSeconds >= 1);
  sink.failures = 0;
  await until(() => out.counters().queueBytes === 0 && out.counters().queueLength === 0, 5000);
  await out.emit('t', [ev(0, { n: 'after' })]);
  await out.flushAll();
  await out.stop();
  assert.ok(sink.delivered.some((d) => d.body.includes('after')));
});

test('overflow_action drop_oldest_chunk makes room', async (t) => {
  const dir = await tempDir(t);
  const sink = new RecordingSink(1_000_000);
  const { out, ctx } = make({ path: dir, timekey: 60, chunk_limit_size: 40, total_limit_size: 100, retry_wait: 10, flush_mode: 'immediate', overflow_action: 'drop_oldest_chunk' }, sink);
  await out.start();
  for (let i = 0; i < 20; i++) await out.emit('t', [ev(0, { n: `value-${i}` })]);
  assert.ok(out.counters().dropOldestChunkCount > 0);
  assert.ok(ctx.logs.some((l) => l.msg === 'dropping oldest chunk to make space after buffer overflow'));
  await out.stop();
});

test('config: Fluentd warnings and errors', () => {
  const sink = new RecordingSink();
  const { ctx } = make({ '@type': 'memory', timekey: 60, flush_interval: 5 }, sink);
  assert.ok(ctx.logs.some((l) => l.msg === "'flush_interval' is ignored because default 'flush_mode' is not 'interval': 'lazy'"));
  const cases: Array<{ conf: Record<string, string | number>; code: string; arg?: string; noTimekey?: boolean }> = [
    { conf: { '@type': 'memory', flush_mode: 'lazy', flush_interval: 5, timekey: 60 }, code: 'AR_CONF_BAD_VALUE' },
    { conf: { '@type': 'memory' }, arg: 'time', code: 'AR_CONF_MISSING', noTimekey: true },
    { conf: { '@type': 'file' }, code: 'AR_CONF_MISSING' },
    { conf: { '@type': 'memory', timekey: 60, compress: 'zstd' }, code: 'AR_CONF_UNSUPPORTED' },
  ];
  for (const c of cases) {
    assert.throws(() => new BufferedOutput(section('buffer', c.arg ?? 'time', c.conf), sink, context(), {
      chunkKeys: ['time'], ...(c.noTimekey ? {} : { timekey: 60 }),
    }), { code: c.code }, JSON.stringify(c.conf));
  }
});
