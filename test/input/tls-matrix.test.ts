// The TLS matrix of issue 12 ("TLS matrix" guarantee) on a real receiver over loopback: every
// client certificate a user can get wrong, and old TLS versions, are refused at the handshake and
// leave exactly one warn line saying why in words (no "socket hang up", no "unexpected error");
// HTTP/1.0 and no-ALPN clients are served; plain http:// gets Go's 400 text
// (docs/compatibility.md §2). Certificates are made here with node-forge, as src/pki/ does.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type SecureVersion } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { mtlsSource, startTestReceiver, type TestReceiver } from '../support/receiver.ts';
import { cleanup } from '../support/cleanup.ts';

const DAY = 86_400_000;
interface Issued { certPem: string; keyPem: string }
interface Key { pem: string; forge: forge.pki.rsa.PrivateKey }

async function rsaKey(): Promise<Key> {
  const { privateKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { pem: privateKey, forge: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey };
}

let serial = 1;
/** One X.509 v3 certificate; `issuer` absent → self-signed CA. */
function issue(opts: { cn: string; key: Key; issuer?: { cn: string; key: Key }; eku?: 'serverAuth' | 'clientAuth'; from?: number; to?: number }): Issued {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(opts.key.forge.n, opts.key.forge.e);
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = new Date(Date.now() + (opts.from ?? -60_000));
  cert.validity.notAfter = new Date(Date.now() + (opts.to ?? DAY));
  cert.setSubject([{ name: 'commonName', value: opts.cn }]);
  cert.setIssuer([{ name: 'commonName', value: opts.issuer?.cn ?? opts.cn }]);
  cert.setExtensions(opts.issuer
    ? [
        { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', [opts.eku ?? 'clientAuth']: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
      ]
    : [
        { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
        { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
        { name: 'subjectKeyIdentifier' },
      ]);
  cert.sign((opts.issuer?.key ?? opts.key).forge, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: opts.key.pem };
}

let dir: string;
let r: TestReceiver;
let ca: Issued;
let clients: Record<string, Issued>;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ar-tls-matrix-'));
  const [caKey, foreignKey, leafKey] = await Promise.all([rsaKey(), rsaKey(), rsaKey()]);
  const caName = { cn: 'Matrix CA', key: caKey };
  ca = issue(caName);
  const foreign = { cn: 'Foreign CA', key: foreignKey };
  const server = issue({ cn: 'localhost', key: leafKey, issuer: caName, eku: 'serverAuth' });
  clients = {
    good: issue({ cn: 'good client', key: leafKey, issuer: caName }),
    foreign: issue({ cn: 'foreign client', key: leafKey, issuer: foreign }),
    expired: issue({ cn: 'expired client', key: leafKey, issuer: caName, from: -2 * DAY, to: -DAY }),
    future: issue({ cn: 'future client', key: leafKey, issuer: caName, from: DAY, to: 2 * DAY }),
    ca,
    server,
  };
  const files = { ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.serverCert, server.certPem);
  writeFileSync(files.serverKey, server.keyPem, { mode: 0o600 });
  const conf = mtlsSource({ ...files, dir, clientCert: '', clientKey: '', passphrase: 'unused-for-a-plain-key' }) +
    '<match **>\n  @type stdout\n</match>\n';
  r = await startTestReceiver(conf, dir);
});
after(async () => {
  await r?.receiver.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Attempt { status?: string; error?: string; localPort?: number; protocol?: string | null }

/** One TLS connection that POSTs an event: the status line it got, or the error/close it saw. */
function attempt(opts: { client?: Issued; minVersion?: SecureVersion; maxVersion?: SecureVersion; ciphers?: string; alpn?: string[]; http10?: boolean }): Promise<Attempt> {
  return new Promise((resolve) => {
    const s = tlsConnect({
      host: '127.0.0.1', port: r.port, ca: ca.certPem, servername: 'localhost',
      ...(opts.client ? { cert: opts.client.certPem, key: opts.client.keyPem } : {}),
      minVersion: opts.minVersion, maxVersion: opts.maxVersion, ciphers: opts.ciphers,
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    });
    let localPort: number | undefined;
    let raw = '';
    const done = (res: Omit<Attempt, 'localPort'>) => {
      s.destroy();
      resolve({ ...res, localPort });
    };
    s.on('connect', () => (localPort = s.localPort));
    s.on('secureConnect', () => {
      const body = '{"event":"matrix"}';
      s.write(`POST /matrix.${opts.http10 ? 'ten' : 'eleven'} HTTP/1.${opts.http10 ? 0 : 1}\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    s.on('data', (d: Buffer) => (raw += d.toString('latin1')));
    s.on('end', () => done(raw ? { status: raw.split('\r\n')[0], protocol: s.getProtocol() } : { error: 'closed without an answer' }));
    s.on('error', (err) => done(raw ? { status: raw.split('\r\n')[0] } : { error: err.message }));
    s.on('close', () => done(raw ? { status: raw.split('\r\n')[0] } : { error: 'closed without an answer' }));
  });
}

/** input_http's log lines about one client connection (matched by its source port). */
async function linesFor(port: number | undefined, expectSome = true): Promise<Record<string, unknown>[]> {
  assert.ok(port, 'the client connected');
  // The refusal is logged when the server side closes; give the event loop a moment.
  if (expectSome) await r.log.waitFor(() => r.log.entries().some((e) => e.port === port), 2000).catch(() => {});
  return r.log.entries().filter((e) => e.port === port && e.plugin === 'input_http');
}

const REFUSED: [string, () => Issued | undefined, RegExp][] = [
  ['no client certificate', () => undefined, /no client certificate was presented, but client_cert_auth is true/],
  ['a certificate from a foreign CA', () => clients.foreign, /the client certificate is not signed by the CA in ca_path .*subject CN=foreign client, issuer CN=Foreign CA/],
  ['an expired certificate', () => clients.expired, /the client certificate has expired .*subject CN=expired client/],
  ['a certificate not valid yet', () => clients.future, /the client certificate is not valid yet \(check the clocks\) .*subject CN=future client/],
  ['the CA certificate as client certificate', () => clients.ca, /the client certificate is not for client authentication .*subject CN=Matrix CA, issuer CN=Matrix CA/],
  ['the server certificate as client certificate', () => clients.server, /the client certificate is not for client authentication \(no clientAuth extended key usage.*subject CN=localhost, issuer CN=Matrix CA/],
];

for (const [name, client, words] of REFUSED) {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    test(`${name} over ${version}: refused at the handshake, one warn line in words`, async () => {
      const res = await attempt({ client: client(), minVersion: version, maxVersion: version });
      if (process.env.SHOW) console.log(name, version, res.error);
      assert.equal(res.status, undefined, `no HTTP answer, got ${res.status}`);
      assert.ok(res.error, 'the client sees an error or a close');
      const lines = await linesFor(res.localPort);
      assert.equal(lines.length, 1, `one line, got:\n${lines.map((l) => JSON.stringify(l)).join('\n')}`);
      assert.equal(lines[0].level, 40);
      assert.match(String(lines[0].msg), /^TLS connection from 127\.0\.0\.1:\d+ refused: /);
      assert.match(String(lines[0].msg), words);
      assert.doesNotMatch(String(lines[0].msg), /socket hang up|OpenSSL::|null/);
    });
  }
}

for (const version of ['TLSv1', 'TLSv1.1'] as const) {
  test(`a ${version} client is refused with a protocol_version alert and one warn line`, async () => {
    // SECLEVEL=0: OpenSSL 3 clients refuse TLS < 1.2 themselves otherwise, before asking the server.
    const res = await attempt({ client: clients.good, minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(res.status, undefined);
    assert.match(res.error ?? '', /protocol version|unsupported protocol/i);
    const lines = await linesFor(res.localPort);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, 40);
    assert.match(String(lines[0].msg), /refused: the client offered a TLS version outside min_version\.\.max_version/);
  });
}

test('the good client certificate, HTTP/1.0 and no ALPN, over TLS 1.2 and 1.3: 200 and the event is stored', async () => {
  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    const before = r.log.rawLines().filter((l) => l.includes('matrix.ten:')).length;
    const ten = await attempt({ client: clients.good, minVersion: version, maxVersion: version, http10: true, alpn: ['http/1.0'] });
    assert.equal(ten.status, 'HTTP/1.1 200 OK', `HTTP/1.0 over ${version}: ${ten.error}`);
    const plain = await attempt({ client: clients.good, minVersion: version, maxVersion: version });
    assert.equal(plain.status, 'HTTP/1.1 200 OK', `no ALPN over ${version}: ${plain.error}`);
    await r.log.waitFor((ls) => ls.filter((l) => l.includes('matrix.ten:')).length > before);
    assert.equal((await linesFor(ten.localPort, false)).filter((e) => Number(e.level) >= 40).length, 0);
  }
  assert.ok(r.log.rawLines().some((l) => / matrix\.eleven: \{"event":"matrix"\}$/.test(l)));
});

test('plain http:// to the HTTPS port: 400 "Client sent an HTTP request to an HTTPS server." and one warn line', async () => {
  const res = await new Promise<{ status?: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: r.port, method: 'POST', path: '/matrix.plain', headers: { 'Content-Type': 'application/json' } }, (resp) => {
      let body = '';
      resp.on('data', (d: Buffer) => (body += d.toString()));
      resp.on('end', () => resolve({ status: resp.statusCode, body, headers: resp.headers }));
    });
    req.on('error', reject);
    req.end('{"event":"plain"}');
  });
  assert.equal(res.status, 400);
  assert.equal(res.body, 'Client sent an HTTP request to an HTTPS server.\n');
  assert.equal(res.headers.connection, 'close');
  const lines = r.log.entries().filter((e) => /^plain HTTP request from 127\.0\.0\.1:\d+ to the HTTPS port/.test(String(e.msg)));
  assert.equal(lines.length, 1);
  assert.equal(lines[0].level, 40);
  assert.match(String(lines[0].msg), /use an https:\/\/ URL/);
  assert.ok(!r.log.rawLines().some((l) => l.includes('matrix.plain')), 'nothing emitted');
  // The exact bytes, on a raw socket (what curl prints).
  const raw = await new Promise<string>((resolve) => {
    let got = '';
    const s = netConnect(r.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('close', () => resolve(got));
  });
  assert.equal(raw, 'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 48\r\n' +
    'Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n');
});

test('nothing in the matrix logged "unexpected error" or "socket hang up" at warn', () => {
  const bad = r.log.entries().filter((e) => Number(e.level) >= 40 && /unexpected error|socket hang up/.test(JSON.stringify(e)));
  assert.deepEqual(bad, []);
});

test('a client that connects and leaves without a byte is not a warning; close does not wait for an idle or a stalled-handshake connection', async (t) => {
  const defer = cleanup(t);
  const d = mkdtempSync(join(tmpdir(), 'ar-tls-idle-'));
  defer(() => rmSync(d, { recursive: true, force: true }));
  for (const [f, pem] of [['ca.crt', ca.certPem], ['server.crt', clients.server.certPem], ['server.key', clients.server.keyPem]] as const) writeFileSync(join(d, f), pem);
  const own = await startTestReceiver(mtlsSource({ dir: d, ca: join(d, 'ca.crt'), serverCert: join(d, 'server.crt'), serverKey: join(d, 'server.key'),
    clientCert: '', clientKey: '', passphrase: 'x' }) + '<match **>\n  @type null\n</match>\n', d);
  let closed = false;
  defer(async () => { if (!closed) await own.receiver.close(); });
  const leave = netConnect(own.port, '127.0.0.1', () => leave.end());
  await new Promise((res) => leave.on('close', res));
  const idle = netConnect(own.port, '127.0.0.1');
  defer(() => idle.destroy());
  await new Promise((res) => idle.on('connect', res));
  // and one that stalls inside the handshake: a TLS record header, then nothing
  const stalled = netConnect(own.port, '127.0.0.1', () => stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])));
  defer(() => stalled.destroy());
  await new Promise((res) => stalled.on('connect', res));
  await new Promise((res) => setTimeout(res, 50));
  const t0 = performance.now();
  // Bounded: a close that waits for these connections would hang for Node's 120 s handshake timeout.
  await Promise.race([own.receiver.close().then(() => (closed = true)), new Promise((res) => setTimeout(res, 3000))]);
  const ms = performance.now() - t0;
  assert.ok(closed && ms < 2000, `close took ${ms.toFixed(0)} ms with an idle and a stalled connection open`);
  assert.deepEqual(own.log.entries().filter((e) => Number(e.level) >= 40 && e.plugin === 'input_http'), []);
});

test('TLS without client_cert_auth: served without a client certificate, plain http still gets the 400', async (t) => {
  const defer = cleanup(t);
  const d = mkdtempSync(join(tmpdir(), 'ar-tls-nomtls-'));
  defer(() => rmSync(d, { recursive: true, force: true }));
  writeFileSync(join(d, 'server.crt'), clients.server.certPem);
  writeFileSync(join(d, 'server.key'), clients.server.keyPem);
  const own = await startTestReceiver(`<source>
  @type http
  port 0
  bind 127.0.0.1
  <transport tls>
    cert_path "${join(d, 'server.crt')}"
    private_key_path "${join(d, 'server.key')}"
    private_key_passphrase "x"
  </transport>
</source>
<match **>
  @type null
</match>
`, d);
  defer(() => own.receiver.close());
  const status = await new Promise<string>((resolve, reject) => {
    let raw = '';
    const s = tlsConnect({ host: '127.0.0.1', port: own.port, ca: ca.certPem, servername: 'localhost' }, () => s.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}'));
    s.on('data', (b: Buffer) => (raw += b.toString('latin1')));
    s.on('close', () => resolve(raw.split('\r\n')[0]));
    s.on('error', reject);
  });
  assert.equal(status, 'HTTP/1.1 200 OK');
  const plain = await new Promise<string>((resolve) => {
    let got = '';
    const s = netConnect(own.port, '127.0.0.1', () => s.write('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}'));
    s.on('data', (b: Buffer) => (got += b.toString('latin1')));
    s.on('close', () => resolve(got));
  });
  assert.match(plain, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\n\r\nClient sent an HTTP request to an HTTPS server\.\n$/);
});
