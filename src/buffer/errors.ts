// Buffer errors (docs/compatibility.md §8). Codes never change once shipped; callers
// (the HTTP input's 503 + Retry-After) match on `code`.

import { AuditrelayError } from '../errors.ts';

export type BufferErrorCode =
  | 'AR_BUFFER_OVERFLOW'
  | 'AR_BUFFER_CHUNK_OVERFLOW'
  | 'AR_BUFFER_BROKEN_CHUNK'
  | 'AR_BUFFER_STOPPED'
  | 'AR_BUFFER_DISK_FULL'
  | 'AR_BUFFER_PATH';

export class BufferError<C extends BufferErrorCode = BufferErrorCode> extends AuditrelayError<C> {
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'BufferError';
  }
}

/**
 * Fluentd's BufferOverflowError: staged + queued bytes reached
 * total_limit_size. The message is Fluentd's, byte for byte, because in_http
 * puts it in the response body; `retryAfterSeconds` feeds `Retry-After`.
 */
export class BufferOverflowError extends BufferError<'AR_BUFFER_OVERFLOW'> {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('AR_BUFFER_OVERFLOW', 'buffer space has too many data');
    this.name = 'BufferOverflowError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Fluentd's BufferChunkOverflowError: one record is larger than chunk_limit_size (it is dropped). */
export class BufferChunkOverflowError extends BufferError<'AR_BUFFER_CHUNK_OVERFLOW'> {
  readonly droppedRecords: number;
  constructor(message: string, droppedRecords: number) {
    super('AR_BUFFER_CHUNK_OVERFLOW', message);
    this.name = 'BufferChunkOverflowError';
    this.droppedRecords = droppedRecords;
  }
}

/** The buffer volume is full (ENOSPC/EDQUOT): backpressure like an overflow (503 + Retry-After). */
export class BufferDiskFullError extends BufferError<'AR_BUFFER_DISK_FULL'> {
  readonly retryAfterSeconds: number;
  readonly path: string;
  readonly causeCode: string;
  constructor(path: string, cause: unknown, retryAfterSeconds = 1) {
    const causeCode = (cause as { code?: string }).code ?? 'ENOSPC';
    super('AR_BUFFER_DISK_FULL', `buffer volume is full (${causeCode}) at ${path}`, { cause });
    this.name = 'BufferDiskFullError';
    this.retryAfterSeconds = retryAfterSeconds;
    this.path = path;
    this.causeCode = causeCode;
  }
}

/** True for ENOSPC / EDQUOT, the "no space" errors a full volume or quota raises. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** The buffer `path` cannot hold chunks for this user (issue 13.3): one line, built in path-check.ts. */
export class BufferPathError extends BufferError<'AR_BUFFER_PATH'> {
  readonly path: string;
  /** ENOTDIR, EACCES, EROFS, … */
  readonly causeCode: string;
  constructor(message: string, path: string, causeCode: string, cause?: unknown) {
    super('AR_BUFFER_PATH', `${message} [AR_BUFFER_PATH]`, { cause });
    this.name = 'BufferPathError';
    this.path = path;
    this.causeCode = causeCode;
  }
}
