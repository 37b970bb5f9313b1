// Fluentd parses time_format strings with the strptime gem (nurse/strptime,
// ext/strptime/strptime.c), see docs/compatibility.md §3. Its rules, ported as they are:
// - only %B %b %h %H %M %N %S %Y %d %e %m %n %y %z are known; any other
//   directive (%L, %3N, %j, %p, %a, %T, %Z, %%, …) makes Strptime.new raise, and
//   Fluentd's TimeParser then uses Ruby's Time.strptime instead — that engine is
//   in ruby-strptime.ts and is chosen here the same way;
// - %Y: optional sign, 1–4 digits; %m %d %e %H %M %S %y: 1–2 digits, range checked;
//   %N: 1–9 digits scaled to ns; names match case-insensitively (full, then short);
// - whitespace in the format skips any run of whitespace (also none);
// - literal text must match byte for byte;
// - input left after the format is done is IGNORED ("…:04.849Z" → :04, nsec 0);
// - %z takes `z`/`Z` (UTC, the letter is not consumed) or [+-]H[H][:][M[M]];
// - fields above the first one given come from "now", fields below default to
//   their minimum; a day past the month's end rolls over (02-31 → 03-03).
// Failure is ArgumentError "string doesn't match".

import { EventTime } from './event-time.ts';
import { TimeError } from './errors.ts';
import { daysFromCivil, Civil } from './civil.ts';
import { localToUtc } from './local-time.ts';
import { RubyStrptime, type ParsedTime } from './ruby-strptime.ts';
import type { TimeZone } from './zone.ts';

export type { ParsedTime } from './ruby-strptime.ts';

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December', 'Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct',
  'Nov', 'Dec'].map((name) => name.toLowerCase());

const GEM_DIRECTIVES = 'BHMNSYbdehmnyz';
const SPACE = '_'; // instruction: skip whitespace
const LITERAL = '`'; // instruction: match text

interface Insn {
  op: string;
  text: string;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}


/** strptime_compile: the instruction list, or undefined where the gem raises "invalid format". */
function compileGem(fmt: string): Insn[] | undefined {
  const insns: Insn[] = [];
  let fi = 0;
  while (fi < fmt.length) {
    const c = fmt[fi];
    if (c === '%') {
      const d = fmt[fi + 1];
      if (d === undefined || !GEM_DIRECTIVES.includes(d)) return undefined;
      insns.push({ op: d === 'e' ? 'd' : d === 'h' || d === 'b' ? 'B' : d, text: '' });
      fi += 2;
    } else if (isSpace(c)) {
      insns.push({ op: SPACE, text: '' });
      fi++;
    } else {
      let end = fi;
      while (end < fmt.length && fmt[end] !== '%' && !isSpace(fmt[end])) end++;
      insns.push({ op: LITERAL, text: fmt.slice(fi, end) });
      fi = end;
    }
  }
  return insns;
}

const UNSET = -1;
const ZULU = 'Z';

/**
 * read_digits: at most `width` (≤ 9) digits from `at`, packed as value * 16 + count
 * (count 0 = no digit) so the per-event path creates no closure or object.
 */
function readDigits(str: string, at: number, width: number): number {
  let k = 0;
  let v = 0;
  while (k < width && at + k < str.length) {
    const d = str.charCodeAt(at + k) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    k++;
  }
  return v * 16 + k;
}

/** The MONTH_NAMES entry (full or abbreviated) at si, or MONTH_NAMES.length for none. */
function monthIndex(str: string, si: number): number {
  const rest = str.slice(si, si + 9).toLowerCase();
  let i = 0;
  while (i < MONTH_NAMES.length && !rest.startsWith(MONTH_NAMES[i])) i++;
  return i;
}

/** strptime_exec0 for one string; undefined = "string doesn't match". */
function execGem(insns: Insn[], str: string, zone: TimeZone, nowMs: number, civil: Civil): ParsedTime | undefined {
  let si = 0;
  let year = Number.NaN, mon = UNSET, mday = UNSET, hour = UNSET, min = UNSET, sec = UNSET, nsec = 0;
  let gmtoff: number | typeof ZULU | undefined;
  let n = 0, r = 0;
  for (let pc = 0; pc < insns.length; pc++) {
    const insn = insns[pc];
    switch (insn.op) {
      case LITERAL:
        if (!str.startsWith(insn.text, si)) return undefined;
        si += insn.text.length;
        break;
      case SPACE:
      case 'n':
        while (si < str.length && isSpace(str[si])) si++;
        break;
      case 'B': {
        const i = monthIndex(str, si);
        if (i === MONTH_NAMES.length) return undefined;
        si += MONTH_NAMES[i].length;
        mon = (i % 12) + 1;
        break;
      }
      case 'Y': {
        const c = str[si];
        if (c === '+' || c === '-') si++;
        r = readDigits(str, si, 4);
        if (r % 16 === 0) return undefined;
        si += r % 16;
        n = Math.floor(r / 16);
        year = c === '-' ? -n : n;
        break;
      }
      case 'y':
        r = readDigits(str, si, 2);
        if (r % 16 === 0) return undefined;
        si += r % 16;
        n = Math.floor(r / 16);
        year = n + (n < 69 ? 2000 : 1900);
        break;
      case 'm': case 'd': case 'H': case 'M': case 'S': {
        const op = insn.op;
        r = readDigits(str, si, 2);
        if (r % 16 === 0) return undefined;
        si += r % 16;
        n = Math.floor(r / 16);
        if (n < (op === 'm' || op === 'd' ? 1 : 0) || n > (op === 'm' ? 12 : op === 'd' ? 31 : op === 'H' ? 23 : op === 'M' ? 59 : 60)) return undefined;
        if (op === 'm') mon = n;
        else if (op === 'd') mday = n;
        else if (op === 'H') hour = n;
        else if (op === 'M') min = n;
        else sec = n;
        break;
      }
      case 'N':
        r = readDigits(str, si, 9);
        if (r % 16 === 0) return undefined;
        si += r % 16;
        nsec = Math.floor(r / 16) * 10 ** (9 - (r % 16));
        break;
      case 'z': {
        const c = str[si];
        if (c === 'z' || c === 'Z') { gmtoff = ZULU; break; }
        if (c === '+' || c === '-') si++;
        r = readDigits(str, si, 2);
        if (r % 16 === 0) return undefined;
        si += r % 16;
        n = Math.floor(r / 16);
        let minutes = n * 60;
        if (str[si] === ':') si++;
        r = readDigits(str, si, 2);
        si += r % 16;
        minutes += Math.floor(r / 16);
        gmtoff = (c === '-' ? -minutes : minutes) * 60;
        break;
      }
    }
  }
  return buildTime(year, mon, mday, hour, min, sec, nsec, gmtoff, zone, nowMs, civil);
}

/** Instruction `_5f` of strptime_exec0: the fields read (UNSET / NaN year when absent) → the time. */
function buildTime(year: number, mon: number, mday: number, hour: number, min: number, sec: number, nsec: number,
  gmtoff: number | typeof ZULU | undefined, zone: TimeZone, nowMs: number, civil: Civil): ParsedTime {
  const utcOffset = gmtoff === ZULU ? 0 : gmtoff;
  let y: number, mo: number, d: number, h: number, mi: number, s: number;
  if (!Number.isNaN(year)) {
    y = year;
    mo = mon === UNSET ? 1 : mon;
    d = mday === UNSET ? 1 : mday;
    h = hour === UNSET ? 0 : hour;
    mi = min === UNSET ? 0 : min;
    s = sec === UNSET ? 0 : sec;
  } else {
    // No year: start from now (in the parsed offset, else the local zone);
    // the goto chain replaces the first field given and zeroes those below it.
    const nowSec = Math.floor(nowMs / 1000);
    civil.setFromLocalSeconds(nowSec + (utcOffset ?? zone.offsetAt(nowSec)));
    y = civil.year; mo = civil.month; d = civil.day; h = civil.hour; mi = civil.minute; s = civil.second;
    const level = mon !== UNSET ? 1 : mday !== UNSET ? 2 : hour !== UNSET ? 3 : min !== UNSET ? 4 : 5;
    if (level <= 1) mo = mon;
    if (level <= 2) d = mday === UNSET ? 1 : mday;
    if (level <= 3) h = hour === UNSET ? 0 : hour;
    if (level <= 4) mi = min === UNSET ? 0 : min;
    if (level <= 4 || sec !== UNSET) s = sec === UNSET ? 0 : sec;
  }
  const wall = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
  if (utcOffset !== undefined) return { sec: wall - utcOffset, nsec, utcOffset };
  const t = localToUtc(wall, zone);
  return { sec: t, nsec, utcOffset: zone.offsetAt(t) };
}

export class Strptime {
  readonly source: string;
  readonly #gem: Insn[] | undefined;
  readonly #ruby: RubyStrptime | undefined;
  readonly #civil = new Civil();

  constructor(format: string) {
    this.source = format;
    this.#gem = compileGem(format);
    // Fluentd: `Strptime.new(format) rescue nil` → Time.strptime(v, format).
    this.#ruby = this.#gem === undefined ? new RubyStrptime(format) : undefined;
  }

  /** True when the strptime gem accepts the format; false when Ruby's Time.strptime is used. */
  get usesGem(): boolean {
    return this.#gem !== undefined;
  }

  /** Parse; `zone` is what Ruby calls the local zone (the process TZ). */
  exec(text: string, zone: TimeZone, nowMs = Date.now()): EventTime {
    const t = this.execDetailed(text, zone, nowMs);
    return new EventTime(t.sec, t.nsec);
  }

  /** Parse, also returning the Time's utc_offset (Fluentd's TimeParser needs it for `timezone`). */
  execDetailed(text: string, zone: TimeZone, nowMs = Date.now()): ParsedTime {
    if (this.#ruby !== undefined) return this.#ruby.exec(text, zone, nowMs);
    const t = execGem(this.#gem as Insn[], text, zone, nowMs, this.#civil);
    if (t === undefined) throw new TimeError('AR_TIME_PARSE', "string doesn't match");
    return t;
  }
}
