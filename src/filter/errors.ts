import { AuditrelayError } from '../errors.ts';

// Codes of the filter stage. Configure-time problems are ConfigErrors
// (src/params/errors.ts, e.g. AR_CONF_UNSUPPORTED_RUBY); these are raised per event.
export type FilterErrorCode =
  | 'AR_FILTER_RUBY' // a Ruby-like runtime error inside `${...}` (NoMethodError on nil, TypeError, KeyError…)
  | 'AR_FILTER_EXPAND'; // Fluentd's "failed to expand `<expr>` : error = <e>" wrapper; the event goes to emitErrorEvent

export class FilterError extends AuditrelayError<FilterErrorCode> {
  /** The Ruby exception class Fluentd would have raised (NoMethodError, TypeError, RuntimeError, …). */
  readonly rubyClass: string;
  constructor(code: FilterErrorCode, rubyClass: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'FilterError';
    this.rubyClass = rubyClass;
  }
}

/** A Ruby runtime error as the evaluator raises it (docs/compatibility.md §4: caught per event by the filter). */
export function rubyError(rubyClass: string, message: string): FilterError {
  return new FilterError('AR_FILTER_RUBY', rubyClass, message);
}

/** The dedup filter's state directory or journal failed (src/filter/dedup-journal.ts). */
export type DedupErrorCode = 'AR_FILTER_DEDUP_STATE';

export class DedupError extends AuditrelayError<DedupErrorCode> {
  constructor(code: DedupErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'DedupError';
  }
}
