// The three mTLS certificates of `teleport-event-handler configure`, laid out as upstream's
// mtls_certs.go does (docs/compatibility-event-handler.md §1.1 "Certificates", "Key encoding"):
// CA (CN=CA, CA:true pathlen 0, keyCertSign+cRLSign, SKID), server (CN from --cn,
// digitalSignature, serverAuth) and client (CN=Client, digitalSignature, clientAuth), both with
// the same DNS/IP SANs, random 128-bit serials, NotBefore = now, NotAfter = now + ttl, SHA-256.
import { generateKeyPair, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { lookup } from 'node:dns/promises';
import { promisify } from 'node:util';
import forge from 'node-forge';
import { PkiError } from './errors.ts';

export const KEY_LENGTHS = [1024, 2048, 4096] as const;
export type KeyLength = (typeof KEY_LENGTHS)[number];

export interface MtlsOptions {
  /** DNS SANs of the server and client certificates (upstream `--dns-names`). */
  readonly dnsNames: readonly string[];
  /** IP SANs (upstream `--ip`); already resolved, see resolveIpSans. */
  readonly ips: readonly string[];
  /** Validity in milliseconds from now (upstream `--ttl`). */
  readonly ttlMs: number;
  /** RSA modulus bits for all three keys (upstream `--length`). */
  readonly bits: KeyLength;
  /** Subject CN of the server certificate (`--cn`, as the v16 guide documents it). */
  readonly serverCn: string;
  /** Certificate start; defaults to now (upstream does not backdate). */
  readonly notBefore?: Date;
}

export interface KeyPair {
  readonly cert: forge.pki.Certificate;
  readonly key: forge.pki.rsa.PrivateKey;
  /** PKCS#1 PEM from the native generator (`-----BEGIN RSA PRIVATE KEY-----`). */
  readonly keyPem: string;
}

export interface MtlsCerts {
  readonly ca: KeyPair;
  readonly server: KeyPair;
  readonly client: KeyPair;
}

const CRLF = /\r\n/g;
const DEK_INFO_IV = /(?<=^DEK-Info: AES-256-CBC,)[0-9A-F]+$/m;
const generateKeyPairAsync = promisify(generateKeyPair);

/**
 * Generates one RSA key with Node's native crypto: forge's pure-JS prime search takes minutes for
 * 4096 bits, OpenSSL takes well under a second per key, and three run in parallel on the libuv pool.
 */
async function generateRsaKey(bits: KeyLength): Promise<{ key: forge.pki.rsa.PrivateKey; keyPem: string }> {
  try {
    const { privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: bits,
      publicExponent: 0x10001,
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
      publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    return { key: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey, keyPem: privateKey };
  } catch (err) {
    throw new PkiError('AR_PKI_KEYGEN', `could not generate a ${bits}-bit RSA key: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Serial from 16 random bytes, i.e. in [0, 2^128) like upstream's rand.Int(maxBigInt), as forge
 * wants it: minimal two's-complement hex, so never negative. Exported for tests.
 */
export function serialHex(random16: Uint8Array): string {
  let hex = BigInt('0x' + (Buffer.from(random16).toString('hex') || '0')).toString(16);
  if (hex.length % 2 === 1) hex = '0' + hex;
  // A leading byte >= 0x80 would make the DER INTEGER negative; Go's big.Int encoding adds 00.
  if (parseInt(hex.slice(0, 2), 16) >= 0x80) hex = '00' + hex;
  return hex;
}

/**
 * Upstream's appendSANs: with no --ip, every DNS name is resolved (net.LookupIP) and all its
 * addresses become IP SANs; a failed lookup aborts the command. Given IPs are used as they are.
 */
/**
 * With `warn`, a name that does not resolve (certificates made before DNS
 * exists) is reported and skipped: it stays a DNS SAN, only its IP SANs are
 * missing. Without `warn` it is an error, as upstream does.
 */
export async function resolveIpSans(dnsNames: readonly string[], ips: readonly string[], warn?: (message: string) => void): Promise<string[]> {
  if (ips.length > 0) {
    for (const ip of ips) {
      // Go's net.ParseIP would silently yield nil and an empty SAN; we refuse instead.
      if (isIP(ip) === 0) {
        throw new PkiError('AR_PKI_BAD_IP', `--ip '${ip}' is not an IP address; write e.g. --ip 127.0.0.1,::1`);
      }
    }
    return [...ips];
  }
  const found: string[] = [];
  for (const name of dnsNames) {
    try {
      const addrs = await lookup(name, { all: true, order: 'verbatim' });
      for (const a of addrs) found.push(a.address);
    } catch (err) {
      if (warn) {
        warn(`--dns-names entry '${name}' does not resolve yet (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ` +
          `it stays in the certificate as a DNS name; add --ip if clients connect by address`);
        continue;
      }
      throw new PkiError(
        'AR_PKI_LOOKUP',
        `--dns-names entry '${name}' does not resolve (${(err as Error).message}); ` +
          `fix the name or pass the addresses with --ip`,
        { cause: err },
      );
    }
  }
  return found;
}

interface CertSpec {
  readonly subjectCn: string;
  readonly extensions: object[];
}

function buildCert(
  spec: CertSpec,
  publicKey: forge.pki.rsa.PublicKey,
  issuerCn: string,
  signer: forge.pki.rsa.PrivateKey,
  notBefore: Date,
  notAfter: Date,
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialHex(randomBytes(16));
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
  cert.setSubject([{ shortName: 'CN', value: spec.subjectCn }]);
  cert.setIssuer([{ shortName: 'CN', value: issuerCn }]);
  // setExtensions must follow publicKey: subjectKeyIdentifier is computed from it.
  cert.setExtensions(spec.extensions);
  cert.sign(signer, forge.md.sha256.create());
  return cert;
}

function sanExtension(dnsNames: readonly string[], ips: readonly string[]): object {
  // GeneralName types: 2 = dNSName, 7 = iPAddress (forge packs v4 in 4 bytes, v6 in 16, as Go does).
  return {
    name: 'subjectAltName',
    altNames: [...dnsNames.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))],
  };
}

export async function generateMtlsCerts(opts: MtlsOptions): Promise<MtlsCerts> {
  if (!KEY_LENGTHS.includes(opts.bits)) {
    throw new PkiError('AR_PKI_BAD_LENGTH', `--length ${opts.bits} is not supported; write 1024, 2048 or 4096`);
  }
  const notBefore = opts.notBefore ?? new Date();
  const notAfter = new Date(notBefore.getTime() + opts.ttlMs);
  const [caKey, serverKey, clientKey] = await Promise.all([
    generateRsaKey(opts.bits),
    generateRsaKey(opts.bits),
    generateRsaKey(opts.bits),
  ]);
  const pub = (k: forge.pki.rsa.PrivateKey) => forge.pki.setRsaPublicKey(k.n, k.e);

  // Go's x509.CreateCertificate marks keyUsage and basicConstraints critical and, for a CA
  // template, adds a SubjectKeyIdentifier (SHA-1 of the PKCS#1 public key, as forge computes it).
  // The leaf templates point at the CA *template*, whose SubjectKeyId is empty, so Go writes no
  // AuthorityKeyIdentifier on them; neither do we.
  const ca = buildCert(
    {
      subjectCn: 'CA',
      extensions: [
        { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
        { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
        { name: 'subjectKeyIdentifier' },
      ],
    },
    pub(caKey.key),
    'CA',
    caKey.key,
    notBefore,
    notAfter,
  );
  const leaf = (cn: string, eku: 'serverAuth' | 'clientAuth', key: forge.pki.rsa.PrivateKey) =>
    buildCert(
      {
        subjectCn: cn,
        extensions: [
          { name: 'keyUsage', critical: true, digitalSignature: true },
          { name: 'extKeyUsage', [eku]: true },
          sanExtension(opts.dnsNames, opts.ips),
        ],
      },
      pub(key),
      'CA',
      caKey.key,
      notBefore,
      notAfter,
    );
  return {
    ca: { cert: ca, ...caKey },
    server: { cert: leaf(opts.serverCn, 'serverAuth', serverKey.key), ...serverKey },
    client: { cert: leaf('Client', 'clientAuth', clientKey.key), ...clientKey },
  };
}

export interface EncodedPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/**
 * PEM files for one pair. With a passphrase the PKCS#1 key is encrypted in the legacy OpenSSL
 * form (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: AES-256-CBC,<iv>`, EVP_BytesToKey/MD5 with the IV's
 * first 8 bytes as salt) like Go's x509.EncryptPEMBlock(PEMCipherAES256): Fluentd's in_http needs
 * an encrypted server key, and Node's TLS opens the same form.
 * `passphrase` is a binary string (one char per byte) so piped bytes pass through unchanged.
 */
export function encodePair(pair: KeyPair, passphrase?: string): EncodedPair {
  // forge writes CRLF line ends; Go's pem.Encode writes LF.
  const certPem = forge.pki.certificateToPem(pair.cert).replace(CRLF, '\n');
  if (passphrase === undefined || passphrase === '') return { certPem, keyPem: pair.keyPem };
  const keyPem = forge.pki
    .encryptRsaPrivateKey(pair.key, passphrase, { algorithm: 'aes256', legacy: true })
    .replace(CRLF, '\n')
    // Go writes the IV in lower-case hex (hex.EncodeToString); forge in upper case.
    .replace(DEK_INFO_IV, (iv) => iv.toLowerCase());
  return { certPem, keyPem };
}
