// Issue 15 items 1 and 3: `<source> @type prometheus` serves Prometheus text with
// fluent-plugin-prometheus's names and labels, plus in_http's requests, bytes, latency
// and TLS refusals; /healthz and /readyz live on the metrics port only. Real receiver
// (seed fluent.conf, mTLS), real s3rver, a strict text-format reader.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as tlsConnect } from 'node:tls';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CertFiles } from '../support/certs.ts';
import { cleanup } from '../support/cleanup.ts';
import { httpGet } from '../support/http-get.ts';
import { metricsWorld, type MetricsWorld } from '../support/world.ts';
import { parsePrometheus, type Scrape } from '../support/prometheus-text.ts';
import { isoAt, waitFor } from '../e2e/harness.ts';
import { loadReceiver } from '../../src/receiver.ts';
import { PrometheusInput } from '../../src/input/prometheus.ts';

const OUTPUT_STATUS = ['buffer_queue_length', 'buffer_total_bytes', 'buffer_stage_length', 'buffer_stage_byte_size',
  'buffer_queue_byte_size', 'buffer_available_space_ratio', 'buffer_newest_timekey', 'buffer_oldest_timekey', 'retry_count',
  'num_errors', 'emit_count', 'emit_records', 'write_count', 'rollback_count', 'flush_time_count', 'slow_flush_count', 'retry_wait'];

const PROMETHEUS = `<source>
  @type prometheus
  port 0
  ready_failure_threshold 1
  <labels>
    host \${hostname}
  </labels>
</source>
<source>
  @type prometheus_output_monitor
  interval 10
  <labels>
    stage prod
  </labels>
</source>
<source>
  @type prometheus_monitor
</source>
`;

interface Got { status: number; body: string; type: string | undefined }

async function get(port: number, path: string): Promise<Got> {
  const a = await httpGet(port, path);
  return { status: a.status, body: a.body, type: a.headers['content-type'] };
}

async function scrape(port: number, path = '/metrics'): Promise<Scrape> {
  const got = await get(port, path);
  assert.equal(got.status, 200, got.body);
  assert.match(got.type ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(got.body);
}

function setup(t: { after(fn: () => Promise<void> | void): void }, bufferExtra = ''): Promise<MetricsWorld> {
  return metricsWorld(t, 'ar-prom-', PROMETHEUS, { bufferExtra });
}

/** A TLS client without a certificate: the mTLS source refuses its handshake. */
function refusedHandshake(port: number, certs: CertFiles): Promise<void> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' });
    s.on('secureConnect', () => s.write('POST /test.log HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'));
    s.on('data', () => {});
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
}

test('/metrics: Fluentd names and labels, moving with traffic and refusals; /healthz; other paths 404', async (t) => {
  const { r, certs, client, metrics } = await setup(t);
  const before = await scrape(metrics);
  const out = { plugin_id: 's3_out', type: 's3' };
  for (const name of OUTPUT_STATUS) assert.equal(before.types.get(`fluentd_output_status_${name}`), 'gauge', name);
  for (const name of OUTPUT_STATUS.filter((n) => !n.includes('timekey'))) before.one(`fluentd_output_status_${name}`, out);
  assert.equal(before.one('fluentd_output_status_emit_records', out), 0);
  assert.equal(before.one('fluentd_output_status_buffer_available_space_ratio', out), 100);
  assert.equal(before.one('fluentd_status_buffer_queue_length', { ...out, plugin_category: 'output' }), 0);
  assert.equal(before.sum('auditrelay_http_requests_total'), 0);
  // <labels>: the source's on every series, prometheus_output_monitor's on fluentd_output_status_* only.
  assert.equal(before.one('fluentd_output_status_emit_count', { ...out, stage: 'prod', host: hostname() }), 0);
  assert.deepEqual(before.samples.filter((x) => x.labels.host !== hostname()), []);
  assert.deepEqual(before.samples.filter((x) => x.name.startsWith('fluentd_status_') && x.labels.stage !== undefined), []);

  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 5; i++) {
    const a = await client.post('test.log', JSON.stringify({ event: 'user.login', time: isoAt(now - 1), uid: `m-${i}` }));
    assert.equal(a.status, 200, a.body);
  }
  assert.equal((await client.post('test.log', '{not json')).status, 400);
  assert.equal((await client.post('no.such.match', JSON.stringify({ time: isoAt(now) }))).status, 200);
  await refusedHandshake(r.port, certs);

  const mid = await scrape(metrics);
  assert.equal(mid.one('auditrelay_http_requests_total', { tag: 'test.log', code: '200' }), 5);
  assert.equal(mid.one('auditrelay_http_requests_total', { tag: 'test.log', code: '400' }), 1);
  assert.equal(mid.one('auditrelay_http_requests_total', { tag: 'no.such.match', code: '200' }), 1);
  assert.equal(mid.one('auditrelay_http_request_duration_seconds_count'), 7);
  assert.ok(mid.one('auditrelay_http_request_duration_seconds_sum') > 0);
  assert.ok(mid.one('auditrelay_http_received_bytes_total') > 5 * 40);
  assert.ok(mid.sum('auditrelay_http_tls_handshake_failures_total') >= 1, 'the refused handshake was not counted');
  assert.equal(mid.one('fluentd_output_status_emit_records', out), 5);
  assert.equal(mid.one('fluentd_output_status_emit_count', out), 5);

  // The chunk of a closed second is uploaded: write_count moves, the buffer empties.
  const after = await waitFor('the upload', async () => {
    const s = await scrape(metrics);
    return s.one('fluentd_output_status_write_count', out) >= 1 && s.one('fluentd_output_status_buffer_total_bytes', out) === 0 ? s : undefined;
  }, 10_000, 100);
  assert.equal(after.one('fluentd_output_status_num_errors', out), 0);
  assert.ok(after.one('fluentd_output_status_flush_time_count', out) >= 0);
  assert.equal(after.one('auditrelay_buffer_oldest_chunk_age_seconds', out), 0);
  assert.equal(after.one('auditrelay_output_write_duration_seconds_count', out), after.one('fluentd_output_status_write_count', out));
  assert.ok(after.one('auditrelay_output_write_duration_seconds_sum', out) > 0);
  assert.equal((await get(metrics, '/aggregated_metrics')).status, 200);
  assert.deepEqual(await get(metrics, '/healthz'), { status: 200, body: 'ok\n', type: 'text/plain; charset=utf-8' });
  assert.equal((await get(metrics, '/readyz')).status, 200);
  const missing = await get(metrics, '/nope');
  assert.equal(missing.status, 404);
  assert.match(missing.body, /try \/metrics, \/healthz, \/readyz, \/status\.json or \/ \(the status page\)/);
  // The monitor sources and every <labels> load without an unused-parameter or placeholder warning.
  assert.deepEqual(r.log.entries().filter((e) => (e.level as number) >= 40 && /interval|labels|gauge_all|prometheus|hostname/.test(String(e.msg))), []);
  t.diagnostic(`latency sum ${mid.one('auditrelay_http_request_duration_seconds_sum').toFixed(4)} s over 7 requests`);
});

test('/readyz: 503 once uploads fail past ready_failure_threshold (S3 down), 200 again when S3 returns', async (t) => {
  const { r, s3, client, metrics } = await setup(t);
  const out = { plugin_id: 's3_out', type: 's3' };
  assert.equal((await get(metrics, '/readyz')).status, 200);
  await s3.stop();
  const downAt = Date.now();
  const now = Math.floor(Date.now() / 1000);
  assert.equal((await client.post('test.log', JSON.stringify({ event: 'x', time: isoAt(now - 1), uid: 'down' }))).status, 200);
  const firstError = await waitFor('a failed upload', async () => {
    const s = await scrape(metrics);
    return s.one('fluentd_output_status_num_errors', out) >= 1 ? s : undefined;
  }, 10_000, 50);
  assert.ok(firstError.one('fluentd_output_status_rollback_count', out) >= 1);
  assert.ok(firstError.one('auditrelay_output_write_duration_seconds_count', out) >= 1, 'a failed upload is timed too');
  // Failing, but not yet for longer than the 1 s threshold: still ready.
  const early = await get(metrics, '/readyz');
  if (Date.now() - downAt < 900) assert.equal(early.status, 200, early.body);
  const notReady = await waitFor('/readyz 503', async () => {
    const g = await get(metrics, '/readyz');
    return g.status === 503 ? g : undefined;
  }, 10_000, 100);
  const turnedMs = Date.now() - downAt;
  assert.match(notReady.body, /^not ready:\n- output s3_out \(@type s3\): writes failing for \d+s \(ready_failure_threshold 1s\)\n$/);
  const failing = await scrape(metrics);
  assert.ok(failing.one('auditrelay_output_failing_seconds', out) > 1);
  assert.ok(failing.one('fluentd_output_status_retry_wait', out) > 0);
  assert.ok(failing.one('auditrelay_buffer_oldest_chunk_age_seconds', out) > 0);
  assert.equal((await get(metrics, '/healthz')).status, 200, 'alive while not ready');

  await s3.start();
  const upAt = Date.now();
  await waitFor('/readyz 200', async () => ((await get(metrics, '/readyz')).status === 200 ? true : undefined), 10_000, 100);
  const recoveredMs = Date.now() - upAt;
  // The retry state is dropped once the uploaded chunk is purged, a moment after the upload itself.
  const healed = await waitFor('retry_wait 0', async () => {
    const s = await scrape(metrics);
    return s.one('fluentd_output_status_retry_wait', out) === 0 ? s : undefined;
  }, 5_000, 50);
  assert.equal(healed.one('auditrelay_output_failing_seconds', out), 0);
  assert.ok(r.log.entries().some((e) => e.msg === 'retry succeeded.'));
  t.diagnostic(`/readyz 503 ${turnedMs} ms after S3 stopped; 200 again ${recoveredMs} ms after it returned`);
});

test('/readyz: 503 while the buffer is full (in_http answers 503), 200 once S3 drains it', async (t) => {
  const { s3, client, metrics } = await setup(t, 'total_limit_size 2k');
  await s3.stop();
  const now = Math.floor(Date.now() / 1000);
  let accepted = 0;
  for (let n = 0; n < 200; n++) {
    const a = await client.post('test.log', JSON.stringify({ event: 'user.login', time: isoAt(now - 1), uid: `full-${n}`, pad: 'x'.repeat(60) }));
    if (a.status === 503) break;
    assert.equal(a.status, 200, a.body);
    accepted++;
  }
  assert.ok(accepted > 0 && accepted < 200, `accepted ${accepted}`);
  const full = await get(metrics, '/readyz');
  assert.equal(full.status, 503);
  assert.match(full.body, /- output s3_out \(@type s3\): buffer full \(\d+ of total_limit_size 2048 bytes\), new events get 503\n/);
  const s = await scrape(metrics);
  assert.ok(s.one('fluentd_output_status_buffer_available_space_ratio', { plugin_id: 's3_out' }) <= 0);
  assert.equal(s.one('auditrelay_http_requests_total', { tag: 'test.log', code: '503' }), 1);
  await s3.start();
  await waitFor('/readyz 200 after the drain', async () => ((await get(metrics, '/readyz')).status === 200 ? true : undefined), 10_000, 100);
  t.diagnostic(`${accepted} events accepted before the buffer was full`);
});

test('/readyz: 503 while a source is not listening (before start)', async (t) => {
  const defer = cleanup(t);
  const dir = await mkdtemp(join(tmpdir(), 'ar-prom-load-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const confPath = join(dir, 'fluent.conf');
  await writeFile(confPath, `<source>\n  @type http\n  @id in_http\n  port 0\n</source>\n${PROMETHEUS}<match **>\n  @type null\n</match>\n`);
  const { agent } = await loadReceiver({ configPath: confPath, level: 'fatal' });
  const prom = agent.plugins.find((e) => e.plugin instanceof PrometheusInput)!.plugin as PrometheusInput;
  assert.deepEqual(prom.notReady(), ['source in_http (@type http) is not listening']);
  assert.deepEqual(agent.plugins.map((e) => `${e.category}:${e.type}:${e.pluginId}`),
    ['output:null:object:3e8', 'input:http:in_http', 'input:prometheus:object:410', 'input:prometheus_output_monitor:object:424', 'input:prometheus_monitor:object:438']);
});

test('a bad metrics_path or <labels> entry is one error naming file:line and the fix', async (t) => {
  const defer = cleanup(t);
  const dir = await mkdtemp(join(tmpdir(), 'ar-prom-bad-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const confPath = join(dir, 'fluent.conf');
  for (const [param, value] of [['metrics_path', 'metrics'], ['aggregated_metrics_path', '/readyz'], ['metrics_path', '/status.json']]) {
    await writeFile(confPath, `<source>\n  @type prometheus\n  ${param} ${value}\n</source>\n`);
    await assert.rejects(loadReceiver({ configPath: confPath, level: 'fatal' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'AR_CONF_BAD_VALUE');
      assert.match(err.message, new RegExp(`fluent\\.conf:3.*${param} '${value}' must be a path starting with '/' other than /healthz, /readyz, /status\\.json`));
      return true;
    });
  }
  for (const [line, says] of [['tag $.tag', /record accessor syntax is not available/], ['type x', /label name 'type' is not a free Prometheus label name/]] as const) {
    await writeFile(confPath, `<source>\n  @type prometheus_output_monitor\n  <labels>\n    ${line}\n  </labels>\n</source>\n`);
    await assert.rejects(loadReceiver({ configPath: confPath, level: 'fatal' }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'AR_CONF_BAD_VALUE');
      assert.match(err.message, /fluent\.conf:4/);
      assert.match(err.message, says);
      return true;
    });
  }
});
