import { AuditrelayError } from '../errors.ts';

// Codes of the mTLS generator (docs/compatibility-event-handler.md §1.1 "Certificates").
export type PkiErrorCode =
  | 'AR_PKI_BAD_IP' // an --ip value that is not an IPv4/IPv6 literal
  | 'AR_PKI_LOOKUP' // a --dns-names entry that does not resolve (upstream aborts too)
  | 'AR_PKI_BAD_LENGTH' // key length outside 1024/2048/4096
  | 'AR_PKI_KEYGEN'; // the native RSA generator failed

export class PkiError extends AuditrelayError<PkiErrorCode> {
  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'PkiError';
  }
}
