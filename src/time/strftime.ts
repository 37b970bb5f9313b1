// Ruby's Time#strftime (ruby/strftime.c), used for the stdout line (docs/compatibility.md
// §6, O4), record_transformer's time.strftime (§4, O6) and S3 key time slices.
// The format is compiled once into parts; per call only the wall-clock fields
// are computed, and they are reused while the second and offset stay the same.
// Ruby details kept on purpose: unknown directives (including `%+`, which only
// Date#strftime knows) are copied literally with their flags; `-` drops padding
// and width; `^` upcases; `#` swaps case (names upcase, %p/%Z downcase);
// %L/%N take the width as digit count and truncate; %-z in UTC mode is "-0000".

import { Civil } from './civil.ts';
import type { EventTime } from './event-time.ts';
import type { TimeZone } from './zone.ts';

/** Fluentd's stdout / log line time (lib/fluent/time.rb EventTime::FORMATTER, O4). */
export const STDOUT_TIME_FORMAT = '%Y-%m-%d %H:%M:%S.%N %z';

const LITERAL = 0;
const NUMBER = 1; // Ruby FMT(): integer with default pad char and width
const TEXT = 2; // names, %p, %Z, %%, %n, %t: FILL_PADDING + case conversion
const SUBSEC = 3; // %L %N
const OFFSET = 4; // %z %:z %::z %:::z
const COMPOSITE = 5; // %c %D %F %R %r %T %v %x %X: a nested format

const NO_CASE = 0;
const UPPER = 1;
const LOWER = 2;

interface Part {
  kind: number;
  directive: string;
  text: string;
  precision: number; // -1 unset, 0 after `-`
  padding: string; // '' (directive default), ' ' or '0'
  left: boolean; // the `-` flag
  caseMode: number;
  colons: number;
  sub: Part[];
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December'];

const COMPOSITES: Record<string, string> = {
  c: '%a %b %e %H:%M:%S %Y', D: '%m/%d/%y', F: '%Y-%m-%d', R: '%H:%M', r: '%I:%M:%S %p',
  T: '%H:%M:%S', v: '%e-%^b-%4Y', x: '%m/%d/%y', X: '%H:%M:%S',
};
const NUMBERS = 'CdeGgHIjklMmsSuUVwWyY';
const TEXTS = 'aAbBhpPZ%nt';
const INT_MAX = 2147483647;

function part(kind: number, directive: string, text: string): Part {
  return { kind, directive, text, precision: -1, padding: '', left: false, caseMode: NO_CASE, colons: 0, sub: [] };
}

function compile(fmt: string): Part[] {
  const parts: Part[] = [];
  const n = fmt.length;
  let i = 0;
  while (i < n) {
    let j = fmt.indexOf('%', i);
    if (j < 0) j = n;
    if (j > i) parts.push(part(LITERAL, '', fmt.slice(i, j)));
    i = j;
    if (i >= n) break;
    const sp = i;
    const p = part(LITERAL, '', '');
    let upper = false, chcase = false, unknown = false;
    for (;;) {
      if (++i >= n) { unknown = true; break; }
      const c = fmt[i];
      if (c === '-' || c === '^' || c === '#' || c === '_') {
        if (p.precision > 0) { unknown = true; break; } // FLAG_FOUND after a width
        if (c === '-') { p.left = true; p.padding = ''; p.precision = 0; }
        else if (c === '^') upper = true;
        else if (c === '#') chcase = true;
        else p.padding = ' ';
        continue;
      }
      if (c === ':') {
        let colons = 1;
        for (; colons <= 3; colons++) {
          if (i + colons >= n || (fmt[i + colons] !== 'z' && fmt[i + colons] !== ':')) { unknown = true; break; }
          if (fmt[i + colons] === 'z') break;
        }
        if (unknown || colons > 3) { unknown = true; break; }
        p.colons = colons;
        i += colons - 1;
        continue;
      }
      if (c >= '0' && c <= '9') {
        if (c === '0') p.padding = '0';
        let k = i;
        while (k < n && fmt[k] >= '0' && fmt[k] <= '9') k++;
        const width = Number(fmt.slice(i, k));
        if (width > INT_MAX) { unknown = true; break; }
        p.precision = width;
        i = k - 1;
        continue;
      }
      if (c === 'E' || c === 'O') {
        const allowed = c === 'E' ? 'cCxXyY' : 'deHkIlmMSuUVwWy';
        if (i + 1 < n && allowed.includes(fmt[i + 1])) continue;
        unknown = true;
        break;
      }
      if (p.colons > 0 && c !== 'z') { unknown = true; break; }
      p.directive = c;
      if (c === 'z') p.kind = OFFSET;
      else if (c === 'L' || c === 'N') p.kind = SUBSEC;
      else if (COMPOSITES[c] !== undefined) { p.kind = COMPOSITE; p.sub = compile(COMPOSITES[c]); }
      else if (NUMBERS.includes(c)) p.kind = NUMBER;
      else if (TEXTS.includes(c)) p.kind = TEXT;
      else { unknown = true; break; }
      p.caseMode = caseModeOf(c, upper, chcase);
      break;
    }
    if (unknown) {
      // Ruby copies "%" through the offending character, flags and all.
      parts.push(part(LITERAL, '', fmt.slice(sp, i + 1)));
    } else {
      parts.push(p);
    }
    i++;
  }
  return parts;
}

function caseModeOf(c: string, upperFlag: boolean, chcase: boolean): number {
  let upper = upperFlag, lower = false;
  if ('aAbBh'.includes(c) && chcase) { upper = true; }
  if ((c === 'p' && chcase) || (c === 'P' && !chcase && !upper) || (c === 'Z' && chcase)) { upper = false; lower = true; }
  return upper ? UPPER : lower ? LOWER : NO_CASE;
}

/** C printf "%0*d" / "%*d" as Ruby's FMT macro uses it. */
function fmtNumber(p: Part, defPad: string, defPrec: number, value: number): string {
  const width = p.left ? 1 : p.precision <= 0 ? defPrec : p.precision;
  const zero = p.padding === '0' || (p.padding === '' && defPad === '0');
  const digits = String(Math.abs(value));
  if (zero) return (value < 0 ? '-' : '') + digits.padStart(value < 0 ? width - 1 : width, '0');
  return (value < 0 ? '-' + digits : digits).padStart(width, ' ');
}

function fillText(p: Part, text: string): string {
  const padded = !p.left && p.precision > text.length ? text.padStart(p.precision, p.padding || ' ') : text;
  return p.caseMode === UPPER ? padded.toUpperCase() : p.caseMode === LOWER ? padded.toLowerCase() : padded;
}

function floorDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

function weekNumber(c: Civil, firstWeekday: number): number {
  let wday = c.wday;
  if (firstWeekday === 1) wday = wday === 0 ? 6 : wday - 1;
  return Math.max(0, Math.floor((c.yday - 1 + 7 - wday) / 7));
}

/** ISO 8601 week number, ported from strftime.c iso8601wknum (yday0 0-based). */
function isoWeek(year: number, month: number, mday: number, wday: number, yday0: number): number {
  let weeknum = Math.max(0, Math.floor((yday0 + 7 - (wday === 0 ? 6 : wday - 1)) / 7));
  let jan1day = wday - (yday0 % 7);
  if (jan1day < 0) jan1day += 7;
  if (jan1day >= 2 && jan1day <= 4) weeknum++;
  else if (jan1day !== 1 && weeknum === 0) {
    const prevLeap = ((year - 1) % 4 === 0 && (year - 1) % 100 !== 0) || (year - 1) % 400 === 0;
    weeknum = isoWeek(year - 1, 12, 31, jan1day === 0 ? 6 : jan1day - 1, 364 + (prevLeap ? 1 : 0));
  }
  if (month === 12 && ((wday === 1 && mday >= 29) || (wday === 2 && mday >= 30) || (wday === 3 && mday === 31))) {
    weeknum = 1;
  }
  return weeknum;
}

function isoYear(c: Civil): number {
  const w = isoWeek(c.year, c.month, c.day, c.wday, c.yday - 1);
  return c.month === 12 && w === 1 ? c.year + 1 : c.month === 1 && w >= 52 ? c.year - 1 : c.year;
}

export class Strftime {
  readonly source: string;
  readonly #parts: Part[];
  readonly #hasSubsec: boolean;
  readonly #civil = new Civil();
  // Last instant seen: wall clock, and the whole text when no %L/%N is used.
  #sec = Number.NaN;
  #offset = 0;
  #zone: TimeZone | undefined;
  #text = '';

  constructor(format: string) {
    this.source = format;
    this.#parts = compile(format);
    this.#hasSubsec = hasSubsec(this.#parts);
  }

  /** Format an EventTime (sec + nsec) in a zone. */
  formatEventTime(time: EventTime, zone: TimeZone): string {
    return this.format(time.sec, time.nsec, zone);
  }

  format(sec: number, nsec: number, zone: TimeZone): string {
    if (nsec < 0 || nsec >= 1e9) {
      // Ruby's Time.at(sec + nsec/1e9): carry whole seconds out of nsec.
      const carry = Math.floor(nsec / 1e9);
      sec += carry;
      nsec -= carry * 1e9;
    }
    const offset = zone.utc ? 0 : Math.round(zone.offsetAt(sec));
    if (sec !== this.#sec || offset !== this.#offset || zone !== this.#zone) {
      this.#civil.setFromLocalSeconds(sec + offset);
      this.#sec = sec;
      this.#offset = offset;
      this.#zone = zone;
      this.#text = '';
      if (!this.#hasSubsec) this.#text = this.#render(this.#parts, sec, 0, offset, zone);
    }
    return this.#hasSubsec ? this.#render(this.#parts, sec, nsec, offset, zone) : this.#text;
  }

  #render(parts: Part[], sec: number, nsec: number, offset: number, zone: TimeZone): string {
    let out = '';
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k];
      switch (p.kind) {
        case LITERAL: out += p.text; break;
        case NUMBER: out += this.#number(p, sec); break;
        case TEXT: {
          // Ruby skips an empty %Z (fixed-offset Time) entirely, width included.
          const text = this.#text_(p, sec, zone);
          if (text !== '') out += fillText(p, text);
          break;
        }
        case SUBSEC: out += subsec(p, nsec); break;
        case OFFSET: out += zoneOffset(p, offset, zone.utc === true); break;
        case COMPOSITE: {
          let text = this.#render(p.sub, sec, nsec, offset, zone);
          if (p.caseMode === UPPER) text = text.toUpperCase();
          else if (p.caseMode === LOWER) text = text.toLowerCase();
          out += p.precision > text.length ? text.padStart(p.precision, p.padding || ' ') : text;
          break;
        }
      }
    }
    return out;
  }

  #number(p: Part, sec: number): string {
    const c = this.#civil;
    switch (p.directive) {
      case 'Y': return fmtNumber(p, '0', c.year >= 0 ? 4 : 5, c.year);
      case 'C': return fmtNumber(p, '0', 2, floorDiv(c.year, 100));
      case 'y': return fmtNumber(p, '0', 2, c.year - floorDiv(c.year, 100) * 100);
      case 'm': return fmtNumber(p, '0', 2, c.month);
      case 'd': return fmtNumber(p, '0', 2, c.day);
      case 'e': return fmtNumber(p, ' ', 2, c.day);
      case 'j': return fmtNumber(p, '0', 3, c.yday);
      case 'H': return fmtNumber(p, '0', 2, c.hour);
      case 'k': return fmtNumber(p, ' ', 2, c.hour);
      case 'I': return fmtNumber(p, '0', 2, c.hour % 12 === 0 ? 12 : c.hour % 12);
      case 'l': return fmtNumber(p, ' ', 2, c.hour % 12 === 0 ? 12 : c.hour % 12);
      case 'M': return fmtNumber(p, '0', 2, c.minute);
      case 'S': return fmtNumber(p, '0', 2, c.second);
      case 's': return fmtNumber(p, '0', 1, sec);
      case 'u': return fmtNumber(p, '0', 1, c.wday === 0 ? 7 : c.wday);
      case 'w': return fmtNumber(p, '0', 1, c.wday);
      case 'U': return fmtNumber(p, '0', 2, weekNumber(c, 0));
      case 'W': return fmtNumber(p, '0', 2, weekNumber(c, 1));
      case 'V': return fmtNumber(p, '0', 2, isoWeek(c.year, c.month, c.day, c.wday, c.yday - 1));
      case 'G': { const y = isoYear(c); return fmtNumber(p, '0', y >= 0 ? 4 : 5, y); }
      default: { const y = isoYear(c); return fmtNumber(p, '0', 2, y - floorDiv(y, 100) * 100); } // 'g'
    }
  }

  #text_(p: Part, sec: number, zone: TimeZone): string {
    const c = this.#civil;
    switch (p.directive) {
      case 'a': return DAYS[c.wday].slice(0, 3);
      case 'A': return DAYS[c.wday];
      case 'b': case 'h': return MONTHS[c.month - 1].slice(0, 3);
      case 'B': return MONTHS[c.month - 1];
      case 'p': case 'P': return c.hour < 12 ? 'AM' : 'PM';
      case 'Z': return zone.utc ? 'UTC' : zone.nameAt(sec);
      case 'n': return '\n';
      case 't': return '\t';
      default: return '%';
    }
  }
}

function hasSubsec(parts: Part[]): boolean {
  return parts.some((p) => p.kind === SUBSEC || (p.kind === COMPOSITE && hasSubsec(p.sub)));
}

/** %L/%N: width = digit count (default 3/9), truncated, zero-filled past 9. */
function subsec(p: Part, nsec: number): string {
  const digits = p.precision <= 0 ? (p.directive === 'L' ? 3 : 9) : p.precision;
  const nine = String(Math.floor(nsec)).padStart(9, '0');
  return digits > 9 ? nine + '0'.repeat(digits - 9) : nine.slice(0, digits);
}

/** %z family, ported from strftime.c (MAILHEADER_EXT). */
function zoneOffset(p: Part, offset: number, utcMode: boolean): string {
  let off = utcMode ? 0 : offset;
  let sign = 1;
  if (off < 0 || (utcMode && p.left)) { off = -off; sign = -1; }
  const prec = p.precision;
  let width: number;
  switch (p.colons) {
    case 0: width = prec <= 5 ? 2 : prec - 3; break;
    case 1: width = prec <= 6 ? 2 : prec - 4; break;
    case 2: width = prec <= 9 ? 2 : prec - 7; break;
    default:
      if (off % 3600 === 0) width = prec <= 3 ? 2 : prec - 1;
      else if (off % 60 === 0) width = prec <= 6 ? 2 : prec - 4;
      else width = prec <= 9 ? 2 : prec - 7;
  }
  const hours = Math.floor(off / 3600);
  const signChar = sign * hours < 0 ? '-' : '+';
  let head: string;
  if (p.padding === ' ') head = (signChar + String(hours)).padStart(width + 1, ' ');
  else head = signChar + String(hours).padStart(width, '0');
  if (sign < 0 && off < 3600) {
    // The hour is 0, so printf wrote "+": put the sign back (e.g. -00:30).
    const at = p.padding === ' ' ? head.length - 2 : 0;
    head = head.slice(0, at) + '-' + head.slice(at + 1);
  }
  off %= 3600;
  if (p.colons === 3 && off === 0) return head;
  let out = head + (p.colons >= 1 ? ':' : '') + String(Math.floor(off / 60)).padStart(2, '0');
  off %= 60;
  if (p.colons === 3 && off === 0) return out;
  if (p.colons >= 2) out += ':' + String(off).padStart(2, '0');
  return out;
}

/** A formatter for Fluentd's stdout line time, e.g. `2022-09-21 18:51:04.000000000 +0000`. */
export function stdoutTimeFormatter(): Strftime {
  return new Strftime(STDOUT_TIME_FORMAT);
}
