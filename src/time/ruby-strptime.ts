// Ruby's Time.strptime (lib/time.rb over Date._strptime, ext/date/date_strptime.c),
// which Fluentd's TimeParser uses when the strptime gem refuses a format
// (docs/compatibility.md §3; lib/fluent/time.rb `Strptime.new(format) rescue nil`).
// Differences from the gem that users see: %L, %j, %p/%I, %a/%A, %s, %Q, %T, %F,
// %D, %R, %r, %c, %x, %X, %v, %+, %Z, %:z, %% and %C are understood; %d/%e/%H/%I
// accept a leading space; %Y without a following number reads every digit;
// %z/%Z take names (UTC, GMT, EST, …); a width such as %3N is NOT a directive
// (it must match the text "%3N", so it always fails). Text left after the
// format is ignored. Week-based directives (%G %g %V %u %U %W) need Ruby's Date
// class and are refused when the format is compiled.

import { daysFromCivil, monthDays, Civil } from './civil.ts';
import { TimeError } from './errors.ts';
import { localToUtc } from './local-time.ts';
import type { TimeZone } from './zone.ts';

/** An instant plus the utc_offset of the Ruby Time that was built. */
export interface ParsedTime {
  sec: number;
  nsec: number;
  utcOffset: number;
}

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday',
  'sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_NAMES = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september',
  'october', 'november', 'december', 'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct',
  'nov', 'dec'];
const MERIDIANS = ['am', 'pm', 'a.m.', 'p.m.'];
const RECUR: Record<string, string> = {
  c: '%a %b %e %H:%M:%S %Y', D: '%m/%d/%y', F: '%Y-%m-%d', R: '%H:%M', r: '%I:%M:%S %p', T: '%H:%M:%S',
  v: '%e-%b-%Y', X: '%H:%M:%S', x: '%m/%d/%y', '+': '%a %b %e %H:%M:%S %Z %Y', n: ' ', t: ' ',
};
// date_strptime.c: the zone at the cursor (case-insensitive).
const ZONE_PATTERN = /^((?:gmt|utc?)?[-+]\d+(?:[,.:]\d+(?::\d+)?)?|[a-z.\s]+(?:standard|daylight)\s+time\b|[a-z]+(?:\s+dst)?\b)/i;
const WEEK_DIRECTIVES = /%[EO]?[GgVuUW]/;
// lib/time.rb Time::ZoneOffset (RFC 822 and military zones), in hours.
const ZONE_HOURS: Record<string, number> = {
  UTC: 0, Z: 0, UT: 0, GMT: 0, EST: -5, EDT: -4, CST: -6, CDT: -5, MST: -7, MDT: -6, PST: -8, PDT: -7,
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, I: 9, K: 10, L: 11, M: 12,
  N: -1, O: -2, P: -3, Q: -4, R: -5, S: -6, T: -7, U: -8, V: -9, W: -10, X: -11, Y: -12,
};

/** What Date._strptime returns: the fields it saw. */
interface Fields {
  year?: number; mon?: number; mday?: number; hour?: number; min?: number; sec?: number;
  fraction?: number; fractionDigits?: number; seconds?: number; secondsMs?: boolean;
  yday?: number; zone?: string; cent?: number; merid?: number;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

function numPattern(fmt: string, at: number): boolean {
  let c = fmt[at];
  if (c !== undefined && c >= '0' && c <= '9') return true;
  if (c !== '%') return false;
  c = fmt[++at];
  if (c === 'E' || c === 'O') c = fmt[++at];
  return c !== undefined && ('CDdeFGgHIjkLlMmNQRrSsTUuVvWwXxYy'.includes(c) || (c >= '0' && c <= '9'));
}

/** The text scan() reads and where it is; `digitsRead` is the width of the last number read. */
class TextCursor {
  readonly str: string;
  si: number;
  digitsRead = 0;

  constructor(str: string, si: number) {
    this.str = str;
    this.si = si;
  }

  read(width: number): number | undefined {
    const str = this.str;
    const si = this.si;
    let k = 0;
    while (si + k < str.length && k < width && str[si + k] >= '0' && str[si + k] <= '9') k++;
    if (k === 0) return undefined;
    const v = Number(str.slice(si, si + k));
    this.si += k;
    this.digitsRead = k;
    return v;
  }

  spaced(): number | undefined {
    if (this.str[this.si] === ' ') { this.si++; return this.read(1); }
    return this.read(2);
  }

  names(list: string[]): number {
    const rest = this.str.slice(this.si, this.si + 9).toLowerCase();
    const i = list.findIndex((name) => rest.startsWith(name));
    if (i >= 0) this.si += list[i].length;
    return i;
  }
}

/** date__strptime_internal: new cursor, or -1 on failure. */
function scan(str: string, si: number, fmt: string, f: Fields): number {
  const t = new TextCursor(str, si);
  for (let fi = 0; fi < fmt.length; fi++) {
    let c = fmt[fi];
    if (isSpace(c)) { while (isSpace(t.str[t.si])) t.si++; continue; }
    if (c !== '%') { if (t.str[t.si] !== c) return -1; t.si++; continue; }
    c = fmt[++fi];
    if ((c === 'E' && 'cCxXyY'.includes(fmt[fi + 1] ?? '\0')) || (c === 'O' && 'deHImMSuUVwWy'.includes(fmt[fi + 1] ?? '\0'))) {
      c = fmt[++fi];
    } else if (c === 'E' || c === 'O') {
      if (t.str[t.si] !== '%') return -1; // "ordinal": the % itself is literal
      t.si++;
      fi--;
      continue;
    }
    if (c === ':') {
      const m = /^:{1,3}z/.exec(fmt.slice(fi));
      if (m === null) return -1;
      fi += m[0].length - 1;
      c = 'z';
    }
    if (!convert(t, c, fmt, fi, f)) return -1;
  }
  return t.si;
}

/** One conversion `%c` (at fi in fmt) read from the cursor into f; false when the text does not match. */
function convert(t: TextCursor, c: string, fmt: string, fi: number, f: Fields): boolean {
  let v: number | undefined;
  switch (c) {
    case 'A': case 'a': if (t.names(DAY_NAMES) < 0) return false; break;
    case 'B': case 'b': case 'h': { const i = t.names(MONTH_NAMES); if (i < 0) return false; f.mon = (i % 12) + 1; break; }
    case 'C': if ((v = t.read(numPattern(fmt, fi + 1) ? 2 : Infinity)) === undefined) return false; f.cent = v; break;
    case 'd': case 'e': if ((v = t.spaced()) === undefined || v < 1 || v > 31) return false; f.mday = v; break;
    case 'H': case 'k': if ((v = t.spaced()) === undefined || v > 24) return false; f.hour = v; break;
    case 'I': case 'l': if ((v = t.spaced()) === undefined || v < 1 || v > 12) return false; f.hour = v; break;
    case 'j': if ((v = t.read(3)) === undefined || v < 1 || v > 366) return false; f.yday = v; break;
    case 'L': case 'N': {
      let sign = 1;
      if (t.str[t.si] === '+' || t.str[t.si] === '-') { sign = t.str[t.si] === '-' ? -1 : 1; t.si++; }
      if ((v = t.read(numPattern(fmt, fi + 1) ? (c === 'L' ? 3 : 9) : Infinity)) === undefined) return false;
      f.fraction = sign * v;
      f.fractionDigits = t.digitsRead;
      break;
    }
    case 'M': if ((v = t.read(2)) === undefined || v > 59) return false; f.min = v; break;
    case 'm': if ((v = t.read(2)) === undefined || v < 1 || v > 12) return false; f.mon = v; break;
    case 'P': case 'p': { const i = t.names(MERIDIANS); if (i < 0) return false; f.merid = i % 2 === 0 ? 0 : 12; break; }
    case 'Q': case 's': {
      const negative = t.str[t.si] === '-';
      if (negative) t.si++;
      if ((v = t.read(Infinity)) === undefined) return false;
      f.seconds = negative ? -v : v;
      f.secondsMs = c === 'Q';
      break;
    }
    case 'S': if ((v = t.read(2)) === undefined || v > 60) return false; f.sec = v; break;
    case 'w': if ((v = t.read(1)) === undefined || v > 6) return false; break;
    case 'Y': {
      let sign = 1;
      if (t.str[t.si] === '+' || t.str[t.si] === '-') { sign = t.str[t.si] === '-' ? -1 : 1; t.si++; }
      if ((v = t.read(numPattern(fmt, fi + 1) ? 4 : Infinity)) === undefined) return false;
      f.year = sign * v;
      break;
    }
    case 'y':
      if ((v = t.read(2)) === undefined) return false;
      f.year = v;
      if (f.cent === undefined) f.cent = v >= 69 ? 19 : 20;
      break;
    case 'Z': case 'z': {
      const m = ZONE_PATTERN.exec(t.str.slice(t.si));
      if (m === null) return false;
      t.si += m[0].length;
      f.zone = m[1];
      break;
    }
    case '%': if (t.str[t.si] !== '%') return false; t.si++; break;
    default:
      if (RECUR[c] !== undefined) {
        const next = scan(t.str, t.si, RECUR[c], f);
        if (next < 0) return false;
        t.si = next;
        break;
      }
      // Unknown directive (a width like %3N included): "%" and the next
      // character must appear literally in the text.
      if (t.str[t.si] !== '%') return false;
      t.si++;
      if (fi < fmt.length && t.str[t.si] !== fmt[fi]) return false;
      t.si++;
  }
  return true;
}

export class RubyStrptime {
  readonly #format: string;
  readonly #civil = new Civil();

  constructor(format: string) {
    const week = WEEK_DIRECTIVES.exec(format);
    if (week !== null) {
      throw new TimeError('AR_TIME_BAD_FORMAT',
        `time_format '${format}' uses ${week[0]}, a week-based directive auditrelay does not parse; ` +
        'write the date with %Y-%m-%d (or %Y %j) instead');
    }
    this.#format = format;
  }

  exec(text: string, zone: TimeZone, nowMs: number): ParsedTime {
    const f: Fields = {};
    if (scan(text, 0, this.#format, f) < 0) {
      throw new TimeError('AR_TIME_PARSE', `invalid date or strptime format - '${text}' '${this.#format}'`);
    }
    if (f.cent !== undefined && f.year !== undefined) f.year += f.cent * 100;
    if (f.merid !== undefined && f.hour !== undefined) f.hour = (f.hour % 12) + f.merid;
    const fracNs = f.fraction === undefined ? 0 : Math.floor(f.fraction * 10 ** (9 - (f.fractionDigits ?? 0)));
    if (f.seconds !== undefined) return this.#fromSeconds(f, fracNs, zone);
    return this.#makeTime(text, f, fracNs, zone, nowMs);
  }

  // Time.strptime with %s/%Q: Time.at(seconds, usec), usec negated for negative seconds.
  #fromSeconds(f: Fields, fracNs: number, zone: TimeZone): ParsedTime {
    const seconds = f.seconds as number;
    // Integer arithmetic: %Q values are past 2^53 / 1e6.
    let sec = f.secondsMs ? Math.floor(seconds / 1000) : seconds;
    let nsec = f.secondsMs ? (seconds - sec * 1000) * 1e6 : 0;
    nsec += seconds < 0 ? -fracNs : fracNs;
    const carry = Math.floor(nsec / 1e9);
    sec += carry;
    nsec -= carry * 1e9;
    return { sec, nsec, utcOffset: forcedOffset(f.zone, sec, zone) };
  }

  // lib/time.rb make_time.
  #makeTime(text: string, f: Fields, nsec: number, zone: TimeZone, nowMs: number): ParsedTime {
    let { year, mon, mday, hour, min, sec } = f;
    if (year === undefined && f.yday === undefined && mon === undefined && mday === undefined &&
      hour === undefined && min === undefined && sec === undefined && f.fraction === undefined) {
      throw new TimeError('AR_TIME_PARSE', `no time information in ${JSON.stringify(text)}`);
    }
    const nowSec = Math.floor(nowMs / 1000);
    const c = this.#civil;
    const offYear = year ?? c.setFromLocalSeconds(nowSec + zone.offsetAt(nowSec)).year;
    let off = f.zone === undefined ? undefined : zoneOffset(f.zone, offYear, zone);
    // `now.getlocal(off)`: the fields taken from now are read in the parsed zone.
    c.setFromLocalSeconds(nowSec + (off ?? zone.offsetAt(nowSec)));
    if (year === undefined) {
      year = c.year;
      if (f.yday === undefined && mon === undefined) {
        mon = c.month;
        if (mday === undefined) {
          mday = c.day;
          if (hour === undefined) {
            hour = c.hour;
            if (min === undefined) {
              min = c.minute;
              sec ??= c.second;
            }
          }
        }
      }
    }
    if (f.yday !== undefined) {
      // make_time retries with the month and day the yday falls on; past
      // December (yday 366 of a common year) it raises.
      let day = f.yday;
      mon = 1;
      while (mon < 12 && day > monthDays(year, mon)) day -= monthDays(year, mon++);
      if (day > monthDays(year, mon)) throw new TimeError('AR_TIME_PARSE', `yday ${f.yday} out of range`);
      mday = day;
    }
    mon ??= 1; mday ??= 1; hour ??= 0; min ??= 0; sec ??= 0;
    // Time.utc/Time.local argument check.
    if (hour === 24 && (min > 0 || sec > 0)) throw new TimeError('AR_TIME_PARSE', 'argument out of range');
    if (f.zone !== undefined && year !== offYear) off = zoneOffset(f.zone, year, zone);
    const ns = nsec;
    const wall = daysFromCivil(year, mon, mday) * 86400 + hour * 3600 + min * 60 + sec;
    if (off !== undefined) {
      const t = wall - off;
      return { sec: t, nsec: ns, utcOffset: forcedOffset(f.zone, t, zone) };
    }
    const t = localToUtc(wall, zone);
    return { sec: t, nsec: ns, utcOffset: zone.offsetAt(t) };
  }
}

/** Time.zone_offset(zone, year): numeric forms, RFC 822 names, then the local zone's own abbreviations. */
function zoneOffset(name: string, year: number, local: TimeZone): number | undefined {
  const z = name.toUpperCase();
  let m = /^([+-])(\d\d):?(\d\d)$/.exec(z);
  if (m !== null) return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60;
  m = /^([+-])(\d\d)$/.exec(z);
  if (m !== null) return (m[1] === '-' ? -1 : 1) * Number(m[2]) * 3600;
  if (ZONE_HOURS[z] !== undefined) return ZONE_HOURS[z] * 3600;
  for (const month of [1, 7]) {
    const t = localToUtc(daysFromCivil(year, month, 1) * 86400, local);
    if (local.nameAt(t).toUpperCase() === z) return local.offsetAt(t);
  }
  return undefined;
}

/** The utc_offset Time.strptime leaves on the result (force_zone!). */
function forcedOffset(name: string | undefined, t: number, local: TimeZone): number {
  if (name === undefined) return local.offsetAt(t);
  if (/^(?:-00:00|-0000|-00|UTC|Z|UT)$/i.test(name)) return 0;
  return zoneOffset(name, 1970, local) ?? local.offsetAt(t);
}
