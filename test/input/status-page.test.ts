// Issue 15 §3–§4: the status page at / of `<source> @type prometheus`, loaded by a real
// headless Chromium (Debian's `chromium`; .ci/run installs it) while mTLS posts flow into
// the seed fluent.conf with a real s3rver: the figures appear, move between loads, and
// show the retry state, recent errors and readiness while S3 is down. Also /status.json
// itself, and the page's self-containment (no external asset, a strict CSP).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';
import { httpGet } from '../support/http-get.ts';
import { startTestReceiver } from '../support/receiver.ts';
import { metricsWorld, tempDirFor } from '../support/world.ts';
import { isoAt, waitFor } from '../e2e/harness.ts';

const PROMETHEUS = `<source>
  @type prometheus
  port 0
  ready_failure_threshold 1
</source>
`;

/** The chromium binary on PATH (Debian: chromium; others: chromium-browser), if any. */
async function findChromium(): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const p = join(dir, name);
      try {
        await access(p, constants.X_OK);
        return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/**
 * One headless load: the DOM after ~3 s of the page's virtual time (its 1 s polls ran).
 * Profile and TMPDIR (Chromium's singleton socket dir) live in the test's temp dir.
 */
function dumpDom(chromium: string, dir: string, url: string, signal: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage',
      `--user-data-dir=${join(dir, 'chromium-profile')}`, '--virtual-time-budget=3000', '--dump-dom', url],
    { timeout: 60_000, maxBuffer: 8 << 20, signal, env: { ...process.env, TMPDIR: dir } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`chromium failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The text of the page's `data-field` cells, per output section. */
class Page {
  readonly html: string;
  constructor(html: string) {
    this.html = html;
  }

  #output(pluginId: string): string {
    const at = this.html.indexOf(`data-plugin-id="${pluginId}"`);
    assert.ok(at >= 0, `no section for ${pluginId} in the page:\n${this.html}`);
    const end = this.html.indexOf('</section>', at);
    return this.html.slice(at, end);
  }

  field(pluginId: string, name: string): string {
    const m = new RegExp(`data-field="${name}"[^>]*>([\\s\\S]*?)</(dd|ol)>`).exec(this.#output(pluginId));
    assert.ok(m, `no ${name} for ${pluginId} in the page`);
    return text(m[1]!);
  }

  byId(id: string): string {
    const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(span|div|ul)>`).exec(this.html);
    assert.ok(m, `no #${id} in the page`);
    return text(m[1]!);
  }
}

function text(html: string): string {
  return html.replace(/<[^>]*>/g, ' ').replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&').replace(/\s+/g, ' ').trim();
}

test('status page in headless Chromium: figures appear and move with traffic; retry state, errors and readiness while S3 is down', async (t) => {
  const chromium = await findChromium();
  if (chromium === undefined) {
    t.skip('chromium not found on PATH; install Debian\'s chromium (.ci/run does: apt-get install -y --no-install-recommends chromium)');
    return;
  }
  const { defer, dir, s3, client, metrics } = await metricsWorld(t, 'ar-status-', PROMETHEUS, { sockets: 2 });
  const abort = new AbortController();
  defer(() => abort.abort());
  const url = `http://127.0.0.1:${metrics}/`;

  // The page itself: one document, nothing loaded from elsewhere, a CSP that forbids it.
  const page = await httpGet(metrics, '/');
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'.*connect-src 'self'/);
  assert.doesNotMatch(page.body, /\b(src|href)\s*=|https?:\/\/|@import|url\(/, 'the page loads no external asset');

  let sent = 0;
  const post = async (n: number): Promise<void> => {
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < n; i++, sent++) {
      const a = await client.post('test.log', JSON.stringify({ event: 'user.login', time: isoAt(now - 1), uid: `page-${sent}` }));
      assert.equal(a.status, 200, a.body);
    }
  };
  await post(20);
  // Their chunks (a closed second) are uploaded, so the first load shows a last upload; and
  // the 1 s sampler has a sample a second old, so the rates are numbers (null before).
  await waitFor('the first uploads and rates', async () => {
    const s = JSON.parse((await httpGet(metrics, '/status.json')).body) as { outputs: { events_out_total: number; events_in_per_second: number | null }[] };
    return s.outputs[0]?.events_out_total === 20 && s.outputs[0].events_in_per_second !== null ? true : undefined;
  }, 15_000, 100);

  const first = new Page(await dumpDom(chromium, dir, url, abort.signal));
  assert.equal(first.byId('readiness'), 'ready');
  assert.equal(first.field('s3_out', 'events_in_total'), '20');
  assert.equal(first.field('s3_out', 'events_out_total'), '20');
  assert.match(first.field('s3_out', 'events_in_per_second'), /^\d+\.\d\d$/);
  assert.match(first.field('s3_out', 'buffer'), /^\d+(\.\d)? (B|KiB) of \d+(\.\d)? GiB \((< 0\.01|\d+\.\d\d) %\)$/);
  assert.match(first.field('s3_out', 'queued_chunks'), /^\d+$/);
  assert.match(first.field('s3_out', 'last_upload_at'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \(\d+ s ago\)$/);
  assert.match(first.field('s3_out', 'last_upload_key'), /^s3:\/\/teleport-audit\/\S+\.gz$/);
  assert.equal(first.field('s3_out', 'retry'), 'none (uploads succeed)');
  assert.equal(first.field('s3_out', 'recent_errors'), 'none');
  assert.equal(first.byId('http-requests'), '20');

  // The second load while posts keep flowing: events in has grown, and so has the rate's input.
  await post(15);
  let flowing = true;
  const traffic = (async () => {
    while (flowing) await post(1);
  })();
  let second: Page;
  try {
    second = new Page(await dumpDom(chromium, dir, url, abort.signal));
  } finally {
    flowing = false;
    await traffic;
  }
  const secondIn = Number(second.field('s3_out', 'events_in_total'));
  assert.ok(secondIn >= 35 && secondIn <= sent, `events in ${secondIn}: at least the 35 posted before the load, at most the ${sent} posted by its end`);
  assert.ok(Number(second.field('s3_out', 'events_in_per_second')) > 0, 'events/s in while posts flow');
  assert.ok(Number(second.byId('http-requests')) > Number(first.byId('http-requests')));

  // S3 down: failed uploads show as retry state and error lines; past the 1 s threshold, not ready.
  await s3.stop();
  await post(5);
  await waitFor('/readyz 503', async () => ((await httpGet(metrics, '/readyz')).status === 503 ? true : undefined), 15_000, 100);
  const down = new Page(await dumpDom(chromium, dir, url, abort.signal));
  assert.equal(down.byId('readiness'), 'not ready');
  assert.match(down.byId('reasons'), /output s3_out \(@type s3\): writes failing for \d+s \(ready_failure_threshold 1s\)/);
  assert.match(down.field('s3_out', 'retry'), /^retry_times \d+, next retry \d{4}-\d\d-\d\dT[\d:.]+Z, failing for \d+ s$/);
  assert.match(down.field('s3_out', 'recent_errors'), /\[warn\] failed to flush the buffer\. retry_times=\d+ next_retry_time="[^"]+" chunk="[0-9a-f]{32}" error_class="\w+" error=/);
  assert.notEqual(down.field('s3_out', 'oldest_chunk_age_seconds'), 'empty');
  assert.equal(down.field('s3_out', 'events_in_total'), String(sent));

  // S3 back: ready again by itself, the retry state gone, the error lines kept.
  await s3.start();
  await waitFor('/readyz 200', async () => ((await httpGet(metrics, '/readyz')).status === 200 ? true : undefined), 15_000, 100);
  const healed = await waitFor('retry state cleared', async () => {
    const s = JSON.parse((await httpGet(metrics, '/status.json')).body) as { outputs: { retry: unknown; events_out_total: number }[] };
    return s.outputs[0]?.retry === null && s.outputs[0].events_out_total === sent ? true : undefined;
  }, 15_000, 100);
  assert.ok(healed);
  const back = new Page(await dumpDom(chromium, dir, url, abort.signal));
  assert.equal(back.byId('readiness'), 'ready');
  assert.equal(back.field('s3_out', 'retry'), 'none (uploads succeed)');
  assert.equal(back.field('s3_out', 'events_out_total'), String(sent));
  assert.match(back.field('s3_out', 'recent_errors'), /retry succeeded\./);
  t.diagnostic(`four loads: events in ${[first, second, down, back].map((p) => p.field('s3_out', 'events_in_total')).join(' → ')}; while down: ${down.field('s3_out', 'retry')}`);
});

test('/status.json: the page\'s figures as JSON, from the counters /metrics reads', async (t) => {
  const { client, metrics } = await metricsWorld(t, 'ar-status-json-', PROMETHEUS, { timekey: 3600 });
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 3; i++) assert.equal((await client.post('test.log', JSON.stringify({ event: 'x', time: isoAt(now), uid: `j-${i}` }))).status, 200);
  const got = await httpGet(metrics, '/status.json');
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'application/json');
  assert.equal(got.headers['cache-control'], 'no-store');
  const s = JSON.parse(got.body) as Record<string, unknown> & { outputs: Record<string, unknown>[] };
  assert.equal(s.ready, true);
  assert.deepEqual(s.not_ready, []);
  assert.equal(s.http_requests_total, 3);
  assert.equal(s.outputs.length, 1);
  const o = s.outputs[0]!;
  assert.equal(o.plugin_id, 's3_out');
  assert.equal(o.type, 's3');
  assert.equal(o.events_in_total, 3);
  assert.equal(o.events_out_total, 0);
  assert.equal(o.staged_chunks, 1);
  assert.equal(o.queued_chunks, 0);
  assert.ok((o.buffer_bytes as number) > 0);
  assert.equal(o.buffer_fill_ratio, (o.buffer_bytes as number) / (o.buffer_limit_bytes as number));
  assert.equal(typeof o.oldest_chunk_age_seconds, 'number');
  assert.equal(o.last_upload, null);
  assert.equal(o.retry, null);
  assert.deepEqual(o.recent_errors, []);
});

test('metrics_path / (Fluentd accepts it): the Prometheus text wins at /, /status.json still answers', async (t) => {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, 'ar-status-root-');
  const r = await startTestReceiver('<source>\n  @type prometheus\n  port 0\n  metrics_path /\n</source>\n', dir);
  defer(() => r.receiver.close());
  const root = await httpGet(r.port, '/');
  assert.equal(root.status, 200);
  assert.match(String(root.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const status = await httpGet(r.port, '/status.json');
  assert.equal(status.status, 200);
  assert.deepEqual((JSON.parse(status.body) as { outputs: unknown[] }).outputs, []);
});
