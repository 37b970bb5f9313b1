import { AuditrelayError } from '../errors.ts';

/** A body or a time that cannot become an event (in_http answers 400). */
export type ParserErrorCode = 'AR_PARSE_NOT_OBJECT' | 'AR_PARSE_TIME' | 'AR_PARSE_NOT_JSON' | 'AR_PARSE_MSGPACK';

export class ParserError extends AuditrelayError<ParserErrorCode> {
  constructor(code: ParserErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ParserError';
  }
}
