import { AuditrelayError } from '../errors.ts';

// Codes of the time area (docs/compatibility.md §3, §6). TimeParser's AR_TIME_PARSE
// message is Fluentd's own text, because in_http echoes it in the 400 body.
export type TimeErrorCode =
  | 'AR_TIME_BAD_ZONE' // a timezone that is not +HH:MM, +HHMM, +HH or a known Region/Zone
  | 'AR_TIME_BAD_FORMAT' // a strptime directive auditrelay does not implement
  | 'AR_TIME_BAD_CONFIG' // a time_type/time_format/timezone combination Fluentd refuses
  | 'AR_TIME_PARSE'; // a value that does not parse as a time

export class TimeError extends AuditrelayError<TimeErrorCode> {
  constructor(code: TimeErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'TimeError';
  }
}
