// Test material for the exporter: Teleport-side mTLS certs (server SAN teleport.cluster.local),
// identity files in `tctl auth sign --format=file` layout, and generated audit events and
// recordings spread over several days.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';
import { encodePair, generateMtlsCerts } from '../../../src/pki/mtls.ts';
import type { FakeEvent, FakeTeleport } from './server.ts';
import { exitTempDir } from '../../support/exit-temp-dir.ts';

export interface TeleportCerts {
  readonly caPem: string;
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  /** A second client pair from the same CA: the identity after a rotation. */
  readonly rotatedCertPem: string;
  readonly rotatedKeyPem: string;
}

export async function makeTeleportCerts(opts: { notBefore?: Date; ttlMs?: number } = {}): Promise<TeleportCerts> {
  const c = await generateMtlsCerts({
    dnsNames: ['teleport.cluster.local', 'localhost'],
    ips: ['127.0.0.1'],
    ttlMs: opts.ttlMs ?? 86_400_000,
    bits: 2048,
    serverCn: 'teleport.cluster.local',
    notBefore: opts.notBefore,
  });
  const ca = encodePair(c.ca);
  const server = encodePair(c.server);
  const client = encodePair(c.client);
  const rotatedKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'pkcs1', format: 'pem' } }).privateKey;
  const rotatedKey = forge.pki.privateKeyFromPem(rotatedKeyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(rotatedKey.n, rotatedKey.e);
  cert.serialNumber = '0a' + Date.now().toString(16);
  cert.validity.notBefore = new Date(Date.now() - 60_000);
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'Client2' }]);
  cert.setIssuer(c.ca.cert.subject.attributes);
  cert.setExtensions([{ name: 'keyUsage', critical: true, digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }]);
  cert.sign(c.ca.key, forge.md.sha256.create());
  return {
    caPem: ca.certPem,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
    rotatedCertPem: forge.pki.certificateToPem(cert),
    rotatedKeyPem,
  };
}

/** key, SSH cert line, TLS cert, @cert-authority line, TLS CAs: the order tctl writes. */
export function identityText(keyPem: string, certPem: string, caPems: readonly string[]): string {
  return (
    keyPem +
    'ssh-rsa-cert-v01@openssh.com AAAAHHNzaC1yc2EtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgZmFrZQ== fake\n' +
    certPem +
    '@cert-authority *.teleport.example.com ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCfake type=host\n' +
    caPems.join('')
  );
}

export function writeIdentity(dir: string, c: TeleportCerts, name = 'identity'): string {
  const path = join(dir, name);
  writeFileSync(path, identityText(c.clientKeyPem, c.clientCertPem, [c.caPem]));
  return path;
}

/** A temp dir removed when the test process exits (exporter tests build several per test). */
export function tempDir(prefix = 'ar-exp-'): string {
  return exitTempDir(prefix);
}

const DAY_MS = 86_400_000;

export interface Generated {
  readonly startMs: number;
  readonly sessionIds: string[];
}

/**
 * `count` audit events evenly over `days` days ending an hour ago, every 50th a
 * `session.upload` whose recording has `perSession` events (a few `print`).
 */
export function generate(fake: FakeTeleport, count: number, days: number, perSession: number, sessionsMax = 6): Generated {
  const end = Date.now() - 3_600_000;
  const startMs = Math.floor((end - days * DAY_MS) / 1000) * 1000;
  const step = (end - startMs) / count;
  const sessionIds: string[] = [];
  const types = ['user.login', 'cert.create', 'session.start', 'exec', 'role.created'];
  for (let i = 0; i < count; i++) {
    const timeMs = Math.floor(startMs + 1000 + i * step);
    const time = new Date(timeMs).toISOString();
    const uid = randomUUID();
    let type = types[i % types.length];
    const json: Record<string, unknown> = { cluster_name: 'test.example.com', code: 'T0000I', ei: 0, event: type, n: i, time, uid, user: `user${i % 7}` };
    if (i % 50 === 25 && sessionIds.length < sessionsMax) {
      type = 'session.upload';
      const sid = randomUUID();
      sessionIds.push(sid);
      Object.assign(json, { code: 'T2005I', ei: 2147483647, event: type, sid, url: `s3://bucket/records/${sid}.tar` });
      const rec: FakeEvent[] = [];
      for (let k = 0; k < perSession; k++) {
        const ev = k === 0 ? 'session.start' : k % 4 === 0 ? 'print' : 'resize';
        rec.push({ type: ev, id: '', timeMs: timeMs - 60_000 + k, index: k, json: { ei: k, event: ev, k, sid, size: `80:${k}`, time: new Date(timeMs - 60_000 + k).toISOString() } as never });
      }
      fake.sessions.set(sid, rec);
    }
    fake.events.push({ type, id: uid, timeMs, index: i, json: json as never });
  }
  return { startMs, sessionIds };
}
