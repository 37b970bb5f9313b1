// Runtime errors of out_s3 (config errors are ConfigError). Messages keep
// fluent-plugin-s3's wording (out_s3.rb check_apikeys / ensure_bucket /
// write) so operators searching for them find the same advice.

import { AuditrelayError } from '../errors.ts';

export const S3_ERROR_CODES = {
  AR_S3_API_CHECK: "the start-up ListObjects call failed (credentials, region or endpoint)",
  AR_S3_DNS: 'the S3 endpoint host name does not resolve',
  AR_S3_REFUSED: 'nothing listens at the S3 endpoint (connection refused)',
  AR_S3_TLS: 'the S3 endpoint TLS certificate is not trusted or does not match',
  AR_S3_NETWORK: 'the S3 endpoint cannot be reached (reset, timeout, unreachable)',
  AR_S3_FORBIDDEN: 'a start-up S3 call was denied (403): the IAM policy lacks its action',
  AR_S3_NO_BUCKET: 'the bucket does not exist and auto_create_bucket is false',
  AR_S3_DUPLICATED_PATH: 's3_object_key_format has no %{index} and its key is already taken',
  AR_S3_NOT_STARTED: 'write() was called before start()',
  AR_S3_CHUNK_SHORT: 'the buffer file holds fewer bytes than its chunk says (truncated by something else)',
} as const;

export type S3ErrorCode = keyof typeof S3_ERROR_CODES;

export class S3OutputError extends AuditrelayError<S3ErrorCode> {
  constructor(code: S3ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, `${message} [${code}]`, options);
    this.name = 'S3OutputError';
  }
}
