// Real mTLS material for tests, made with the same PKI code as `configure`
// (2048-bit keys: fast, and still what a real deployment might use).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateMtlsCerts, encodePair } from '../../src/pki/mtls.ts';
import { exitTempDir } from './exit-temp-dir.ts';

export interface CertFiles {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  passphrase: string;
}

export async function makeCerts(dir = exitTempDir('ar-certs-')): Promise<CertFiles> {
  const certs = await generateMtlsCerts({ dnsNames: ['localhost'], ips: ['127.0.0.1'], ttlMs: 86_400_000, bits: 2048, serverCn: 'localhost' });
  const passphrase = 'test-passphrase-' + Math.random().toString(16).slice(2);
  const ca = encodePair(certs.ca);
  const server = encodePair(certs.server, passphrase);
  const client = encodePair(certs.client);
  const files: CertFiles = {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
    passphrase,
  };
  writeFileSync(files.ca, ca.certPem);
  writeFileSync(files.serverCert, server.certPem);
  writeFileSync(files.serverKey, server.keyPem);
  writeFileSync(files.clientCert, client.certPem);
  writeFileSync(files.clientKey, client.keyPem);
  return files;
}
