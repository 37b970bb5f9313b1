import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, rename, truncate, writeFile, mkdir } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { encode } from '@msgpack/msgpack';
import { BufferedOutput } from '../../src/buffer/buffered-output.ts';
import { generateChunkId } from '../../src/buffer/chunk-id.ts';
import { section, context, ev, RecordingSink, tempDir } from './helpers.ts';

function make(dir: string, sink: RecordingSink, backupDir?: string) {
  const ctx = context();
  const out = new BufferedOutput(section('buffer', 'time', { path: dir, timekey: 60, timekey_use_utc: true, flush_thread_interval: 0.02, flush_thread_burst_interval: 0.01 }), sink, ctx, {
    chunkKeys: ['time'], bufferType: 'file', pluginId: 'out1', backupDir,
  });
  return { out, ctx };
}

async function fill(dir: string): Promise<void> {
  const { out } = make(dir, new RecordingSink());
  await out.start();
  await out.emit('t', [ev(0, { a: 1 }), ev(60, { b: 2 })]);
  await out.emit('t', [ev(1, { c: 3 })]);
  await out.stop(); // file buffer: flush_at_shutdown false → chunks stay on disk
}

async function resume(dir: string, backupDir?: string) {
  const sink = new RecordingSink();
  const { out, ctx } = make(dir, sink, backupDir);
  await out.start();
  await out.flushAll();
  await out.stop();
  return { sink, ctx, bodies: sink.delivered.map((d) => d.body).sort() };
}

test('restart: staged chunks resume and are delivered exactly once', async (t) => {
  const dir = await tempDir(t);
  await fill(dir);
  assert.equal((await readdir(dir)).filter((n) => n.endsWith('.log')).length, 2);
  const first = await resume(dir);
  assert.deepEqual(first.bodies, ['{"a":1}\n{"c":3}\n', '{"b":2}\n']);
  assert.deepEqual(first.sink.delivered.map((d) => d.metadata.timekey).sort(), [0, 60]);
  const second = await resume(dir);
  assert.deepEqual(second.bodies, [], 'nothing delivered twice');
});

test('restart: new events append to the resumed staged chunk of the same metadata (time key and tag-only buffers)', async (t) => {
  for (const keys of [['time'], ['tag']]) {
    const dir = await tempDir(t);
    const open = () => new BufferedOutput(section('buffer', keys.join(','), { path: dir, timekey: 60, timekey_use_utc: true, flush_thread_interval: 0.02, flush_thread_burst_interval: 0.01 }),
      new RecordingSink(), context(), { chunkKeys: keys, bufferType: 'file', pluginId: 'out1' });
    const first = open();
    await first.start();
    await first.emit('t', [ev(1, { a: 1 })]);
    await first.stop();
    const second = open();
    await second.start();
    await second.emit('t', [ev(2, { b: 2 })]);
    await second.stop();
    const logs = (await readdir(dir)).filter((n) => n.endsWith('.log'));
    assert.equal(logs.length, 1, `${keys}: one staged chunk, appended to after the restart: ${logs.join(', ')}`);
    assert.equal(await readFile(join(dir, logs[0]), 'utf8'), '{"a":1}\n{"b":2}\n');
  }
});

test('restart: a queued chunk keeps its attribute across restarts', async (t) => {
  const dir = await tempDir(t);
  await fill(dir);
  const failing = new RecordingSink(1_000_000);
  const { out } = make(dir, failing);
  await out.start();
  void out.flushAll();
  await new Promise((r) => setTimeout(r, 100));
  await out.stop();
  const attrs = new Set(failing.attempts.map((a) => a.attr));
  assert.ok((await readdir(dir)).some((n) => /^buffer\.q[0-9a-f]{32}\.log$/.test(n)), 'renamed b → q');
  const again = await resume(dir);
  assert.equal(again.sink.delivered.length, 2);
  for (const d of again.sink.delivered) if (failing.attempts.some((a) => a.idHex === d.idHex)) assert.ok(attrs.has(d.attr));
});

test('torn tail: bytes past the committed length are cut; broken meta goes to backup', async (t) => {
  for (const c of [
    { name: 'garbage appended to data', damage: (data: string, _meta: string) => appendFile(data, '{"partial":'), want: 2, broken: 0 },
    { name: 'meta truncated', damage: (_data: string, meta: string) => truncate(meta, 5), want: 1, broken: 1 },
    { name: 'meta zero length', damage: (_data: string, meta: string) => truncate(meta, 0), want: 1, broken: 1 },
    { name: 'data shorter than committed', damage: (data: string) => truncate(data, 3), want: 1, broken: 1 },
  ]) {
    const dir = await tempDir(t);
    const backup = await tempDir(t);
    await fill(dir);
    const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
    // damage the chunk of timekey 0 (created first → smaller id)
    await c.damage(join(dir, names[0]), join(dir, names[0] + '.meta'));
    const r = await resume(dir, backup);
    assert.equal(r.sink.delivered.length, c.want, c.name);
    if (c.want === 2) assert.deepEqual(r.bodies, ['{"a":1}\n{"c":3}\n', '{"b":2}\n'], c.name);
    const brokenLogs = r.ctx.logs.filter((l) => l.msg === 'found broken chunk file during resume.');
    assert.equal(brokenLogs.length, c.broken, c.name);
    if (c.broken) {
      const saved = await readdir(join(backup, 'backup', 'worker0', 'out1'));
      assert.equal(saved.length, 1, c.name);
    }
  }
});

test('a chunk left by Fluentd (hand-written meta, no auditrelay key) is resumed', async (t) => {
  const dir = await tempDir(t);
  await mkdir(dir, { recursive: true });
  for (const state of ['b', 'q']) {
    const id = generateChunkId();
    const hex = id.toString('hex');
    const body = encode({ timekey: 1700000040, tag: null, variables: null, seq: 0, id, s: 2, c: 1700000041, m: 1700000042 });
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.byteLength);
    await writeFile(join(dir, `buffer.${state}${hex}.log`), `{"x":"${state}1"}\n{"x":"${state}2"}\n`);
    await writeFile(join(dir, `buffer.${state}${hex}.log.meta`), Buffer.concat([Buffer.from([0xc1, 0x00]), len, body]));
  }
  const r = await resume(dir);
  assert.deepEqual(r.bodies, ['{"x":"b1"}\n{"x":"b2"}\n', '{"x":"q1"}\n{"x":"q2"}\n']);
  assert.deepEqual(r.sink.delivered.map((d) => d.metadata.timekey), [1700000040, 1700000040]);
  assert.deepEqual(await readdir(dir), []);
});

for (const mode of ['meta', 'lines'] as const) test(`kill -9 while appending (${mode === 'lines' ? 'line records: no per-batch meta' : 'meta per batch'}): every acked record is delivered once, none twice`, async (t) => {
  const dir = await tempDir(t);
  const node = process.execPath;
  const child = spawn(node, [join(import.meta.dirname, 'append-child.ts'), dir, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acked: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split('\n');
    buf = lines.pop()!;
    acked.push(...lines.filter((l) => l !== ''));
  });
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (acked.length >= 300) {
        clearInterval(check);
        child.kill('SIGKILL');
        resolve();
      }
    }, 5);
  });
  await new Promise((r) => child.once('exit', r));
  if (mode === 'lines') {
    // The staged chunks' metas lag their data here; a torn last line must be cut too.
    const metas = (await readdir(dir)).filter((n) => /^buffer\.b[0-9a-f]{32}\.log\.meta$/.test(n));
    assert.ok(metas.length > 0, 'a staged chunk was being written');
    for (const m of metas) await appendFile(join(dir, m.slice(0, -'.meta'.length)), '{"uid":"torn","pad":"x');
  }
  const r = await resume(dir);
  const seen = new Map<string, number>();
  for (const d of r.sink.delivered) {
    for (const line of d.body.split('\n')) {
      if (!line) continue;
      const uid = (JSON.parse(line) as { uid: string }).uid;
      seen.set(uid, (seen.get(uid) ?? 0) + 1);
    }
  }
  for (const uid of acked) assert.equal(seen.get(uid), 1, `acked ${uid} delivered once`);
  for (const [uid, n] of seen) assert.equal(n, 1, `${uid} not duplicated`);
  assert.ok(seen.size >= acked.length);
});

test('kill -9 leftovers: metas without data and .meta.tmp are removed at resume, a b-named meta of a q chunk is kept', async (t) => {
  const dir = await tempDir(t);
  await fill(dir); // two staged chunks with data + meta
  const [dataName, enqueuedName] = (await readdir(dir)).filter((n) => n.endsWith('.log'));
  const realMeta = await readFile(join(dir, `${dataName}.meta`));
  // Killed between the data and the meta rename of an enqueue.
  await rename(join(dir, enqueuedName), join(dir, enqueuedName.replace('.b', '.q')));
  const orphan = `buffer.b${generateChunkId().toString('hex')}.log.meta`; // meta-first create, or purge cut short
  await writeFile(join(dir, orphan), realMeta);
  await writeFile(join(dir, `${dataName}.meta.tmp`), 'half a meta');
  const second = await resume(dir);
  assert.deepEqual(second.bodies, ['{"a":1}\n{"c":3}\n', '{"b":2}\n']);
  assert.deepEqual(await readdir(dir), [], 'nothing left behind after the drain');
});
