// `npm start`: the whole pipeline on one machine with nothing to set up —
// dev mTLS certificates (node-forge, in ./.dev/keys), an embedded S3-compatible
// store (s3rver, objects under ./.dev/s3) and the receiver running
// conf/quickstart.conf. Prints a curl command that works as is.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateMtlsCerts, encodePair } from '../src/pki/mtls.ts';
import { startEmbeddedS3 } from '../src/dev/embedded-s3.ts';
import { startReceiver } from '../src/receiver.ts';
import { ListenError, listenError } from '../src/input/listen-error.ts';

const root = resolve(import.meta.dirname, '..');
const dev = resolve(process.env.AUDITRELAY_DEV ?? join(root, '.dev'));
const keys = join(dev, 'keys');
const port = Number(process.env.AUDITRELAY_PORT ?? 8888);
const bucket = process.env.AUDITRELAY_S3_BUCKET ?? 'teleport-events';

async function ensureCerts(): Promise<string> {
  const passFile = join(keys, 'passphrase');
  if (existsSync(passFile) && existsSync(join(keys, 'client.key'))) return readFileSync(passFile, 'utf8');
  mkdirSync(keys, { recursive: true, mode: 0o700 });
  const certs = await generateMtlsCerts({ dnsNames: ['localhost'], ips: ['127.0.0.1'], ttlMs: 365 * 86_400_000, bits: 2048, serverCn: 'localhost' });
  const passphrase = randomBytes(32).toString('hex');
  const write = (name: string, text: string) => writeFileSync(join(keys, name), text, { mode: 0o600 });
  const ca = encodePair(certs.ca);
  const server = encodePair(certs.server, passphrase);
  const client = encodePair(certs.client);
  write('ca.crt', ca.certPem);
  write('ca.key', ca.keyPem);
  write('server.crt', server.certPem);
  write('server.key', server.keyPem);
  write('client.crt', client.certPem);
  write('client.key', client.keyPem);
  write('passphrase', passphrase);
  return passphrase;
}

/** A port `npm start` cannot bind: one line naming the variable that sets it, exit 1. */
async function portFailure(err: unknown, variable: string, port: number, close?: () => Promise<void>): Promise<never> {
  const e = err instanceof ListenError ? err : await listenError(err, { port, bind: '127.0.0.1', section: '', where: '', explicit: true });
  if (!(e instanceof ListenError)) throw err;
  await close?.().catch(() => undefined);
  process.stderr.write(`npm start: ${e.problem}; set ${variable} to a free port (${variable}=${port + 1} npm start) [${e.code}]\n`);
  process.exit(1);
}

const passphrase = await ensureCerts();
const s3Port = Number(process.env.AUDITRELAY_S3_PORT ?? 0);
const s3 = await startEmbeddedS3({ dir: join(dev, 's3'), bucket, port: s3Port })
  .catch((err: unknown) => portFailure(err, 'AUDITRELAY_S3_PORT', s3Port));
Object.assign(process.env, {
  AUDITRELAY_DEV: dev,
  AUDITRELAY_PORT: String(port),
  AUDITRELAY_KEYS: keys,
  AUDITRELAY_KEY_PASSPHRASE: passphrase,
  AUDITRELAY_S3_ENDPOINT: s3.endpoint,
  AUDITRELAY_S3_KEY: s3.accessKeyId,
  AUDITRELAY_S3_SECRET: s3.secretAccessKey,
  AUDITRELAY_S3_BUCKET: bucket,
});
const receiver = await startReceiver({ configPath: join(root, 'conf/quickstart.conf') })
  .catch((err: unknown) => portFailure(err, 'AUDITRELAY_PORT', port, () => s3.close()));
const rel = (p: string) => relative(process.cwd(), p) || '.';
const event = JSON.stringify({ event: 'user.login', user: 'alice', success: true, code: 'T1000I', time: '2024-11-20T10:15:02.123Z' });
process.stderr.write(`
auditrelay is listening on https://localhost:${receiver.port} (mTLS), S3 store at ${s3.endpoint}.
Send a Teleport-like audit event:

  curl --cacert ${rel(join(keys, 'ca.crt'))} --cert ${rel(join(keys, 'client.crt'))} --key ${rel(join(keys, 'client.key'))} \\
       -H 'Content-Type: application/json' -d '${event}' https://localhost:${receiver.port}/test.log

The object appears within seconds (timekey 10: a past window is uploaded at once, the current one
when its 10 s end) as
  ${rel(s3.bucketDir)}/teleport/logs<YYYYmmddHHMMSS>_0.gz._S3rver_object   (gzip; zcat it)
Session events (POST /session.<sid>.log) are printed here. Ctrl-C stops.

`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await receiver.close();
  await s3.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
// SIGUSR1 flushes the buffers, as Fluentd does. A listener also keeps Node from
// opening its inspector on it (Node 24's --disable-sigusr1 would drop the signal
// before any listener: measured, so it is not used).
process.on('SIGUSR1', () => {
  receiver.log.info('force flushing buffered events');
  receiver.flushAll().catch((err: unknown) => receiver.log.error({ err }, 'flush failed'));
});
