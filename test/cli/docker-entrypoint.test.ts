// The image cannot be built here (no registry), so the entrypoint and the
// Dockerfile's layout are tested directly: bin/docker-entrypoint maps `fluentd …`
// and `auditrelay-event-handler …`, execs anything else, and every file the
// Dockerfile COPYs or runs exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanup } from '../support/cleanup.ts';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;
const ENTRY = join(ROOT, 'bin/docker-entrypoint');

test('entrypoint: fluentd -c X -p /fluentd/plugins --dry-run, the exporter, anything else', async (t) => {
  const defer = cleanup(t);
  const dir = mkdtempSync(join(tmpdir(), 'ar-entry-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'fluent.conf');
  writeFileSync(conf, `<source>\n  @type http\n  port 24881\n</source>\n<match **>\n  @type stdout\n</match>\n`);
  const env = { PATH: '/usr/bin:/bin' };
  const f = await run(ENTRY, ['fluentd', '-c', conf, '-p', '/fluentd/plugins', '--dry-run'], { env });
  assert.match(f.stdout, /-p\/--plugin \/fluentd\/plugins ignored/);
  assert.match(f.stdout, /finished dry run mode/);
  const dash = await run(ENTRY, ['--version'], { env });
  assert.match(dash.stdout, /^auditrelay \d/);
  const h = await run(ENTRY, ['auditrelay-event-handler', '--help'], { env });
  assert.match(h.stdout, /Usage: auditrelay-event-handler/);
  const other = await run(ENTRY, ['echo', 'as is'], { env });
  assert.equal(other.stdout, 'as is\n');
});

test('Dockerfile: COPY sources, ENTRYPOINT and CMD name files that exist; buffer dir for any uid; no second Node', () => {
  const df = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const copies = [...df.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
  assert.ok(copies.length >= 4);
  for (const c of copies) assert.ok(existsSync(join(ROOT, c)), `COPY ${c} is missing`);
  const entry = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(df)![1]!) as string[];
  assert.equal(entry[0], '/opt/auditrelay/bin/docker-entrypoint');
  assert.ok(existsSync(join(ROOT, entry[0]!.replace('/opt/auditrelay/', ''))));
  assert.deepEqual(JSON.parse(/^CMD (.+)$/m.exec(df)![1]!), ['fluentd', '-c', '/fluentd/etc/fluent.conf']);
  assert.match(df, /npm ci --omit=dev --ignore-scripts/);
  assert.match(df, /chmod 1777 \/var\/log\/fluent/);
});
