import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ConfigElement } from '../../src/params/element.ts';
import { FileOutput, generatePathTemplate } from '../../src/output/file.ts';
import { buffered } from '../../src/buffer/buffered-plugin.ts';
import { section, context, ev, tempDir } from '../buffer/helpers.ts';

for (const c of [
  { path: '/d/file.*', timekey: 86400, append: false, gz: false, want: '/d/file.%Y%m%d_**' },
  { path: '/d/file.*.data', timekey: 3600, append: false, gz: false, want: '/d/file.%Y%m%d%H_**.data' },
  { path: '/d/file', timekey: 86400, append: false, gz: false, want: '/d/file.%Y%m%d_**.log' },
  { path: '/d/file', timekey: 60, append: true, gz: false, want: '/d/file.%Y%m%d%H%M.log' },
  { path: '/d/file', timekey: 30, append: false, gz: true, want: '/d/file.%Y%m%d%H%M%S_**.log.gz' },
  { path: '/d/%Y/%m/%d/file', timekey: 86400, append: false, gz: false, want: '/d/%Y/%m/%d/file_**.log' },
  { path: '/d/file', timekey: undefined, append: false, gz: false, want: '/d/file_**.log' },
]) {
  test(`path template ${c.path} timekey=${c.timekey} append=${c.append} gz=${c.gz}`, () => {
    assert.equal(generatePathTemplate(c.path, c.timekey, c.append, c.gz, '.log'), c.want);
  });
}

test('path template with only some time placeholders is refused', () => {
  assert.throws(() => generatePathTemplate('/d/%Y/file', 86400, false, false, '.log'), /insufficient timestamp placeholders/);
});

function fileOutput(dir: string, conf: Record<string, string | boolean>, buffer: Record<string, string | number | boolean> = {}) {
  const el = section('match', '**', { path: join(dir, 'out', 'access'), ...conf });
  el.elements.push(section('buffer', 'time', { path: join(dir, 'buf'), timekey: 60, timekey_use_utc: true, flush_thread_interval: 0.02, flush_thread_burst_interval: 0.01, ...buffer }));
  el.elements.push(section('format', '', { '@type': 'json' }));
  return new (buffered(FileOutput))(el, context());
}

const T = 1700000000; // 2023-11-14T22:13:20Z → slice 202311142213

test('out_file: one file per chunk with _N index, .log suffix, minute slice', async (t) => {
  const dir = await tempDir(t);
  const out = fileOutput(dir, {}, { chunk_limit_size: 10 });
  await out.start();
  await out.emit('t', [ev(T, { a: 1 }), ev(T + 1, { b: 2 })]);
  await out.flushAll();
  await out.stop();
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['access.202311142213_0.log', 'access.202311142213_1.log']);
  assert.equal(await readFile(join(dir, 'out', 'access.202311142213_0.log'), 'utf8'), '{"a":1}\n');
  assert.equal(await readFile(join(dir, 'out', 'access.202311142213_1.log'), 'utf8'), '{"b":2}\n');
});

test('out_file: append writes every chunk of a slice to one file', async (t) => {
  const dir = await tempDir(t);
  const out = fileOutput(dir, { append: true }, { chunk_limit_size: 10 });
  await out.start();
  await out.emit('t', [ev(T, { a: 1 }), ev(T + 1, { b: 2 }), ev(T + 60, { c: 3 })]);
  await out.flushAll();
  await out.stop();
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['access.202311142213.log', 'access.202311142214.log']);
  assert.equal(await readFile(join(dir, 'out', 'access.202311142213.log'), 'utf8'), '{"a":1}\n{"b":2}\n');
});

test('out_file: compress gzip writes one gzip member per chunk, name ends .log.gz', async (t) => {
  const dir = await tempDir(t);
  const out = fileOutput(dir, { compress: 'gzip' }, { compress: 'gzip' });
  await out.start();
  await out.emit('t', [ev(T, { a: 1 })]);
  await out.emit('t', [ev(T, { b: 2 })]);
  await out.flushAll();
  await out.stop();
  assert.deepEqual(await readdir(join(dir, 'out')), ['access.202311142213_0.log.gz']);
  const raw = await readFile(join(dir, 'out', 'access.202311142213_0.log.gz'));
  assert.equal(raw[0], 0x1f);
  assert.equal(gunzipSync(raw).toString(), '{"a":1}\n{"b":2}\n');
});

test('out_file: default <format> is out_file (time TAB tag TAB json)', async (t) => {
  const dir = await tempDir(t);
  const el = section('match', '**', { path: join(dir, 'o.*') });
  el.elements.push(section('buffer', 'time', { path: join(dir, 'buf'), timekey: 60, timekey_use_utc: true }));
  el.elements.push(section('format', '', { utc: true }));
  const out = new (buffered(FileOutput))(el, context());
  await out.start();
  await out.emit('test.log', [ev(T, { a: 1 })]);
  await out.flushAll();
  await out.stop();
  assert.equal(await readFile(join(dir, 'o.202311142213_0'), 'utf8'), '2023-11-14T22:13:20Z\ttest.log\t{"a":1}\n');
});

test('out_file: path with * but no time chunk key is a config error', () => {
  const el = section('match', '**', { path: '/tmp/x.*' });
  el.elements.push(section('buffer', 'tag', { '@type': 'memory' }));
  assert.throws(() => new (buffered(FileOutput))(el, context()), { code: 'AR_CONF_BAD_VALUE' });
});

void ConfigElement;

test('<secondary> @type file takes over after retry_secondary_threshold, with the primary\'s timekey', async (t) => {
  const { BufferedOutput } = await import('../../src/buffer/buffered-output.ts');
  const { createFileSink } = await import('../../src/output/file.ts');
  const { RecordingSink } = await import('../buffer/helpers.ts');
  const dir = await tempDir(t);
  const ctx = context();
  const secondary = createFileSink(section('secondary', '', { path: join(dir, 'failed', 'chunk') }), ctx);
  const primary = new RecordingSink(1_000_000);
  const out = new BufferedOutput(section('buffer', 'time', {
    '@type': 'memory', timekey: 60, timekey_use_utc: true, retry_wait: 0.05, retry_timeout: 1, retry_randomize: false,
    flush_thread_interval: 0.02, flush_thread_burst_interval: 0.01,
  }), primary, ctx, { chunkKeys: ['time'], secondary });
  await out.start();
  await out.emit('t', [ev(T, { a: 1 })]);
  out.enqueueDue();
  const end = Date.now() + 5000;
  while (secondary.lastWrittenPath === undefined && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await out.stop();
  assert.equal(secondary.lastWrittenPath, join(dir, 'failed', 'chunk.202311142213_0.log'));
  assert.ok(ctx.logs.some((l) => l.msg === 'retry succeeded by secondary.'));
  assert.ok(primary.attempts.length >= 2);
});

test('out_file: a tag of `..` in `${tag}` cannot write outside path; the chunk is backed up, the other tags are written', async (t) => {
  const dir = await tempDir(t);
  const backup = join(dir, 'backup');
  const before = process.env.FLUENT_BACKUP_DIR;
  process.env.FLUENT_BACKUP_DIR = backup;
  t.after(() => {
    if (before === undefined) delete process.env.FLUENT_BACKUP_DIR;
    else process.env.FLUENT_BACKUP_DIR = before;
  });
  const el = section('match', '**', { path: join(dir, 'out', 'tags', '${tag}', 'access') });
  el.elements.push(section('buffer', 'tag,time', { path: join(dir, 'buf'), timekey: 60, timekey_use_utc: true, flush_thread_interval: 0.02, flush_thread_burst_interval: 0.01 }));
  el.elements.push(section('format', '', { '@type': 'json' }));
  const ctx = context();
  const out = new (buffered(FileOutput))(el, ctx);
  await out.start();
  await out.emit('..', [ev(T, { escaped: 1 })]);
  await out.emit('ok', [ev(T, { ok: 1 })]);
  await out.flushAll();
  await out.stop();
  assert.deepEqual(await readdir(join(dir, 'out', 'tags', 'ok')), ['access.202311142213_0.log']);
  assert.deepEqual(await readdir(join(dir, 'out', 'tags')), ['ok'], 'nothing written for `..` beside the tag directories');
  assert.deepEqual((await readdir(join(dir, 'out'))).sort(), ['tags'], 'nothing written one level up either');
  assert.ok(ctx.logs.some((l) => /leaves the directory of path/.test(JSON.stringify(l))), `the refusal is logged: ${JSON.stringify(ctx.logs)}`);
  const backedUp = await readdir(backup, { recursive: true });
  assert.ok(backedUp.some((f) => f.endsWith('.log')), `the refused chunk is kept in the backup directory: ${backedUp.join(', ')}`);
});
