// Issue 15 §2: `<source> @type monitor_agent` answers as Fluentd's in_monitor_agent. The seed
// fluent.conf (mTLS in_http → record_transformer → out_s3 on real s3rver) plus two monitor
// sources: one with include_config / include_retry and a `tag`, one with the defaults.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from '../support/certs.ts';
import { cleanup } from '../support/cleanup.ts';
import { startTestReceiver, type TestReceiver } from '../support/receiver.ts';
import { isoAt, MtlsClient, S3Store, seedConf, waitFor } from '../e2e/harness.ts';
import pkg from '../../package.json' with { type: 'json' };

const MONITORS = `<source>
  @type monitor_agent
  @id monitor_full
  bind 127.0.0.1
  port 0
  include_config true
  include_retry true
  include_debug_info true
  tag monitor.metrics
  emit_interval 0.2
</source>
<source>
  @type monitor_agent
  bind 127.0.0.1
  port 0
</source>
<match monitor.**>
  @type stdout
</match>
`;

interface Got { status: number; body: string; type: string | undefined }

function get(port: number, path: string, method = 'GET'): Promise<Got> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8'), type: res.headers['content-type'] }));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

type Info = Record<string, unknown>;

async function plugins(port: number, query = ''): Promise<Info[]> {
  const got = await get(port, `/api/plugins.json${query}`);
  assert.equal(got.status, 200, got.body);
  assert.equal(got.type, 'application/json');
  return (JSON.parse(got.body) as { plugins: Info[] }).plugins;
}

function byId(list: Info[], id: string): Info {
  const found = list.find((p) => p.plugin_id === id);
  assert.ok(found, `no plugin ${id} in ${JSON.stringify(list.map((p) => p.plugin_id))}`);
  return found;
}

async function setup(t: { after(fn: () => Promise<void> | void): void }): Promise<{ r: TestReceiver; s3: S3Store; client: MtlsClient; full: number; plain: number }> {
  const defer = cleanup(t);
  const certs = await makeCerts();
  defer(() => rm(certs.dir, { recursive: true, force: true }));
  const dir = await mkdtemp(join(tmpdir(), 'ar-monitor-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const s3 = new S3Store();
  defer(() => s3.remove());
  await s3.start();
  const conf = seedConf({
    certs, endpoint: s3.endpoint, bufferPath: join(dir, 'buffer'), timekey: 1,
    bufferExtra: 'flush_thread_interval 0.1\nflush_thread_burst_interval 0.05\nretry_wait 0.2\nretry_max_interval 0.5\nretry_randomize false',
  }).replace('<match test.log>\n  @type s3', '<match test.log>\n  @type s3\n  @id s3_out');
  const r = await startTestReceiver(conf + MONITORS, dir);
  defer(() => r.receiver.close());
  const client = new MtlsClient(r.port, certs, 1);
  defer(() => client.close());
  return { r, s3, client, full: r.receiver.ports[1]!, plain: r.receiver.ports[2]! };
}

const S3_KEYS = ['plugin_id', 'plugin_category', 'type', 'config', 'output_plugin', 'buffer_queue_length', 'buffer_timekeys',
  'buffer_total_queued_size', 'retry_count', 'emit_records', 'emit_size', 'emit_count', 'write_count', 'write_secondary_count',
  'rollback_count', 'slow_flush_count', 'flush_time_count', 'drop_oldest_chunk_count', 'buffer_stage_length',
  'buffer_stage_byte_size', 'buffer_queue_byte_size', 'buffer_available_buffer_space_ratios'];

test('/api/plugins.json: every plugin in Fluentd\'s order and shape, buffer figures moving with traffic', async (t) => {
  const { client, full, plain } = await setup(t);
  const before = await plugins(full);
  // Fluentd's all_plugins: inputs, top-level outputs, top-level filters. Unnamed plugins are object:<hex>.
  assert.deepEqual(before.map((p) => `${String(p.plugin_category)}:${String(p.type)}`), [
    'input:http', 'input:monitor_agent', 'input:monitor_agent', 'output:s3', 'output:stdout', 'output:stdout', 'filter:record_transformer']);
  for (const p of before) assert.match(String(p.plugin_id), /^(object:[0-9a-f]+|s3_out|monitor_full)$/);
  const s3 = byId(before, 's3_out');
  assert.deepEqual(Object.keys(s3), [...S3_KEYS, 'retry']);
  assert.equal(s3.output_plugin, true);
  assert.equal(s3.emit_records, 0);
  assert.equal(s3.buffer_total_queued_size, 0);
  assert.deepEqual(s3.buffer_timekeys, []);
  assert.deepEqual(s3.retry, {});
  assert.match((await get(full, '/api/plugins.json')).body, /"buffer_available_buffer_space_ratios":100\.0[,}]/);
  const http = before[0]!;
  assert.deepEqual(Object.keys(http), ['plugin_id', 'plugin_category', 'type', 'config', 'output_plugin', 'retry_count', 'emit_records', 'emit_size']);
  assert.equal(http.retry_count, null);
  assert.equal(http.output_plugin, false);

  // The masked config: params as written, secrets as xxxxxx.
  const config = s3.config as Record<string, string>;
  assert.equal(config['@type'], 's3');
  assert.equal(config['@id'], 's3_out');
  assert.equal(config.s3_bucket, 'teleport-audit');
  assert.equal(config.aws_sec_key, 'xxxxxx');
  assert.equal(config.aws_key_id, 'xxxxxx');

  const now = Math.floor(Date.now() / 1000);
  // An event 10 s ahead keeps its chunk staged (timekey 1) until the upload below.
  for (let i = 0; i < 5; i++) {
    const a = await client.post('test.log', JSON.stringify({ event: 'user.login', time: isoAt(now + 10), uid: `m-${i}` }));
    assert.equal(a.status, 200, a.body);
  }
  const mid = await plugins(full);
  const s3Mid = byId(mid, 's3_out');
  assert.equal(s3Mid.emit_records, 5);
  assert.equal(s3Mid.emit_count, 5);
  assert.equal(mid[0]!.emit_records, 5, 'in_http emit_records');
  assert.equal(mid.find((p) => p.type === 'record_transformer')!.emit_records, 5, 'filter emit_records');
  assert.ok((s3Mid.buffer_total_queued_size as number) > 0, JSON.stringify(s3Mid));
  assert.equal(s3Mid.buffer_stage_length, 1);
  assert.equal(s3Mid.buffer_total_queued_size, s3Mid.buffer_stage_byte_size);
  assert.deepEqual(s3Mid.buffer_timekeys, [now + 10]);
  assert.equal(s3Mid.buffer_oldest_timekey, now + 10);
  assert.equal(s3Mid.buffer_newest_timekey, now + 10);
  assert.ok((s3Mid.buffer_available_buffer_space_ratios as number) <= 100);

  const after = await waitFor('the upload', async () => {
    const s = byId(await plugins(full), 's3_out');
    return (s.write_count as number) >= 1 && s.buffer_total_queued_size === 0 ? s : undefined;
  }, 60_000, 200);
  assert.equal(after.retry_count, 0);
  assert.equal(after.rollback_count, 0);
  assert.deepEqual(after.buffer_timekeys, []);
  assert.equal(after.buffer_oldest_timekey, undefined);

  // Defaults: no config, no retry — and the query cannot switch them on.
  const plainS3 = byId(await plugins(plain, '?with_config=true&with_retry=true'), 's3_out');
  assert.equal(plainS3.config, undefined);
  assert.equal(plainS3.retry, undefined);
  assert.equal(plainS3.emit_records, 5);
});

test('filters ?tag= ?@id= ?id= ?@type= ?type= ?with_config= ?debug; LTSV; config; 404', async (t) => {
  const { r, full, plain } = await setup(t);
  const ids = (list: Info[]): unknown[] => list.map((p) => p.plugin_id);
  assert.deepEqual(ids(await plugins(full, '?tag=test.log')), ['s3_out']);
  const session = await plugins(full, '?tag=session.abc');
  assert.deepEqual(session.map((p) => p.type), ['stdout']);
  assert.deepEqual(await plugins(full, '?tag=session'), []);
  assert.deepEqual(ids(await plugins(full, '?@id=s3_out')), ['s3_out']);
  assert.deepEqual(ids(await plugins(full, '?id=monitor_full')), ['monitor_full']);
  assert.deepEqual(await plugins(full, '?@id=nope'), []);
  assert.equal((await plugins(full, '?@type=monitor_agent')).length, 2);
  assert.equal((await plugins(full, '?type=stdout')).length, 2);
  assert.deepEqual(await plugins(full, '?@type=forward'), []);
  assert.equal(byId(await plugins(full, '?with_config=false'), 's3_out').config, undefined);
  assert.deepEqual(byId(await plugins(full, '?with_retry=no'), 's3_out').retry, undefined);
  // ?debug (include_debug_info true): JSON.pretty_generate; without include_debug_info, compact.
  assert.match((await get(full, '/api/plugins.json?debug=1')).body, /^\{\n {2}"plugins": \[\n {4}\{\n {6}"plugin_id": /);
  assert.match((await get(plain, '/api/plugins.json?debug=1')).body, /^\{"plugins":\[\{"plugin_id":/);

  const text = await get(full, '/api/plugins');
  assert.equal(text.status, 200);
  assert.equal(text.type, 'text/plain');
  const lines = text.body.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, 7);
  const s3Line = lines.find((l) => l.startsWith('plugin_id:s3_out\t'))!;
  assert.match(s3Line, /^plugin_id:s3_out\tplugin_category:output\ttype:s3\toutput_plugin:true\tbuffer_queue_length:0\tbuffer_timekeys:\tbuffer_total_queued_size:0\tretry_count:0\temit_records:0\t/);
  assert.match(s3Line, /\tbuffer_available_buffer_space_ratios:100\.0$/);
  assert.doesNotMatch(text.body, /config|retry:/);
  assert.match(lines[0]!, /^plugin_id:object:[0-9a-f]+\tplugin_category:input\ttype:http\toutput_plugin:false\tretry_count:\temit_records:0\temit_size:0$/);
  assert.equal((await get(full, '/api/plugins?@id=s3_out')).body.split('\n').length, 2);

  const config = await get(full, '/api/config.json');
  assert.equal(config.type, 'application/json');
  assert.deepEqual(JSON.parse(config.body), { pid: process.pid, ppid: process.ppid, version: pkg.version });
  assert.equal((await get(full, '/api/config')).body, `pid:${process.pid}\tppid:${process.ppid}\tversion:${pkg.version}\n`);
  assert.equal((await get(full, '/api/config.json/')).status, 200, 'a trailing / is the same route');

  for (const [path, method] of [['/api/nope', 'GET'], ['/', 'GET'], ['/api/plugins.json', 'POST'], ['/api/plugins.json', 'HEAD']] as const) {
    const got = await get(full, path, method);
    assert.equal(got.status, 404, `${method} ${path}`);
    assert.equal(got.type, 'application/json');
    if (method !== 'HEAD') assert.equal(got.body, '{"message":"Not found"}');
  }

  // tag + emit_interval: the records are emitted, here into out_stdout.
  await r.log.waitFor((l) => l.some((x) => / monitor\.metrics: \{"plugin_id":"s3_out","plugin_category":"output","type":"s3","output_plugin":true,/.test(x)), 10_000);
  assert.ok(r.log.lines.some((l) => l.includes('listening monitoring http server on http://127.0.0.1:')));
});

test('include_retry: a failing S3 shows retry start, steps and next_time, and retry_count', async (t) => {
  const { s3, client, full } = await setup(t);
  await s3.stop();
  const now = Math.floor(Date.now() / 1000);
  assert.equal((await client.post('test.log', JSON.stringify({ event: 'x', time: isoAt(now - 5) }))).status, 200);
  const failing = await waitFor('a retry', async () => {
    const s = byId(await plugins(full), 's3_out');
    return (s.retry_count as number) >= 2 ? s : undefined;
  }, 60_000, 200);
  const retry = failing.retry as { start: string; steps: number; next_time: string };
  assert.deepEqual(Object.keys(retry), ['start', 'steps', 'next_time']);
  assert.match(retry.start, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
  assert.match(retry.next_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/);
  assert.ok(retry.steps >= 1);
  assert.ok((failing.rollback_count as number) >= 2);
  assert.equal(failing.buffer_queue_length, 1);
  await s3.start();
  await waitFor('recovery', async () => {
    const s = byId(await plugins(full), 's3_out');
    return s.buffer_total_queued_size === 0 && JSON.stringify(s.retry) === '{}' ? s : undefined;
  }, 60_000, 200);
});

test('labels: Fluentd\'s order (sources, top-level outputs and filters, then each label\'s), ?tag= only top level', async (t) => {
  const defer = cleanup(t);
  const dir = await mkdtemp(join(tmpdir(), 'ar-monitor-labels-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const r = await startTestReceiver(`<source>
  @type monitor_agent
  bind 127.0.0.1
  port 0
</source>
<label @A>
  <filter **>
    @type record_transformer
    @id a_filter
  </filter>
  <match **>
    @type null
    @id a_null
  </match>
</label>
<filter x.**>
  @type record_transformer
  @id root_filter
</filter>
<match x.**>
  @type relabel
  @id to_a
  @label @A
</match>
`, dir);
  defer(() => r.receiver.close());
  const list = await plugins(r.receiver.ports[0]!);
  assert.deepEqual(list.map((p) => `${String(p.plugin_category)}:${String(p.plugin_id)}`),
    ['input:object:438', 'output:to_a', 'filter:root_filter', 'output:a_null', 'filter:a_filter']);
  assert.deepEqual((await plugins(r.receiver.ports[0]!, '?tag=x.y')).map((p) => p.plugin_id), ['to_a']);
  assert.deepEqual(await plugins(r.receiver.ports[0]!, '?tag=other'), []);
  const relabel = byId(list, 'to_a');
  assert.deepEqual(Object.keys(relabel), ['plugin_id', 'plugin_category', 'type', 'output_plugin', 'retry_count', 'emit_records', 'emit_size',
    'emit_count', 'write_count', 'write_secondary_count', 'rollback_count', 'slow_flush_count', 'flush_time_count', 'drop_oldest_chunk_count']);
});
