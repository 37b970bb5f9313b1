import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realpathSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { parse as parseToml } from 'smol-toml';
import pkg from '../../package.json' with { type: 'json' };
import { loadStartConfig } from '../../src/event-handler/start/start-config.ts';
import { NINE_FILES, expectedStdout, passphraseOf, runCli } from './cli-helpers.ts';
import { openssl } from './openssl-helpers.ts';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'auditrelay-configure-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function snapshot(dir: string): Promise<Map<string, { mtimeMs: number; content: string }>> {
  const m = new Map<string, { mtimeMs: number; content: string }>();
  for (const f of NINE_FILES) {
    const p = join(dir, f);
    m.set(f, { mtimeMs: (await stat(p)).mtimeMs, content: await readFile(p, 'latin1') });
  }
  return m;
}

async function x509Text(dir: string, file: string): Promise<string> {
  const r = await openssl(['x509', '-in', file, '-noout', '-text'], dir);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

test('configure with defaults: nine 0600 files, upstream lines, 4096-bit certs openssl accepts', async (t) => {
  const dir = await tempDir(t);
  const before = Date.now();
  const r = await runCli(['configure', '.', 'teleport.example.com:443'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.startsWith(expectedStdout(pkg.version)), r.stdout);
  const next = r.stdout.slice(expectedStdout(pkg.version).length);
  assert.match(next, /^\nNext steps with auditrelay:\n/);
  assert.ok(next.includes('tctl auth sign --user=teleport-event-handler --format=file --out='), next);
  assert.ok(next.includes(`bin/auditrelay -c ${join(realpathSync(dir), 'fluent.conf')}\n`) || next.includes(`bin/auditrelay -c ${join(dir, 'fluent.conf')}\n`), next);
  assert.match(next, /docker run -u \$\(id -u\) -v /);
  assert.match(next, /bin\/auditrelay-event-handler start --config \S+teleport-event-handler\.toml\n/);
  assert.match(next, /written 0600: a container running as another uid cannot read them; run it with -u \$\(id -u\), or chown them/);

  for (const f of NINE_FILES) {
    const s = await stat(join(dir, f));
    assert.equal(s.mode & 0o777, 0o600, `${f} mode ${(s.mode & 0o777).toString(8)}`);
  }

  const verify = await openssl(['verify', '-CAfile', 'ca.crt', 'server.crt', 'client.crt'], dir);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /server\.crt: OK/);
  assert.match(verify.stdout, /client\.crt: OK/);

  // localhost's own addresses become IP SANs when --ip is not given (upstream net.LookupIP).
  const localhostIps = (await lookup('localhost', { all: true })).map((a) => a.address);
  assert.ok(localhostIps.length > 0);

  const ca = await x509Text(dir, 'ca.crt');
  const server = await x509Text(dir, 'server.crt');
  const client = await x509Text(dir, 'client.crt');
  for (const [name, text] of [['ca', ca], ['server', server], ['client', client]] as const) {
    assert.match(text, /Public-Key: \(4096 bit\)/, name);
    assert.match(text, /Signature Algorithm: sha256WithRSAEncryption/, name);
    assert.match(text, /Issuer: CN ?= ?CA\n/, name);
  }
  assert.match(ca, /Subject: CN ?= ?CA\n/);
  assert.match(ca, /X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0/);
  assert.match(ca, /X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
  assert.match(ca, /X509v3 Subject Key Identifier/);
  assert.doesNotMatch(ca, /Subject Alternative Name/);

  assert.match(server, /Subject: CN ?= ?localhost\n/);
  assert.match(server, /X509v3 Key Usage: critical\n\s+Digital Signature\n/);
  assert.match(server, /X509v3 Extended Key Usage: ?\n\s+TLS Web Server Authentication\n/);
  assert.doesNotMatch(server, /Basic Constraints/);
  assert.match(client, /Subject: CN ?= ?Client\n/);
  assert.match(client, /X509v3 Extended Key Usage: ?\n\s+TLS Web Client Authentication\n/);
  assert.doesNotMatch(client, /Basic Constraints/);
  const ipSans = localhostIps.map((ip) => `IP Address:${ip === '::1' ? '0:0:0:0:0:0:0:1' : ip}`);
  for (const text of [server, client]) {
    const san = /X509v3 Subject Alternative Name: ?\n\s+(.*)\n/.exec(text);
    assert.ok(san !== null);
    assert.equal(san[1], ['DNS:localhost', ...ipSans].join(', '));
  }

  // Serial in [0, 2^128), NotAfter = now + 87600h.
  for (const f of ['ca.crt', 'server.crt', 'client.crt']) {
    const cert = new X509Certificate(await readFile(join(dir, f)));
    assert.ok(BigInt('0x' + cert.serialNumber) < 1n << 128n);
    const ttl = Date.parse(cert.validTo) - Date.parse(cert.validFrom);
    assert.ok(Math.abs(ttl - 87600 * 3600_000) <= 1000, `${f} ttl ${ttl}`);
    assert.ok(Math.abs(Date.parse(cert.validFrom) - before) < 60_000);
  }

  // Only server.key is encrypted, in the legacy OpenSSL form; the others are plain PKCS#1.
  const serverKey = await readFile(join(dir, 'server.key'), 'latin1');
  assert.match(serverKey, /^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,[0-9a-f]{32}\n\n/);
  for (const f of ['ca.key', 'client.key']) {
    const pem = await readFile(join(dir, f), 'utf8');
    assert.match(pem, /^-----BEGIN RSA PRIVATE KEY-----\nMII/, f);
    assert.equal(createPrivateKey(pem).asymmetricKeyDetails?.modulusLength, 4096);
  }

  const pwd = passphraseOf(await readFile(join(dir, 'fluent.conf'), 'latin1'));
  assert.match(pwd, /^[0-9a-f]{64}$/);
  const good = await openssl(['rsa', '-passin', `pass:${pwd}`, '-in', 'server.key', '-check', '-noout'], dir);
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /RSA key ok/);
  const wrong = await openssl(['rsa', '-passin', `pass:${pwd.slice(1)}x`, '-in', 'server.key', '-check', '-noout'], dir);
  assert.notEqual(wrong.code, 0);
  // Our receiver uses Node TLS: it must open the same file.
  assert.equal(createPrivateKey({ key: serverKey, passphrase: pwd }).asymmetricKeyDetails?.modulusLength, 4096);
  assert.throws(() => createPrivateKey({ key: serverKey, passphrase: 'nope' }));
});

for (const c of [
  { name: 'plain piped passphrase', input: 'piped-secret' },
  { name: 'piped passphrase keeps its trailing newline (upstream io.ReadAll)', input: 'with space\n' },
]) {
  test(`configure uses a ${c.name}`, async (t) => {
    const dir = await tempDir(t);
    const r = await runCli(['configure', '.', '--length', '2048'], dir, c.input);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes(c.input.trim()), 'the passphrase is never printed');
    const conf = await readFile(join(dir, 'fluent.conf'), 'latin1');
    assert.equal(passphraseOf(conf), c.input);
    const serverKey = await readFile(join(dir, 'server.key'), 'latin1');
    assert.equal(createPrivateKey({ key: serverKey, passphrase: c.input }).asymmetricKeyDetails?.modulusLength, 2048);
    if (!c.input.includes('\n')) {
      const ok = await openssl(['rsa', '-passin', `pass:${c.input}`, '-in', 'server.key', '-check', '-noout'], dir);
      assert.equal(ok.code, 0, ok.stderr);
    }
  });
}

test('configure --cn --dns-names --ip --ttl and custom names land in the certs and files', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'placeholder'), '');
  const r = await runCli(
    ['configure', 'out', 'tele.example.com:3025', 'myca', 'srv', 'cli', '--cn=handler.example.com',
      '--dns-names', 'forwarder.example.com,localhost', '--ip', '10.1.2.3', '--ip=::1', '--ttl', '1h30m',
      '--length', '2048'],
    dir,
  );
  // <out> must exist, as upstream's kong existingdir.
  assert.equal(r.code, 255);
  assert.match(r.stderr, /AR_EXPORTER_OUT_DIR/);

  await rm(join(dir, 'placeholder'));
  await mkdir(join(dir, 'out'));
  const ok = await runCli(
    ['configure', 'out', 'tele.example.com:3025', 'myca', 'srv', 'cli', '--cn=handler.example.com',
      '--dns-names', 'forwarder.example.com,localhost', '--ip', '10.1.2.3', '--ip=::1', '--ttl', '1h30m',
      '--length', '2048'],
    dir,
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /saved to out\/myca\.crt, out\/myca\.key, out\/srv\.crt, out\/srv\.key, out\/cli\.crt, out\/cli\.key\n/);
  const out = join(dir, 'out');
  const verify = await openssl(['verify', '-CAfile', 'myca.crt', 'srv.crt', 'cli.crt'], out);
  assert.equal(verify.code, 0, verify.stderr);
  const server = await x509Text(out, 'srv.crt');
  assert.match(server, /Subject: CN ?= ?handler\.example\.com\n/);
  assert.match(server, /Public-Key: \(2048 bit\)/);
  assert.match(server, /DNS:forwarder\.example\.com, DNS:localhost, IP Address:10\.1\.2\.3, IP Address:0:0:0:0:0:0:0:1\n/);
  const cert = new X509Certificate(await readFile(join(out, 'cli.crt')));
  assert.equal(Date.parse(cert.validTo) - Date.parse(cert.validFrom), 90 * 60_000);

  const conf = await readFile(join(out, 'fluent.conf'), 'utf8');
  assert.match(conf, /ca_path "\/keys\/myca\.crt"/);
  assert.match(conf, /cert_path "\/keys\/srv\.crt"/);
  assert.match(conf, /private_key_path "\/keys\/srv\.key"/);
  const toml = parseToml(await readFile(join(out, 'teleport-event-handler.toml'), 'utf8')) as Record<string, any>;
  assert.equal(toml.forward.fluentd.ca, join(out, 'myca.crt'));
  assert.equal(toml.forward.fluentd.cert, join(out, 'cli.crt'));
  assert.equal(toml.forward.fluentd.key, join(out, 'cli.key'));
  assert.equal(toml.teleport.addr, 'tele.example.com:3025');
});

test('a second run without a terminal refuses and changes nothing; --force overwrites', async (t) => {
  const dir = await tempDir(t);
  const first = await runCli(['configure', '.', '--length', '2048'], dir, 'first-pass');
  assert.equal(first.code, 0, first.stderr);
  const before = await snapshot(dir);

  for (const stdin of ['second-pass', 'devnull'] as const) {
    const again = await runCli(['configure', '.', '--length', '2048'], dir, stdin);
    assert.equal(again.code, 255);
    assert.match(again.stderr, /\[AR_EXPORTER_WOULD_OVERWRITE\]/);
    assert.match(again.stderr, /--force/);
    assert.equal(again.stdout, '');
    assert.deepEqual(await snapshot(dir), before);
  }

  // One leftover file is enough to refuse.
  const partial = await tempDir(t);
  await writeFile(join(partial, 'fluent.conf'), 'mine\n');
  const refused = await runCli(['configure', '.', '--length', '2048'], partial, 'x');
  assert.equal(refused.code, 255);
  assert.match(refused.stderr, /fluent\.conf already exists/);
  assert.equal(await readFile(join(partial, 'fluent.conf'), 'utf8'), 'mine\n');
  await assert.rejects(stat(join(partial, 'ca.crt')), { code: 'ENOENT' });

  await chmod(join(dir, 'fluent.conf'), 0o644);
  const forced = await runCli(['configure', '.', '--length', '2048', '--force'], dir, 'second-pass');
  assert.equal(forced.code, 0, forced.stderr);
  const after = await snapshot(dir);
  for (const f of NINE_FILES.filter((f) => f.endsWith('.crt') || f.endsWith('.key') || f === 'fluent.conf')) {
    assert.notEqual(after.get(f)?.content, before.get(f)?.content, `${f} rewritten`);
  }
  assert.equal((await stat(join(dir, 'fluent.conf'))).mode & 0o777, 0o600);
  assert.equal(passphraseOf(after.get('fluent.conf')!.content), 'second-pass');
  const ok = await openssl(['rsa', '-passin', 'pass:second-pass', '-in', 'server.key', '-check', '-noout'], dir);
  assert.equal(ok.code, 0, ok.stderr);
});

test('the generated TOML has upstream keys and passes the start config loader', async (t) => {
  const dir = await tempDir(t);
  const r = await runCli(['configure', '.', 'teleport.example.com:443', '--length', '2048'], dir);
  assert.equal(r.code, 0, r.stderr);
  const tomlPath = join(dir, 'teleport-event-handler.toml');
  // JSON round trip: smol-toml tables have a null prototype.
  const toml = JSON.parse(JSON.stringify(parseToml(await readFile(tomlPath, 'utf8'))));
  assert.deepEqual(toml, {
    storage: './storage',
    timeout: '10s',
    batch: 20,
    forward: {
      fluentd: {
        ca: join(dir, 'ca.crt'),
        cert: join(dir, 'client.crt'),
        key: join(dir, 'client.key'),
        url: 'https://localhost:8888/test.log',
        'session-url': 'https://localhost:8888/session',
      },
    },
    teleport: { addr: 'teleport.example.com:443', identity: 'identity', refresh: { enabled: true } },
  });

  // identity is an existingfile upstream: without it the loader refuses, as kong does.
  assert.throws(() => loadStartConfig({ configPath: tomlPath, cwd: dir, env: {} }), {
    code: 'AR_EXPORTER_CONFIG',
    message: /teleport-identity.*not found/,
  });
  await writeFile(join(dir, 'identity'), '');
  const cfg = loadStartConfig({ configPath: tomlPath, cwd: dir, env: {} });
  assert.equal(cfg.storage, './storage');
  assert.equal(cfg.timeoutMs, 10_000);
  assert.equal(cfg.batch, 20);
  assert.equal(cfg.fluentdUrl, 'https://localhost:8888/test.log');
  assert.equal(cfg.fluentdSessionUrl, 'https://localhost:8888/session');
  assert.equal(cfg.fluentdCa, join(dir, 'ca.crt'));
  assert.equal(cfg.fluentdCert, join(dir, 'client.crt'));
  assert.equal(cfg.fluentdKey, join(dir, 'client.key'));
  assert.equal(cfg.teleportAddr, 'teleport.example.com:443');
  assert.equal(cfg.teleportIdentity, join(dir, 'identity'));
  assert.equal(cfg.teleportRefreshEnabled, true);
  assert.equal(cfg.fluentdMaxConnections, 10);

  // The CLI validates the same file, then refuses the (empty) identity before dialing.
  const start = await runCli(['start', '-c', tomlPath], dir);
  assert.notEqual(start.code, 0);
  assert.match(start.stderr, /no private key PEM block found.*\[AR_EXPORTER_IDENTITY\]/);
});

for (const c of [
  { args: ['configure'], code: 1, err: 'AR_EXPORTER_USAGE' },
  { args: ['configure', '.', '--ttl', '10'], code: 1, err: 'AR_EXPORTER_USAGE' },
  { args: ['configure', '.', '--length', '512'], code: 1, err: 'AR_EXPORTER_USAGE' },
  { args: ['configure', '.', '--bogus'], code: 1, err: 'AR_EXPORTER_USAGE' },
  { args: ['configure', 'missing-dir'], code: 255, err: 'AR_EXPORTER_OUT_DIR' },
  { args: ['configure', '.', '--length', '1024', '--ip', '300.1.1.1'], code: 255, err: 'AR_PKI_BAD_IP' },
  { args: ['start'], code: 1, err: 'AR_EXPORTER_CONFIG' },
  { args: ['frobnicate'], code: 1, err: 'AR_EXPORTER_USAGE' },
]) {
  test(`exit ${c.code} and ${c.err}: ${c.args.join(' ')}`, async (t) => {
    const dir = await tempDir(t);
    const r = await runCli(c.args, dir);
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.stderr, new RegExp(`\\[${c.err}\\]`));
    // A failed configure writes nothing.
    for (const f of NINE_FILES) await assert.rejects(stat(join(dir, f)), { code: 'ENOENT' });
  });
}

test('--dns-names that do not resolve yet: a warning, and the certificates are written (issue 13.10)', async (t) => {
  const dir = await tempDir(t);
  const r = await runCli(['configure', '.', '--length', '1024', '--dns-names', 'no-such-host.invalid'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /WARNING: --dns-names entry 'no-such-host\.invalid' does not resolve yet .*stays in the certificate as a DNS name/);
  for (const f of NINE_FILES) await stat(join(dir, f));
});

test('version and --help', async (t) => {
  const dir = await tempDir(t);
  const v = await runCli(['version'], dir);
  assert.equal(v.code, 0);
  assert.equal(v.stdout, `Teleport event handler v${pkg.version} ${process.version}\n`);
  const h = await runCli(['--help'], dir);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /configure <out> \[<addr>\] \[<ca-name>\] \[<server-name>\] \[<client-name>\]/);
});
