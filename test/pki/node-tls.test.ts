// The receiver serves TLS through Node: the files configure writes must work there as they are
// (encrypted server.key + passphrase, CA for client verification), independent of the receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { request } from 'node:https';
import { generateMtlsCerts, encodePair, resolveIpSans } from '../../src/pki/mtls.ts';

test('Node https with the generated server key/passphrase accepts the client cert, refuses none', async (t) => {
  const ips = await resolveIpSans(['localhost'], []);
  const certs = await generateMtlsCerts({ dnsNames: ['localhost'], ips, ttlMs: 3600_000, bits: 2048, serverCn: 'localhost' });
  const pwd = 'a'.repeat(64);
  const ca = encodePair(certs.ca);
  const server = encodePair(certs.server, pwd);
  const client = encodePair(certs.client);
  const srv = createServer(
    { ca: ca.certPem, cert: server.certPem, key: server.keyPem, passphrase: pwd, requestCert: true, rejectUnauthorized: true },
    (req, res) => res.end('ok'),
  );
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as AddressInfo).port;
  const get = (tls: object) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent: false, ca: ca.certPem, ...tls }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  assert.equal(await get({ cert: client.certPem, key: client.keyPem }), 200);
  await assert.rejects(get({}));
  // The server cert is only a server cert: presented as a client cert (EKU serverAuth) it is refused.
  await assert.rejects(get({ cert: server.certPem, key: server.keyPem, passphrase: pwd }));
});
