// `<transport tls>` on the server side (docs/compatibility.md §2, plugin_helper/server.rb,
// lib/fluent/tls.rb) turned into Node TLS options. Keys and certs are read once
// at configure; an encrypted key (PKCS#8 or the legacy `Proc-Type: 4,ENCRYPTED`
// PEM that teleport-event-handler writes) is opened here so a wrong passphrase
// is a start-up error naming the file, not a handshake failure later.

import { readFileSync } from 'node:fs';
import { createPrivateKey, getFips } from 'node:crypto';
import type { SecureVersion, TLSSocket } from 'node:tls';
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';

const VERSIONS = ['TLSv1_1', 'TLSv1_2', 'TLSv1_3', 'TLS1_1', 'TLS1_2', 'TLS1_3'] as const;

export const params = {
  version: { type: 'enum', enum: VERSIONS, default: 'TLSv1_2', desc: 'Pins min = max when set alone (Fluentd). Unset: TLS 1.2 to 1.3 (auditrelay default).' },
  min_version: { type: 'enum', enum: VERSIONS, desc: 'Lowest TLS version; set together with max_version.' },
  max_version: { type: 'enum', enum: VERSIONS, desc: 'Highest TLS version; set together with min_version.' },
  ciphers: { type: 'string', default: 'ALL:!aNULL:!eNULL:!SSLv2', desc: 'OpenSSL cipher list for TLS ≤ 1.2.' },
  insecure: { type: 'bool', default: false, desc: 'Skip the cipher defaults (Fluentd); no self-signed generation here.' },
  ensure_fips: { type: 'bool', default: false, desc: 'Refuse to start unless Node runs in FIPS mode.' },
  ca_path: { type: 'string', desc: 'PEM CA bundle that client certificates must chain to.' },
  cert_path: { type: 'string', desc: 'PEM server certificate, optionally followed by its chain.' },
  private_key_path: { type: 'string', desc: 'PEM private key of cert_path.' },
  private_key_passphrase: { type: 'string', secret: true, desc: 'Passphrase of an encrypted private key.' },
  client_cert_auth: { type: 'bool', default: false, desc: 'Require a client certificate signed by ca_path (mTLS).' },
  cert_verifier: { type: 'string', desc: 'Ruby verify callback: not supported.' },
  ca_cert_path: { type: 'string', desc: 'Generate a server cert from this CA: not supported.' },
  ca_private_key_path: { type: 'string', desc: 'Not supported (see ca_cert_path).' },
  ca_private_key_passphrase: { type: 'string', secret: true, desc: 'Not supported (see ca_cert_path).' },
  linger_timeout: { type: 'integer', default: 0, desc: 'Accepted for compatibility.' },
  receive_buffer_size: { type: 'size', desc: 'Accepted for compatibility.' },
  cert_logical_store_name: { type: 'string', desc: 'Windows only: not supported.' },
  generate_private_key_length: { type: 'integer', default: 2048, desc: 'Accepted for compatibility (no generation).' },
  generate_cert_country: { type: 'string', default: 'US', desc: 'Accepted for compatibility.' },
  generate_cert_state: { type: 'string', default: 'CA', desc: 'Accepted for compatibility.' },
  generate_cert_locality: { type: 'string', default: 'Mountain View', desc: 'Accepted for compatibility.' },
  generate_cert_common_name: { type: 'string', desc: 'Accepted for compatibility.' },
  generate_cert_expiration: { type: 'time', default: 315360000, desc: 'Accepted for compatibility.' },
  generate_cert_digest: { type: 'enum', enum: ['sha1', 'sha256', 'sha384', 'sha512'], default: 'sha256', desc: 'Accepted for compatibility.' },
} as const satisfies ParamSchema;

export interface ServerTlsOptions {
  key: string;
  cert: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  ciphers?: string;
  /** Node's https server offers only `http/1.1`, refusing `curl --http1.0` (ALPN `http/1.0`) at the handshake. */
  ALPNProtocols: string[];
}

function nodeVersion(v: (typeof VERSIONS)[number]): SecureVersion {
  return v.endsWith('1_1') ? 'TLSv1.1' : v.endsWith('1_2') ? 'TLSv1.2' : 'TLSv1.3';
}

/** Returns undefined for `<transport tcp>` or no transport section (plain HTTP). */
export function configureTls(transport: ConfigElement | undefined, warn: (m: string) => void): ServerTlsOptions | undefined {
  if (!transport) return undefined;
  const protocol = transport.arg.trim() || 'tcp';
  if (protocol === 'tcp') return undefined;
  if (protocol !== 'tls') {
    throw new ConfigError('AR_CONF_BAD_VALUE', transport.pos, `<transport ${protocol}> is not supported by in_http; write <transport tls> or <transport tcp>`);
  }
  const p = configureParams(params, transport, warn);
  const fail = (key: string, message: string, code: 'AR_CONF_UNSUPPORTED' | 'AR_CONF_MISSING' | 'AR_CONF_BAD_VALUE' = 'AR_CONF_BAD_VALUE') => {
    throw new ConfigError(code, transport.params.get(key)?.pos ?? transport.pos, message);
  };
  if (p.cert_verifier !== undefined) fail('cert_verifier', 'cert_verifier (a Ruby verify callback) is not supported; remove it — client certificates are verified against ca_path', 'AR_CONF_UNSUPPORTED');
  if (p.ca_cert_path !== undefined) fail('ca_cert_path', 'generating a server certificate from ca_cert_path is not supported; give cert_path and private_key_path (auditrelay-event-handler configure makes them)', 'AR_CONF_UNSUPPORTED');
  if (p.cert_logical_store_name !== undefined) fail('cert_logical_store_name', 'the Windows certificate store is not supported; give cert_path and private_key_path', 'AR_CONF_UNSUPPORTED');
  if ((p.min_version === undefined) !== (p.max_version === undefined)) {
    fail(p.min_version ? 'min_version' : 'max_version', 'When you set min_version, must set max_version together (and vice versa)');
  }
  if (p.cert_path === undefined) {
    fail('cert_path', p.insecure
      ? 'insecure without cert_path would need a generated self-signed certificate, which auditrelay does not make; give cert_path and private_key_path'
      : "no valid cert options configured. specify either 'cert_path', 'ca_cert_path' or 'insecure'", 'AR_CONF_MISSING');
  }
  if (p.private_key_path === undefined) fail('cert_path', 'private_key_path is required when cert_path is specified', 'AR_CONF_MISSING');
  if (p.private_key_passphrase === undefined) warn('For security reason, setting private_key_passphrase is recommended when cert_path is specified');
  if (p.client_cert_auth && p.ca_path === undefined) fail('client_cert_auth', 'client_cert_auth true needs ca_path: the CA that signs client certificates');
  if (p.ensure_fips && getFips() !== 1) fail('ensure_fips', 'ensure_fips is set but Node is not running in FIPS mode');

  const cert = readPem(transport, 'cert_path', p.cert_path!);
  const ca = p.ca_path !== undefined ? readPem(transport, 'ca_path', p.ca_path) : undefined;
  const key = openPrivateKey(transport, p.private_key_path!, p.private_key_passphrase);

  // Explicit version settings behave as in Fluentd; with none, auditrelay
  // allows TLS 1.3 too (a deliberate difference, docs/compatibility.md top table).
  const explicitVersion = transport.params.has('version');
  let minVersion: SecureVersion = 'TLSv1.2';
  let maxVersion: SecureVersion = 'TLSv1.3';
  if (p.min_version !== undefined && p.max_version !== undefined) {
    minVersion = nodeVersion(p.min_version);
    maxVersion = nodeVersion(p.max_version);
  } else if (explicitVersion) {
    minVersion = maxVersion = nodeVersion(p.version);
  }
  return {
    key,
    cert,
    ca,
    requestCert: p.client_cert_auth,
    rejectUnauthorized: p.client_cert_auth,
    minVersion,
    maxVersion,
    ciphers: p.insecure ? undefined : p.ciphers,
    // A client offering no ALPN is served too; one offering only e.g. h2 is refused (no_application_protocol).
    ALPNProtocols: ['http/1.1', 'http/1.0'],
  };
}

function readPem(transport: ConfigElement, key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError('AR_CONF_BAD_VALUE', transport.params.get(key)?.pos ?? transport.pos,
      `${key} '${path}' cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a PEM file`);
  }
}

function openPrivateKey(transport: ConfigElement, path: string, passphrase: string | undefined): string {
  const pem = readPem(transport, 'private_key_path', path);
  try {
    // Re-exported unencrypted, in memory only: Node's TLS context wants PEM.
    return createPrivateKey({ key: pem, passphrase: passphrase ?? '' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  } catch (err) {
    const pos = transport.params.get('private_key_passphrase')?.pos ?? transport.params.get('private_key_path')?.pos ?? transport.pos;
    const encrypted = /ENCRYPTED/.test(pem.toString('latin1'));
    throw new ConfigError('AR_CONF_BAD_KEY', pos, encrypted
      ? `private key '${path}' could not be decrypted with private_key_passphrase (${(err as Error).message}); set the passphrase it was written with`
      : `private key '${path}' is not a PEM private key (${(err as Error).message})`);
  }
}

// OpenSSL reasons (handshake failures) and Node's authorizationError codes (a client
// certificate refused after the handshake, see tls-gate.ts).
const REFUSALS: [RegExp, string][] = [
  [/peer did not return a certificate|certificate required/i, 'no client certificate was presented, but client_cert_auth is true'],
  [/unsupported certificate purpose|INVALID_PURPOSE/i, 'the client certificate is not for client authentication (no clientAuth extended key usage; a server or CA certificate?)'],
  [/certificate has expired|CERT_HAS_EXPIRED/i, 'the client certificate has expired'],
  [/certificate is not yet valid|CERT_NOT_YET_VALID/i, 'the client certificate is not valid yet (check the clocks)'],
  [/unable.to.get.(local.)?issuer|unknown ca|self.signed|unable.to.verify.(the.first|leaf)|invalid padding|signature.failure|bad signature|INVALID_CA/i, 'the client certificate is not signed by the CA in ca_path'],
  [/unsupported protocol|wrong version number|protocol version/i, 'the client offered a TLS version outside min_version..max_version'],
  [/http request/i, 'the client spoke plain HTTP to the HTTPS port'],
];

/** The OpenSSL reason of a refused handshake in words a user can act on. */
export function tlsRefusalWords(reason: string): string {
  for (const [re, words] of REFUSALS) if (re.test(reason)) return `${words} (${reason})`;
  return reason;
}

/** Subject and issuer of the certificate the peer presented, when any. */
export function peerNames(socket: TLSSocket): { subject?: string; issuer?: string } {
  try {
    const c = socket.getPeerCertificate();
    if (!c || !c.subject) return {};
    const dn = (o: object) => Object.entries(o).map(([k, v]) => `${k}=${String(v)}`).join(',');
    return { subject: dn(c.subject), issuer: dn(c.issuer) };
  } catch {
    return {};
  }
}
