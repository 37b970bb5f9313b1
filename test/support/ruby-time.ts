// Ruby's Time#to_s (`2026-12-04 18:58:03 +0000`), as Fluentd's log lines print times such as
// next_retry_time: the pattern, and the instant it names.
export const RUBY_TIME_TO_S = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$/;

/** Unix ms of a Time#to_s text (NaN when it is not one). */
export function rubyTimeMs(text: string): number {
  if (!RUBY_TIME_TO_S.test(text)) return Number.NaN;
  return Date.parse(text.replace(' ', 'T').replace(/ ([+-]\d\d)(\d\d)$/, '$1:$2'));
}
