import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { encodePair, generateMtlsCerts, resolveIpSans } from '../../src/pki/mtls.ts';
import { serialHex } from '../../src/pki/mtls.ts';

test('generateMtlsCerts: chain, serials, SANs, validity, key encoding', async () => {
  const notBefore = new Date('2025-01-01T00:00:00Z');
  const certs = await generateMtlsCerts({
    dnsNames: ['a.example', 'b.example'], ips: ['192.0.2.1', '2001:db8::1'], ttlMs: 3600_000, bits: 1024,
    serverCn: 'srv.example', notBefore,
  });
  const ca = new X509Certificate(encodePair(certs.ca).certPem);
  const server = new X509Certificate(encodePair(certs.server).certPem);
  const client = new X509Certificate(encodePair(certs.client).certPem);
  assert.equal(ca.subject, 'CN=CA');
  assert.equal(ca.ca, true);
  assert.equal(server.subject, 'CN=srv.example');
  assert.equal(client.subject, 'CN=Client');
  for (const leaf of [server, client]) {
    assert.equal(leaf.issuer, 'CN=CA');
    assert.equal(leaf.ca, false);
    assert.ok(leaf.verify(ca.publicKey));
    assert.equal(leaf.subjectAltName, 'DNS:a.example, DNS:b.example, IP Address:192.0.2.1, IP Address:2001:DB8:0:0:0:0:0:1');
    assert.equal(new Date(leaf.validFrom).toISOString(), notBefore.toISOString());
    assert.equal(Date.parse(leaf.validTo) - notBefore.getTime(), 3600_000);
  }
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  const serials = new Set([ca, server, client].map((c) => c.serialNumber));
  assert.equal(serials.size, 3);

  // No passphrase (or an empty one, as upstream's `pwd != ""`): plain PKCS#1.
  for (const pwd of [undefined, '']) assert.match(encodePair(certs.server, pwd).keyPem, /^-----BEGIN RSA PRIVATE KEY-----\nMII/);
  const enc = encodePair(certs.server, 'p\u00e9'); // binary string: byte 0xE9
  assert.match(enc.keyPem, /^-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,[0-9a-f]{32}\n\n/);
  assert.doesNotMatch(enc.keyPem, /\r/);
  assert.ok(createPrivateKey({ key: enc.keyPem, passphrase: Buffer.from([0x70, 0xe9]) }));
});

for (const c of [
  { bytes: [0x80, ...Array(15).fill(0)], hex: '0080' + '00'.repeat(15) },
  { bytes: [0x7f, ...Array(15).fill(0xff)], hex: '7f' + 'ff'.repeat(15) },
  { bytes: [0, 0, 0x01, ...Array(13).fill(0)], hex: '01' + '00'.repeat(13) },
  { bytes: Array(16).fill(0), hex: '00' },
  { bytes: Array(16).fill(0xff), hex: '00' + 'ff'.repeat(16) },
]) {
  test(`serialHex ${c.hex}: minimal, never negative`, () => assert.equal(serialHex(Uint8Array.from(c.bytes)), c.hex));
}

for (const c of [
  { dns: ['localhost'], ips: ['10.0.0.1'], want: ['10.0.0.1'] },
  { dns: ['x.invalid'], ips: ['::1'], want: ['::1'] },
]) {
  test(`resolveIpSans keeps given IPs ${c.ips}`, async () => assert.deepEqual(await resolveIpSans(c.dns, c.ips), c.want));
}

for (const c of [
  { dns: [], ips: ['not-an-ip'], code: 'AR_PKI_BAD_IP' },
  { dns: ['no-such-host.invalid'], ips: [], code: 'AR_PKI_LOOKUP' },
]) {
  test(`resolveIpSans rejects ${c.code}`, async () => assert.rejects(resolveIpSans(c.dns, c.ips), { code: c.code }));
}

test('generateMtlsCerts rejects a length upstream does not offer', async () => {
  await assert.rejects(
    generateMtlsCerts({ dnsNames: [], ips: [], ttlMs: 1, bits: 512 as 1024, serverCn: 'x' }),
    { code: 'AR_PKI_BAD_LENGTH' },
  );
});
