// Teleport client credentials: an identity file (`tctl auth sign --format=file`) or the
// `[teleport] cert/key/ca` trio (docs/compatibility-event-handler.md §4.4). The identity parser is
// order-based like upstream's decodeIdentityFile: first PEM block = private key, second = TLS
// cert, the rest = TLS CAs; SSH cert and `@cert-authority` lines are ignored (no SSH tunnelling).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { X509Certificate } from 'node:crypto';
import { ExporterError } from '../errors.ts';

export interface TeleportCredentials {
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPems: readonly string[];
  /** NotAfter of the client certificate. */
  readonly notAfter: Date;
  readonly source: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?-----END \1-----/g;

function pemBlocks(text: string): string[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => m[0] + '\n');
}

function finish(keyPem: string | undefined, certPem: string | undefined, caPems: string[], source: string): TeleportCredentials {
  if (keyPem === undefined || !/PRIVATE KEY/.test(keyPem.split('\n')[0])) {
    throw new ExporterError('AR_EXPORTER_IDENTITY', `${source}: no private key PEM block found; write the identity with tctl auth sign --format=file`);
  }
  if (certPem === undefined || !certPem.startsWith('-----BEGIN CERTIFICATE-----')) {
    throw new ExporterError('AR_EXPORTER_IDENTITY', `${source}: no TLS certificate after the private key; write the identity with tctl auth sign --format=file`);
  }
  if (caPems.length === 0) {
    throw new ExporterError('AR_EXPORTER_IDENTITY', `${source}: no TLS CA certificate found; the identity file must end with the cluster's TLS CA`);
  }
  let notAfter: Date;
  try {
    notAfter = new Date(new X509Certificate(certPem).validTo);
  } catch (err) {
    throw new ExporterError('AR_EXPORTER_IDENTITY', `${source}: the TLS certificate does not parse (${(err as Error).message})`, { cause: err });
  }
  return { keyPem, certPem, caPems, notAfter, source };
}

/** Parses the text of an identity file. */
export function parseIdentityFile(text: string, source = 'identity'): TeleportCredentials {
  const blocks = pemBlocks(text);
  return finish(blocks[0], blocks[1], blocks.slice(2), source);
}

export async function loadIdentityFile(path: string): Promise<TeleportCredentials> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ExporterError('AR_EXPORTER_IDENTITY', `identity file ${path} cannot be read (${(err as Error).message}); write it with tctl auth sign --format=file --out ${path}`, { cause: err });
  }
  return parseIdentityFile(text, path);
}

/** `client.LoadKeyPair(cert, key, ca)`. */
export function loadKeyPair(certPath: string, keyPath: string, caPath: string): TeleportCredentials {
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch (err) {
      throw new ExporterError('AR_EXPORTER_IDENTITY', `${p} cannot be read (${(err as Error).message})`, { cause: err });
    }
  };
  return finish(pemBlocks(read(keyPath))[0], pemBlocks(read(certPath))[0], pemBlocks(read(caPath)), certPath);
}

/**
 * credentials.CheckIfExpired: refuse before dialing, with upstream's words, instead of the
 * bare "context deadline exceeded" an expired cert otherwise ends in (§4.4).
 */
export function checkNotExpired(creds: TeleportCredentials, now = new Date()): void {
  if (creds.notAfter.getTime() <= now.getTime()) {
    throw new ExporterError(
      'AR_EXPORTER_CREDENTIALS_EXPIRED',
      `No valid credentials found, this likely means credentials are expired. ${creds.source}: the certificate ` +
        `expired at ${creds.notAfter.toISOString()}; issue a new one with tctl auth sign --format=file`,
    );
  }
}
