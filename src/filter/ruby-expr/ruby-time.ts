// The Ruby `Time` that record_transformer hands to `${...}` as `time`
// (docs/compatibility.md §4: `Time.at(event_time)`, local zone, full ns precision).
// Ruby keeps a "UTC mode" flag separate from the zone: `Time.at(0).to_s` is
// `1970-01-01 00:00:00 +0000` under TZ=UTC, but `Time.at(0).utc.to_s` is
// `1970-01-01 00:00:00 UTC`, so both are carried here.

import type { TimeZone } from '../../time/zone.ts';
import { UTC } from '../../time/zone.ts';

export interface CivilTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  min: number;
  sec: number;
  wday: number;
  yday: number;
}

export class RubyTime {
  sec: number;
  nsec: number;
  /** The local zone this Time converts to when not in UTC mode. */
  zone: TimeZone;
  /** Ruby's UTC mode (`Time#utc?`). */
  utc: boolean;

  constructor(sec: number, nsec: number, zone: TimeZone, utc: boolean) {
    this.sec = sec;
    this.nsec = nsec;
    this.zone = zone;
    this.utc = utc;
  }

  /** `Time.at(Float)`: the double's exact value, truncated to ns as Ruby does. */
  static fromFloat(f: number, zone: TimeZone): RubyTime {
    const sec = Math.floor(f);
    let nsec = Math.floor((f - sec) * 1e9);
    if (nsec >= 1e9) nsec = 999_999_999;
    return new RubyTime(sec, nsec, zone, false);
  }

  /** UTC offset in seconds (`Time#utc_offset`). */
  offset(): number {
    return this.utc ? 0 : this.zone.offsetAt(this.sec);
  }

  /** The zone Strftime should render with (`%z`, `%Z`). */
  renderZone(): TimeZone {
    return this.utc ? UTC : this.zone;
  }

  /** `Time#zone`: "UTC" in UTC mode, else the local abbreviation. */
  zoneName(): string {
    return this.utc ? 'UTC' : this.zone.nameAt(this.sec);
  }

  civil(): CivilTime {
    const local = this.sec + this.offset();
    const days = Math.floor(local / 86400);
    const rem = local - days * 86400;
    const { year, month, day } = civilFromDays(days);
    return {
      year,
      month,
      day,
      hour: Math.floor(rem / 3600),
      min: Math.floor((rem % 3600) / 60),
      sec: rem % 60,
      wday: (((days + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
      yday: days - daysFromCivil(year, 1, 1) + 1,
    };
  }

  /** `Time#to_s`: `2022-09-21 18:51:04 +0000`, or `... UTC` in UTC mode. */
  toS(): string {
    const c = this.civil();
    const head = `${year4(c.year)}-${pad2(c.month)}-${pad2(c.day)} ${pad2(c.hour)}:${pad2(c.min)}:${pad2(c.sec)}`;
    return this.utc ? `${head} UTC` : `${head} ${offsetText(this.offset(), '')}`;
  }

  /** `Time#xmlschema(n)` / `#iso8601(n)`: `Z` in UTC mode, else `+HH:MM`. */
  xmlschema(digits: number): string {
    const c = this.civil();
    let out = `${year4(c.year)}-${pad2(c.month)}-${pad2(c.day)}T${pad2(c.hour)}:${pad2(c.min)}:${pad2(c.sec)}`;
    if (digits > 0) {
      const ns = String(this.nsec).padStart(9, '0');
      out += '.' + (digits <= 9 ? ns.slice(0, digits) : ns.padEnd(digits, '0'));
    }
    return out + (this.utc ? 'Z' : offsetText(this.offset(), ':'));
  }
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

function year4(y: number): string {
  return y < 0 ? '-' + String(-y).padStart(4, '0') : String(y).padStart(4, '0');
}

function offsetText(offset: number, sep: string): string {
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${sign}${pad2(Math.floor(abs / 3600))}${sep}${pad2(Math.floor((abs % 3600) / 60))}`;
}

// Howard Hinnant's days↔civil algorithms (proleptic Gregorian, as Ruby uses).
function civilFromDays(z: number): { year: number; month: number; day: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
