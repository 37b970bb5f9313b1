// <transport tls> with client_cert_auth: the handshake itself refuses clients
// without a certificate from ca_path (no HTTP answer at all, docs/compatibility.md O3 TLS
// probes); the server key's passphrase is checked at start-up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { makeCerts, type CertFiles } from '../support/certs.ts';
import { startTestReceiver, seedSource, rawRequest, type TestReceiver } from '../support/receiver.ts';
import { loadReceiver } from '../../src/receiver.ts';

let certs: CertFiles;
let other: CertFiles;
let r: TestReceiver;

before(async () => {
  [certs, other] = await Promise.all([makeCerts(), makeCerts()]);
  r = await startTestReceiver(seedSource(certs) + '<match **>\n  @type null\n</match>\n');
});
after(async () => {
  await r?.receiver.close();
});

function handshake(opts: { cert?: string; key?: string; minVersion?: 'TLSv1.2' | 'TLSv1.3'; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<{ ok: boolean; error?: string; protocol?: string }> {
  return new Promise((resolve) => {
    const s = connect({
      host: '127.0.0.1',
      port: r.port,
      ca: readFileSync(certs.ca),
      servername: 'localhost',
      ...(opts.cert ? { cert: readFileSync(opts.cert), key: readFileSync(opts.key!) } : {}),
      minVersion: opts.minVersion,
      maxVersion: opts.maxVersion,
    });
    s.on('secureConnect', () => {
      // TLS 1.3 reports client-cert rejection after the handshake: try one request.
      s.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
    });
    s.on('data', () => {
      const protocol = s.getProtocol() ?? undefined;
      s.destroy();
      resolve({ ok: true, protocol });
    });
    s.on('error', (err) => resolve({ ok: false, error: err.message }));
    s.on('close', () => resolve({ ok: false, error: 'closed' }));
  });
}

test('the client certificate from ca_path is accepted over TLS 1.2 and 1.3', async () => {
  assert.deepEqual(await handshake({ cert: certs.clientCert, key: certs.clientKey, maxVersion: 'TLSv1.2' }), { ok: true, protocol: 'TLSv1.2' });
  assert.deepEqual(await handshake({ cert: certs.clientCert, key: certs.clientKey, minVersion: 'TLSv1.3' }), { ok: true, protocol: 'TLSv1.3' });
});

test('no client certificate, or one from another CA, or a server-only certificate: refused in the handshake', async () => {
  for (const [name, opts] of [
    ['none', {}],
    ['other CA', { cert: other.clientCert, key: other.clientKey }],
    ['serverAuth-only cert', { cert: certs.serverCert, key: certs.serverKey }],
  ] as const) {
    for (const maxVersion of ['TLSv1.2', 'TLSv1.3'] as const) {
      let key: string | undefined = 'key' in opts ? opts.key : undefined;
      if (name === 'serverAuth-only cert') {
        // the server key is encrypted; hand the client an opened copy
        const { createPrivateKey } = await import('node:crypto');
        key = join(certs.dir, 'server-open.key');
        writeFileSync(key, createPrivateKey({ key: readFileSync(certs.serverKey), passphrase: certs.passphrase }).export({ type: 'pkcs8', format: 'pem' }));
      }
      const res = await handshake({ ...('cert' in opts ? { cert: opts.cert, key } : {}), maxVersion });
      assert.equal(res.ok, false, `${name} over ${maxVersion} must be refused`);
    }
  }
  const warns = r.log.entries().filter((e) => /^TLS connection from 127\.0\.0\.1:\d+ refused: /.test(String(e.msg)));
  assert.ok(warns.length >= 2, 'handshake failures are logged, one line each');
  const text = warns.map((e) => String(e.msg)).join("\n");
  assert.match(text, /no client certificate was presented/);
  assert.match(text, /not signed by the CA in ca_path/);
  assert.doesNotMatch(text, /OpenSSL::/);
  // and the server still answers a good client
  const ok = await rawRequest(r.port, certs, 'POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}');
  assert.match(ok.raw, /^HTTP\/1\.1 200 OK/);
});

test('an encrypted PKCS#8 server key opens as well as the legacy Proc-Type form', async () => {
  const { createPrivateKey } = await import('node:crypto');
  const pkcs8 = join(certs.dir, 'server-pkcs8.key');
  const opened = createPrivateKey({ key: readFileSync(certs.serverKey), passphrase: certs.passphrase });
  writeFileSync(pkcs8, opened.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pkcs8-pass' }));
  assert.match(readFileSync(pkcs8, 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/);
  const conf = join(certs.dir, 'pkcs8.conf');
  writeFileSync(conf, seedSource({ ...certs, serverKey: pkcs8, passphrase: 'pkcs8-pass' }) + '<match **>\n  @type null\n</match>\n');
  await assert.doesNotReject(loadReceiver({ configPath: conf, level: 'silent' }));
  writeFileSync(conf, seedSource({ ...certs, serverKey: pkcs8, passphrase: 'nope' }) + '<match **>\n  @type null\n</match>\n');
  await assert.rejects(loadReceiver({ configPath: conf, level: 'silent' }), { code: 'AR_CONF_BAD_KEY' });
});

test('encrypted server key: the right passphrase starts, a wrong one is a clear start-up error', async () => {
  const bad = join(certs.dir, 'bad.conf');
  writeFileSync(bad, seedSource({ ...certs, passphrase: 'wrong' }) + '<match **>\n  @type null\n</match>\n');
  await assert.rejects(loadReceiver({ configPath: bad, level: 'silent' }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'AR_CONF_BAD_KEY');
    assert.match(err.message, /bad\.conf:\d+: private key .* could not be decrypted with private_key_passphrase/);
    return true;
  });
});

test('ALPN: a client offering no ALPN, http/1.1 or only http/1.0 (curl --http1.0) is served; h2 only is refused', async () => {
  const post = (alpn: string[] | undefined) => new Promise<{ raw: string; alpn: string | false | null; error?: string }>((resolve) => {
    const s = connect({
      host: '127.0.0.1', port: r.port, ca: readFileSync(certs.ca), servername: 'localhost',
      cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey),
      ...(alpn ? { ALPNProtocols: alpn } : {}),
    });
    let raw = '';
    s.on('secureConnect', () => s.write('POST /session.abc HTTP/1.0\r\nHost: x\r\nContent-Length: 7\r\n\r\n{"a":1}'));
    s.on('data', (d) => (raw += d.toString('latin1')));
    s.on('error', (err) => resolve({ raw, alpn: s.alpnProtocol, error: err.message }));
    s.on('close', () => resolve({ raw, alpn: s.alpnProtocol }));
  });
  for (const [alpn, selected] of [[undefined, false], [['http/1.1'], 'http/1.1'], [['http/1.0'], 'http/1.0'], [['h2', 'http/1.1'], 'http/1.1']] as const) {
    const res = await post(alpn ? [...alpn] : undefined);
    assert.equal(res.error, undefined, `ALPN ${alpn}`);
    assert.equal(res.alpn, selected, `ALPN ${alpn}`);
    assert.match(res.raw, /^HTTP\/1\.1 200 OK\r\n/, `ALPN ${alpn}`);
  }
  const h2 = await post(['h2']);
  assert.match(h2.error ?? '', /no application protocol/i);
});
