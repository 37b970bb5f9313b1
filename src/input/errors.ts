import { AuditrelayError } from '../errors.ts';

export type InputErrorCode =
  | 'AR_HTTP_NO_PATH'
  | 'AR_HTTP_NOT_JSON'
  | 'AR_HTTP_NOT_OBJECT'
  | 'AR_HTTP_NO_PARAM'
  | 'AR_HTTP_BAD_MSGPACK'
  | 'AR_HTTP_BAD_TIME'
  | 'AR_HTTP_UNSUPPORTED_BODY';

/** A request that cannot become events: in_http answers 400 with the message. */
export class InputError extends AuditrelayError<InputErrorCode> {
  /**
   * The message as bytes for the answer, in parts, when `message` holds only a clipped copy (a long echoed
   * body): the answer joins them once (issue 12.8: each copy of a 250 kB body is garbage until a major GC).
   */
  readonly answer: readonly Buffer[] | undefined;
  constructor(code: InputErrorCode, message: string, options?: { cause?: unknown; answer?: readonly Buffer[] }) {
    super(code, message, options);
    this.name = 'InputError';
    this.answer = options?.answer;
  }
}
