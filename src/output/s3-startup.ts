// out_s3's start-up checks (out_s3.rb check_apikeys and ensure_bucket), with
// failures said in words: out_s3 answers every failure of its ListObjects
// probe with "check your credentials or s3_region", even a DNS typo or a
// stopped MinIO. Here each failure names what went wrong (DNS, refused, TLS,
// 403 on which call and the IAM action to grant, no such bucket), the config
// line to change, and becomes an S3OutputError so the CLI prints one line and
// exits non-zero instead of a stack.

import {
  CreateBucketCommand,
  HeadBucketCommand,
  ListObjectsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { S3OutputError } from './s3-errors.ts';
import { isNotFound } from './s3-upload.ts';

export interface StartupChecks {
  readonly client: S3Client;
  readonly bucket: string;
  /** The `path` param: ListObjects' prefix. */
  readonly prefix: string;
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly checkApiKey: boolean;
  readonly checkBucket: boolean;
  readonly autoCreateBucket: boolean;
  /** `file:line` of a param (or of the <match> when it is not set). */
  readonly where: (param: string) => string;
  readonly log: Logger;
}

/** The S3 call made at start → the IAM action a policy must allow for it. */
const IAM_ACTION = {
  ListObjects: 's3:ListBucket',
  HeadBucket: 's3:ListBucket',
  CreateBucket: 's3:CreateBucket',
} as const;

type StartupCall = keyof typeof IAM_ACTION;

/** Which param turns each call off. */
const SWITCH: Record<StartupCall, string> = {
  ListObjects: 'check_apikey_on_start false',
  HeadBucket: 'check_bucket false',
  CreateBucket: 'auto_create_bucket false (and create the bucket yourself)',
};

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

export async function runStartupChecks(c: StartupChecks): Promise<void> {
  if (c.checkApiKey) await checkApiKeys(c);
  if (c.checkBucket) await ensureBucket(c);
}

// out_s3.rb check_apikeys. ListObjects v1, not v2: s3rver 3.7 answers
// ListObjectsV2 max-keys=1 with an error on a non-empty bucket (O5).
async function checkApiKeys(c: StartupChecks): Promise<void> {
  try {
    await c.client.send(new ListObjectsCommand({ Bucket: c.bucket, Prefix: c.prefix, MaxKeys: 1 }));
  } catch (err) {
    if (errorName(err) === 'NoSuchBucket') return; // ensureBucket handles it
    throw classifyStartupFailure(err, 'ListObjects', c);
  }
}

// out_s3.rb ensure_bucket.
async function ensureBucket(c: StartupChecks): Promise<void> {
  try {
    await c.client.send(new HeadBucketCommand({ Bucket: c.bucket }));
    return;
  } catch (err) {
    if (!isNotFound(err)) throw classifyStartupFailure(err, 'HeadBucket', c);
  }
  if (!c.autoCreateBucket) {
    throw new S3OutputError('AR_S3_NO_BUCKET',
      `The specified bucket does not exist: bucket = ${c.bucket} (${c.where('s3_bucket')}); ` +
      `create it, fix s3_bucket, or remove 'auto_create_bucket false' (${c.where('auto_create_bucket')}) to let auditrelay create it`);
  }
  c.log.info(`Creating bucket ${c.bucket} on ${c.endpoint ?? ''}`);
  try {
    await c.client.send(new CreateBucketCommand({ Bucket: c.bucket }));
  } catch (err) {
    throw classifyStartupFailure(err, 'CreateBucket', c);
  }
}

/** One line: what failed at start, why, and what to change. */
export function classifyStartupFailure(err: unknown, call: StartupCall, c: Pick<StartupChecks, 'bucket' | 'endpoint' | 'region' | 'where'>): S3OutputError {
  const target = c.endpoint ?? `S3 in region ${c.region}`;
  const net = networkCause(err);
  const code = net?.code ?? '';
  const opts = { cause: err };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = net?.hostname ?? hostOf(c.endpoint) ?? '?';
    return new S3OutputError('AR_S3_DNS',
      `out_s3: ${call} to ${target} failed: the host name ${host} does not resolve (DNS ${code}); ` +
      `fix s3_endpoint (${c.where('s3_endpoint')}) or s3_region (${c.where('s3_region')})`, opts);
  }
  if (code === 'ECONNREFUSED') {
    const at = net?.address !== undefined ? `${net.address}:${net.port}` : hostOf(c.endpoint) ?? '?';
    return new S3OutputError('AR_S3_REFUSED',
      `out_s3: ${call} to ${target} failed: connection refused (ECONNREFUSED ${at}); ` +
      `start the S3 service there or fix s3_endpoint (${c.where('s3_endpoint')})`, opts);
  }
  if (TLS_CODES.has(code) || /certificate|ssl|tls/i.test(net?.message ?? '')) {
    return new S3OutputError('AR_S3_TLS',
      `out_s3: ${call} to ${target} failed: TLS error ${code || ''} (${net?.message ?? ''}); ` +
      `give Node the endpoint's CA (NODE_EXTRA_CA_CERTS=/path/ca.pem), fix the host name in s3_endpoint (${c.where('s3_endpoint')}), ` +
      `or for a test endpoint only set ssl_verify_peer false`, opts);
  }
  if (code === 'ECONNRESET' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return new S3OutputError('AR_S3_NETWORK',
      `out_s3: ${call} to ${target} failed: ${code} (${net?.message ?? ''}); check the network path and s3_endpoint (${c.where('s3_endpoint')})`, opts);
  }
  const status = httpStatus(err);
  if (status === 403) {
    return new S3OutputError('AR_S3_FORBIDDEN',
      `out_s3: ${call} on bucket ${c.bucket} was denied (403 ${errorName(err)}); ` +
      `grant ${IAM_ACTION[call]} on arn:aws:s3:::${c.bucket} to these credentials, or set ${SWITCH[call]} in <match> (${c.where('s3_bucket')})`, opts);
  }
  if (status === 301 || errorName(err) === 'PermanentRedirect') {
    return new S3OutputError('AR_S3_API_CHECK',
      `out_s3: ${call} on bucket ${c.bucket} was redirected (301): the bucket is in another region than ${c.region}; fix s3_region (${c.where('s3_region')})`, opts);
  }
  if (errorName(err) === 'InvalidAccessKeyId' || errorName(err) === 'SignatureDoesNotMatch') {
    return new S3OutputError('AR_S3_API_CHECK',
      `out_s3: ${call} on bucket ${c.bucket} failed: ${errorName(err)}; fix aws_key_id/aws_sec_key or the credentials chain (${c.where('aws_key_id')})`, opts);
  }
  return new S3OutputError('AR_S3_API_CHECK',
    `can't call S3 API. Please check your credentials or s3_region configuration. error = ${describe(err)} ` +
    `(${call} on bucket ${c.bucket} at ${target}, ${c.where('s3_bucket')})`, opts);
}

interface NetCause { code?: string; hostname?: string; address?: string; port?: number; message?: string }

/** The Node network error the SDK threw, or wrapped in `cause`/AggregateError. */
function networkCause(err: unknown): NetCause | undefined {
  let e = err as (NetCause & { cause?: unknown; errors?: unknown[] }) | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && !('$metadata' in e && httpStatus(e) !== undefined)) {
      if (e.errors?.length) return { ...(e.errors[0] as NetCause), code: e.code };
      return e;
    }
    e = (e.cause ?? e.errors?.[0]) as typeof e;
  }
  return undefined;
}

function httpStatus(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? 'Error';
}

function hostOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `#<${e?.name ?? 'Error'}: ${e?.message ?? String(err)}>`;
}
