import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStartConfig } from '../../src/event-handler/start/start-config.ts';
import type { LoadStartConfigOptions, StartConfig } from '../../src/event-handler/start/start-config.ts';

const BASE = `storage = "./storage"
[forward.fluentd]
url = "https://f:8888/test.log"
session-url = "https://f:8888/session"
[teleport]
identity = "identity"
`;

async function withDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'auditrelay-startcfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  for (const f of ['identity', 'c.crt', 'c.key', 'ca.crt']) await writeFile(join(dir, f), '');
  return dir;
}

async function load(
  t: { after(fn: () => Promise<void>): void },
  toml: string,
  extra: Omit<LoadStartConfigOptions, 'configPath' | 'cwd'> = {},
): Promise<StartConfig> {
  const dir = await withDir(t);
  await writeFile(join(dir, 'h.toml'), toml);
  return loadStartConfig({ configPath: 'h.toml', cwd: dir, env: {}, ...extra });
}

for (const c of [
  { name: 'defaults', toml: BASE, check: { batch: 20, timeoutMs: 5000, concurrency: 5, windowSizeMs: 86_400_000,
    skipSessionTypes: ['print'], types: [], teleportAddr: 'localhost:3025', fluentdMaxConnections: 10,
    lockFailedAttemptsCount: 3, lockPeriodMs: 60_000, lockForMs: 0, teleportRefreshIntervalMs: 60_000 } },
  { name: 'namespace and unknown keys are ignored', toml: BASE.replace('storage', 'namespace = "default"\nwhatever = 1\nstorage'),
    check: { storage: './storage' } },
  { name: 'types as array and as comma string', toml: `types = ["user.login", "session.start"]\nskip-event-types = "a,b"\n${BASE}`,
    check: { types: ['user.login', 'session.start'], skipEventTypes: ['a', 'b'] } },
  { name: 'kebab top-level and dotted forms both resolve', toml: `lock-enabled = true\nteleport-refresh-interval = "2m"\n${BASE}`,
    check: { lockEnabled: true, teleportRefreshIntervalMs: 120_000 } },
  { name: '[lock] enabled resolves (lock.enabled)', toml: `${BASE}[lock]\nenabled = true\n`, check: { lockEnabled: true } },
  { name: 'start-time is truncated to seconds', toml: `start-time = "2024-11-20T10:00:00.900Z"\n${BASE}`,
    check: { startTime: new Date('2024-11-20T10:00:00Z') } },
  { name: 'max-connections explicit', toml: BASE.replace('session-url', 'max-connections = 3\nsession-url'),
    check: { fluentdMaxConnections: 3 } },
]) {
  test(`start config: ${c.name}`, async (t) => {
    const cfg = await load(t, c.toml);
    for (const [k, v] of Object.entries(c.check)) assert.deepEqual(cfg[k as keyof StartConfig], v, k);
  });
}

test('precedence: CLI flag > TOML > env > default (§2)', async (t) => {
  const toml = `timeout = "10s"\n${BASE}`;
  const env = { FDFWD_TIMEOUT: '30s', FDFWD_BATCH: '7' };
  const a = await load(t, toml, { env });
  assert.equal(a.timeoutMs, 10_000, 'TOML beats env');
  assert.equal(a.batch, 7, 'env beats default');
  const b = await load(t, toml, { env, flags: { timeout: '1m' } });
  assert.equal(b.timeoutMs, 60_000, 'flag beats TOML');
});

for (const c of [
  { name: 'missing required', toml: '[teleport]\nidentity = "identity"\n', msg: /missing flags: --fluentd-url, --fluentd-session-url, --storage/ },
  { name: 'bad duration', toml: `timeout = "10"\n${BASE}`, msg: /timeout = "10" is not a duration/ },
  { name: 'bad int', toml: `batch = "x"\n${BASE}`, msg: /batch = "x" is not an integer/ },
  { name: 'identity and cert/key/ca', toml: `${BASE}cert = "c.crt"\nkey = "c.key"\nca = "ca.crt"\n`, msg: /mutually exclusive/ },
  { name: 'partial teleport cert/key/ca', toml: BASE.replace('identity = "identity"', 'cert = "c.crt"'),
    msg: /setting\(s\) `teleport.cert` are provided but setting\(s\) `teleport.key`, `teleport.ca` are missing/ },
  { name: 'no teleport credentials', toml: BASE.replace('identity = "identity"', ''), msg: /neither `identity` file nor/ },
  { name: 'fluentd cert without key', toml: BASE.replace('session-url', 'cert = "c.crt"\nsession-url'), msg: /both fluentd_cert and fluentd_key/ },
  { name: 'missing file', toml: BASE.replace('"identity"', '"nope"'), msg: /teleport-identity.*not found/ },
  { name: 'not TOML', toml: 'storage = ', msg: /not valid TOML/ },
]) {
  test(`start config rejects: ${c.name}`, async (t) => {
    await assert.rejects(load(t, c.toml), { code: 'AR_EXPORTER_CONFIG', message: c.msg });
  });
}
