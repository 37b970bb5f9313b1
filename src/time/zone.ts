// Time zones as Fluentd sees them (docs/compatibility.md §3 parser time, §6 stdout time,
// lib/fluent/timezone.rb). Three kinds exist in Ruby and all three matter:
// - UTC mode (`Time#utc`): %Z prints "UTC", %-z prints "-0000" — the `UTC` singleton;
// - the process zone (TZ env var, `Time.at(x)` / `Time#localtime`): %Z prints the
//   tzdata abbreviation ("UTC", "JST", "CEST") — `localZone()`;
// - an explicit `timezone` param: Fluentd turns it into a fixed offset with
//   `Time#localtime(offset)`, so %Z prints "" — `parseZone()`.

import { readFileSync } from 'node:fs';
import { TimeError } from './errors.ts';

export interface TimeZone {
  /** Seconds east of UTC at that instant (Unix seconds). */
  offsetAt(sec: number): number;
  /** What Ruby's %Z prints for a Time at that instant in this zone. */
  nameAt(sec: number): string;
  /** True only for Ruby's UTC mode (`Time#utc`), which changes %Z and %-z. */
  readonly utc?: boolean;
}

class FixedZone implements TimeZone {
  readonly offset: number;
  readonly name: string;
  readonly utc: boolean;
  constructor(offset: number, name: string, utc: boolean) {
    this.offset = offset;
    this.name = name;
    this.utc = utc;
  }
  offsetAt(_sec: number): number {
    return this.offset;
  }
  nameAt(_sec: number): string {
    return this.name;
  }
}

/** Ruby's UTC mode. Compare by identity: `zone === UTC`. */
export const UTC: TimeZone = new FixedZone(0, 'UTC', true);

// Offsets change only at transitions; one lookup answers a whole 15-minute
// bucket unless a transition falls inside it (historic zones moved at :30/:45).
const BUCKET = 900;
const BUCKET_CACHE_LIMIT = 65536;

/** An IANA zone resolved through ICU (Intl), cached per 15-minute bucket. */
class IanaZone implements TimeZone {
  readonly id: string;
  readonly #wallClock: Intl.DateTimeFormat;
  readonly #abbreviations: Map<number, string> | undefined;
  #bucket = Number.NaN;
  #bucketOffset = 0;
  readonly #buckets = new Map<number, number>();

  constructor(id: string, abbreviations: Map<number, string> | undefined) {
    this.id = id;
    this.#abbreviations = abbreviations;
    this.#wallClock = new Intl.DateTimeFormat('en-US', {
      timeZone: id, hourCycle: 'h23', era: 'short',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  }

  offsetAt(sec: number): number {
    const whole = Math.floor(sec);
    const bucket = Math.floor(whole / BUCKET);
    if (bucket === this.#bucket) return this.#bucketOffset;
    // Events of a backfill jump between days: keep every bucket seen (bounded).
    const known = this.#buckets.get(bucket);
    if (known !== undefined) {
      this.#bucket = bucket;
      this.#bucketOffset = known;
      return known;
    }
    const start = bucket * BUCKET;
    const first = this.#lookup(start);
    if (first === this.#lookup(start + BUCKET - 1)) {
      if (this.#buckets.size >= BUCKET_CACHE_LIMIT) this.#buckets.clear();
      this.#buckets.set(bucket, first);
      this.#bucket = bucket;
      this.#bucketOffset = first;
      return first;
    }
    return this.#lookup(whole);
  }

  nameAt(sec: number): string {
    if (this.#abbreviations === undefined) return '';
    const offset = this.offsetAt(sec);
    return this.#abbreviations.get(offset) ?? numericAbbreviation(offset);
  }

  #lookup(sec: number): number {
    let year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0, bc = false;
    for (const part of this.#wallClock.formatToParts(sec * 1000)) {
      switch (part.type) {
        case 'year': year = Number(part.value); break;
        case 'month': month = Number(part.value); break;
        case 'day': day = Number(part.value); break;
        case 'hour': hour = Number(part.value); break;
        case 'minute': minute = Number(part.value); break;
        case 'second': second = Number(part.value); break;
        case 'era': bc = part.value === 'BC' || part.value === 'B'; break;
      }
    }
    const d = new Date(0);
    d.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
    d.setUTCHours(hour, minute, second, 0);
    return d.getTime() / 1000 - sec;
  }
}

/** tzdata style name for a zone without letters ("+04", "-0330"), as glibc prints. */
function numericAbbreviation(offset: number): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 3600)).padStart(2, '0');
  const mm = Math.floor((abs % 3600) / 60);
  return mm === 0 ? sign + hh : sign + hh + String(mm).padStart(2, '0');
}

/**
 * Abbreviations of a zone by UTC offset, read from its TZif file — ICU has no
 * "JST"/"CEST" names, glibc (and so Ruby's %Z) takes them from this file.
 * The type used by the latest transition wins for an offset.
 */
function readAbbreviations(id: string): Map<number, string> | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(id === 'UTC' ? '/usr/share/zoneinfo/UTC' : `/usr/share/zoneinfo/${id}`);
  } catch {
    return id === 'UTC' ? new Map([[0, 'UTC']]) : undefined;
  }
  if (buf.length < 44 || buf.toString('latin1', 0, 4) !== 'TZif') return undefined;
  let at = 0;
  let timeSize = 4;
  const counts = (): number[] => [20, 24, 28, 32, 36, 40].map((o) => buf.readUInt32BE(at + o));
  let [isut, isstd, leap, timecnt, typecnt, charcnt] = counts();
  if (buf[4] !== 0) {
    // Version 2+: skip the 32-bit block, use the 64-bit one.
    at += 44 + timecnt * 5 + typecnt * 6 + charcnt + leap * 8 + isstd + isut;
    timeSize = 8;
    [isut, isstd, leap, timecnt, typecnt, charcnt] = counts();
  }
  const idxAt = at + 44 + timecnt * timeSize;
  const typesAt = idxAt + timecnt;
  const charsAt = typesAt + typecnt * 6;
  if (charsAt + charcnt > buf.length) return undefined;
  const typeName = (t: number): [number, string] => {
    const utoff = buf.readInt32BE(typesAt + t * 6);
    const start = charsAt + buf[typesAt + t * 6 + 5];
    const end = buf.indexOf(0, start);
    return [utoff, buf.toString('latin1', start, end < 0 ? charsAt + charcnt : end)];
  };
  const names = new Map<number, string>();
  for (let t = 0; t < typecnt; t++) names.set(...typeName(t));
  for (let i = 0; i < timecnt; i++) names.set(...typeName(buf[idxAt + i]));
  return names;
}

/** The process zone (TZ env var), with tzdata abbreviations for %Z. Call at configure time. */
export function localZone(): TimeZone {
  const id = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  const abbreviations = readAbbreviations(id) ?? new Map<number, string>();
  // Zones without transitions (UTC, the usual container zone; Etc/GMT±N) need
  // no per-instant lookup: measured 5% of the receiver's CPU (bench/receiver).
  if (FIXED_ZONE_ID.test(id)) {
    const offset = new IanaZone(id, abbreviations).offsetAt(0);
    return new FixedZone(offset, abbreviations.get(offset) ?? numericAbbreviation(offset), false);
  }
  return new IanaZone(id, abbreviations);
}

const FIXED_ZONE_ID = /^(?:Etc\/)?(?:UTC|UCT|GMT|Zulu|Universal|Greenwich|GMT[+-]\d{1,2}|GMT0)$/;

// lib/fluent/timezone.rb: [+-]HH:MM, [+-]HHMM, [+-]HH, Region/Zone, Region/Zone/Zone.
const NUMERIC_PATTERN = /^[+-]\d\d(?::?\d\d)?$/;
const NAME_PATTERN = /^[^/]+\/[^/]+(?:\/[^/]+)?$/;

/** Fluent::Timezone rules; abbreviations such as "UTC" or "JST" are refused, as Fluentd does. */
export function parseZone(spec: string): TimeZone {
  if (NUMERIC_PATTERN.test(spec)) {
    // Time.zone_offset: no range check on the digits.
    const sign = spec[0] === '-' ? -1 : 1;
    const digits = spec.slice(1).replace(':', '');
    const minutes = digits.length === 4 ? Number(digits.slice(2)) : 0;
    return new FixedZone(sign * (Number(digits.slice(0, 2)) * 3600 + minutes * 60), '', false);
  }
  if (NAME_PATTERN.test(spec)) {
    let resolved: string | undefined;
    try {
      resolved = new Intl.DateTimeFormat('en-US', { timeZone: spec }).resolvedOptions().timeZone;
    } catch {
      resolved = undefined;
    }
    // ICU matches names case-insensitively; tzinfo (and the zoneinfo files) do not.
    const caseOnly = resolved !== undefined && resolved !== spec && resolved.toLowerCase() === spec.toLowerCase();
    if (resolved !== undefined && !caseOnly) return new IanaZone(spec, undefined);
  }
  throw new TimeError('AR_TIME_BAD_ZONE',
    `Unsupported timezone '${spec}'; write an offset (+09:00, +0900, -09) or a Region/Zone name ` +
    `(Asia/Tokyo, America/Argentina/Buenos_Aires, Etc/UTC) — abbreviations such as UTC or JST are not accepted`);
}
