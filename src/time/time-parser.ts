// Fluentd's parser-side time handling: TimeMixin::Parser#time_parser_create,
// TimeParser, NumericTimeParser and MixedTimeParser (lib/fluent/time.rb), as the
// json parser uses them for `time_key` (docs/compatibility.md §3, O3). Quirks kept:
// - time_type float reads `value.to_s.split('.')`: "2022-09-21T18:51:00.849Z"
//   becomes sec 2022, nsec 849 (O3 post_time_field_iso); at most 10 fraction
//   characters are kept and not normalised, as Fluentd does;
// - a `timezone` (or utc) re-reads the wall clock parsed in the process zone:
//   sec + utc_offset - offset(timezone, at that instant);
// - in time_type mixed, fallbacks `unixtime` and `float` both read as float
//   (Fluentd passes the string, and only the symbol :unixtime selects to_i);
// - messages are Fluentd's, since in_http answers them in the 400 body.

import { EventTime } from './event-time.ts';
import { TimeError } from './errors.ts';
import { Strptime } from './strptime.ts';
import { localToUtc } from './local-time.ts';
import { daysFromCivil } from './civil.ts';
import { localZone as processZone, parseZone, type TimeZone } from './zone.ts';
import { JsonFloat, type JsonValue } from '../value/json-value.ts';
import { rubyToS } from '../value/ruby-to-s.ts';
import { rubyFloatToS } from '../value/oj-json.ts';

export interface TimeParserOptions {
  /** Unset: `string` when timeFormat is given, else `float` (parser_json defaults). */
  timeType?: 'float' | 'unixtime' | 'string' | 'mixed';
  timeFormat?: string;
  localtime?: boolean;
  utc?: boolean;
  timezone?: string;
  timeFormatFallbacks?: string[];
  /** The process zone (Ruby's local time); defaults to localZone(). Tests pass one explicitly. */
  localZone?: TimeZone;
}

interface Inner {
  readonly className: string;
  parse(value: unknown): EventTime;
}

/** Ruby `to_s` of a record value (nil → ""). */
function toS(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : rubyFloatToS(value);
  return rubyToS(value as JsonValue);
}

function rubyClass(value: unknown): string {
  if (value === null || value === undefined) return 'NilClass';
  if (value === true) return 'TrueClass';
  if (value === false) return 'FalseClass';
  if (typeof value === 'string') return 'String';
  if (Array.isArray(value)) return 'Array';
  return 'Hash';
}

function isNumeric(value: unknown): value is number | bigint | JsonFloat {
  return typeof value === 'number' || typeof value === 'bigint' || value instanceof JsonFloat;
}

/** Ruby String#to_i: blanks, sign, an optional 0d, digits with single underscores. */
function rubyToI(s: string): number {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i])) i++;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') { if (s[i] === '-') sign = -1; i++; }
  if (s[i] === '0' && (s[i + 1] === 'd' || s[i + 1] === 'D') && s[i + 2] >= '0' && s[i + 2] <= '9') i += 2;
  let digits = '';
  while (i < s.length) {
    const c = s[i];
    if (c >= '0' && c <= '9') { digits += c; i++; }
    else if (c === '_' && digits !== '' && s[i + 1] >= '0' && s[i + 1] <= '9') i++;
    else break;
  }
  return digits === '' ? 0 : sign * Number(digits);
}

// Kernel#Float on a String: decimal (digits on both sides of a dot, underscores
// between digits, optional exponent) or hex, blanks around.
const FLOAT_TEXT = /^\s*[+-]?(?:\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+(?:_\d+)*)?|0[xX][0-9a-fA-F]+(?:_[0-9a-fA-F]+)*)\s*$/;

function rubyFloatAccepts(value: unknown): boolean {
  return isNumeric(value) || (typeof value === 'string' && FLOAT_TEXT.test(value));
}

/** Two-slot cache, as Fluentd's @cache1/@cache2. */
class LastTwo {
  #k1: unknown = undefined;
  #v1: EventTime | undefined;
  #k2: unknown = undefined;
  #v2: EventTime | undefined;
  get(key: unknown): EventTime | undefined {
    if (this.#v2 !== undefined && this.#k2 === key) return this.#v2;
    if (this.#v1 !== undefined && this.#k1 === key) return this.#v1;
    return undefined;
  }
  set(key: unknown, time: EventTime): void {
    this.#k1 = this.#k2;
    this.#v1 = this.#v2;
    this.#k2 = key;
    this.#v2 = time;
  }
}

function cacheKey(value: unknown): unknown {
  return value instanceof JsonFloat ? value.value : value;
}

/** Fluent::NumericTimeParser, float or unixtime. */
class NumericTimeParser implements Inner {
  readonly className = 'Fluent::NumericTimeParser';
  readonly #unixtime: boolean;
  readonly #cache = new LastTwo();
  constructor(unixtime: boolean) {
    this.#unixtime = unixtime;
  }

  parse(value: unknown): EventTime {
    if (typeof value !== 'string' && !isNumeric(value)) {
      throw new TimeError('AR_TIME_PARSE', `value must be a string or a number: ${toS(value)}(${rubyClass(value)})`);
    }
    const key = cacheKey(value);
    const hit = this.#cache.get(key);
    if (hit !== undefined) return hit;
    const time = this.#unixtime ? new EventTime(toI(value)) : parseFloatText(floatText(value));
    this.#cache.set(key, time);
    return time;
  }
}

function toI(value: string | number | bigint | JsonFloat): number {
  if (typeof value === 'string') return rubyToI(value);
  if (typeof value === 'bigint') return Number(value);
  return Math.trunc(value instanceof JsonFloat ? value.value : value);
}

function floatText(value: string | number | bigint | JsonFloat): string {
  if (typeof value === 'string') return value;
  if (value instanceof JsonFloat) return rubyFloatToS(value.value);
  return toS(value);
}

/** `sec_s, nsec_s, _ = value.to_s.split('.', 3)`, nsec_s[0..9] right-padded to 9 with "0". */
function parseFloatText(text: string): EventTime {
  if (text === '') return new EventTime(0, 0);
  const dot = text.indexOf('.');
  if (dot < 0) return new EventTime(rubyToI(text), 0);
  const dot2 = text.indexOf('.', dot + 1);
  let nsecText = (dot2 < 0 ? text.slice(dot + 1) : text.slice(dot + 1, dot2)).slice(0, 10);
  if (nsecText.length < 9) nsecText += '0'.repeat(9 - nsecText.length);
  return new EventTime(rubyToI(text.slice(0, dot)), rubyToI(nsecText));
}

const ISO8601 = /^\s*(-?\d+)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d(?::?\d\d)?)?\s*$/i;
const ISO8601_DATE = /^\s*(-?\d+)-(\d\d)-(\d\d)(Z|[+-]\d\d(?::?\d\d)?)?\s*$/i;

/** Ruby Time.iso8601 (xmlschema); undefined offset = local time. */
function parseIso8601(text: string, local: TimeZone): EventTime {
  const m = ISO8601.exec(text);
  const d = m === null ? ISO8601_DATE.exec(text) : null;
  if (m === null && d === null) {
    throw new TimeError('AR_TIME_PARSE', `invalid xmlschema format: ${JSON.stringify(text)}`);
  }
  const g = (m ?? d) as RegExpExecArray;
  const [year, mon, day] = [Number(g[1]), Number(g[2]), Number(g[3])];
  const [hour, min, sec] = m === null ? [0, 0, 0] : [Number(g[4]), Number(g[5]), Number(g[6])];
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 24 || min > 59 || sec > 60 || (hour === 24 && min + sec > 0)) {
    throw new TimeError('AR_TIME_PARSE', 'argument out of range');
  }
  const nsec = m !== null && g[7] !== undefined ? Number(g[7].slice(1, 10).padEnd(9, '0')) : 0;
  const zone = m === null ? g[4] : g[8];
  const wall = daysFromCivil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
  if (zone === undefined) return new EventTime(localToUtc(wall, local), nsec);
  if (zone === 'Z' || zone === 'z') return new EventTime(wall, nsec);
  const digits = zone.slice(1).replace(':', '');
  const off = (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2) || '0') * 60) * (zone[0] === '-' ? -1 : 1);
  return new EventTime(wall - off, nsec);
}

/** Fluent::TimeParser for one format. */
class StringTimeParser implements Inner {
  readonly className = 'Fluent::TimeParser';
  readonly #strptime: Strptime | undefined;
  readonly #local: TimeZone;
  readonly #shift: TimeZone | undefined; // re-read the wall clock in this zone
  readonly #cache = new LastTwo();

  constructor(format: string, localtime: boolean, timezone: string | undefined, local: TimeZone) {
    this.#local = local;
    const withZone = format.includes('%z') || format.includes('%Z');
    this.#strptime = format === '%iso8601' && !withZone ? undefined : new Strptime(format);
    this.#shift = withZone ? undefined : timezone !== undefined ? parseZone(timezone) : localtime ? undefined : ZERO;
  }

  parse(value: unknown): EventTime {
    if (typeof value !== 'string') throw new TimeError('AR_TIME_PARSE', `value must be string: ${toS(value)}`);
    const hit = this.#cache.get(value);
    if (hit !== undefined) return hit;
    let time: EventTime;
    try {
      time = this.#parse(value);
    } catch (err) {
      const message = err instanceof TimeError ? err.message : String(err);
      throw new TimeError('AR_TIME_PARSE',
        `invalid time format: value = ${value}, error_class = ArgumentError, error = ${message}`, { cause: err });
    }
    this.#cache.set(value, time);
    return time;
  }

  #parse(value: string): EventTime {
    if (this.#strptime === undefined) return parseIso8601(value, this.#local);
    const t = this.#strptime.execDetailed(value, this.#local);
    if (this.#shift === undefined) return new EventTime(t.sec, t.nsec);
    return new EventTime(t.sec + t.utcOffset - this.#shift.offsetAt(t.sec), t.nsec);
  }
}

const ZERO: TimeZone = { offsetAt: () => 0, nameAt: () => '' };

/** Fluent::MixedTimeParser: the format, then each fallback, first success wins. */
class MixedTimeParser implements Inner {
  readonly className = 'Fluent::MixedTimeParser';
  readonly #parsers: Inner[];
  constructor(parsers: Inner[]) {
    this.#parsers = parsers;
  }

  parse(value: unknown): EventTime {
    for (const parser of this.#parsers) {
      if (parser instanceof NumericTimeParser && !rubyFloatAccepts(value)) continue;
      try {
        return parser.parse(value);
      } catch {
        // Fluentd skips TimeParseError and tries the next fallback.
      }
    }
    const classes = this.#parsers.map((p) => p.className).join(',');
    throw new TimeError('AR_TIME_PARSE', `invalid time format: value = ${toS(value)}, even though fallbacks: ${classes}`);
  }
}

export class TimeParser {
  readonly #inner: Inner;

  constructor(opts: TimeParserOptions) {
    const type = opts.timeType ?? (opts.timeFormat !== undefined ? 'string' : 'float');
    const local = opts.localZone ?? processZone();
    const localtime = (opts.localtime ?? true) && opts.timezone === undefined && !(opts.utc ?? false);
    if (opts.timezone !== undefined) parseZone(opts.timezone); // Fluent::Timezone.validate!
    const stringParser = (format: string | undefined): Inner => {
      if (format === undefined) {
        if (!localtime) {
          throw new TimeError('AR_TIME_BAD_CONFIG',
            'specifying timezone requires time format; add time_format (e.g. %Y-%m-%dT%H:%M:%S%z) or remove timezone/utc');
        }
        throw new TimeError('AR_TIME_BAD_CONFIG',
          "time_type string without time_format means Ruby's free-form Time.parse, which auditrelay does not implement; " +
          'set time_format (e.g. %Y-%m-%dT%H:%M:%S%z or %iso8601)');
      }
      return new StringTimeParser(format, localtime, opts.timezone, local);
    };
    switch (type) {
      case 'float': this.#inner = new NumericTimeParser(false); break;
      case 'unixtime': this.#inner = new NumericTimeParser(true); break;
      case 'string': this.#inner = stringParser(opts.timeFormat); break;
      default: {
        const formats = [opts.timeFormat, ...(opts.timeFormatFallbacks ?? [])].filter((f) => f !== undefined && f !== '');
        if (formats.length === 0) {
          throw new TimeError('AR_TIME_BAD_CONFIG',
            'time_type is :mixed but time_format and time_format_fallbacks is empty.; set time_format or time_format_fallbacks');
        }
        this.#inner = new MixedTimeParser(formats.map((f) =>
          f === 'unixtime' || f === 'float' ? new NumericTimeParser(false) : stringParser(f)));
      }
    }
  }

  /** The event time of a record's time_key value; TimeError AR_TIME_PARSE with Fluentd's message. */
  parse(value: unknown): EventTime {
    return this.#inner.parse(value);
  }
}
