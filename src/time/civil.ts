// Proleptic Gregorian calendar arithmetic on whole days since 1970-01-01,
// the way Ruby's Time (vtm) and the strptime gem's timegm_noleapsecond see it:
// no leap seconds, years of any sign, day overflow rolls into the next month.

export function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const COMMON_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function monthDays(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : COMMON_DAYS[month - 1];
}

/** Days since 1970-01-01 of year-month-1, plus (day - 1): day 31 of February rolls into March. */
export function daysFromCivil(year: number, month: number, day: number): number {
  // Howard Hinnant's days_from_civil, valid for every integer year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5);
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468 + (day - 1);
}

/** Broken-down wall clock of one instant in one offset: Ruby's `struct vtm`. */
export class Civil {
  year = 1970;
  month = 1; // 1-12
  day = 1; // 1-31
  hour = 0;
  minute = 0;
  second = 0;
  wday = 4; // 0 = Sunday
  yday = 1; // 1-366

  /** Fill from Unix seconds already shifted by the UTC offset. */
  setFromLocalSeconds(local: number): this {
    const days = Math.floor(local / 86400);
    const rest = local - days * 86400;
    this.hour = Math.floor(rest / 3600);
    this.minute = Math.floor((rest % 3600) / 60);
    this.second = rest % 60;
    this.wday = (((days + 4) % 7) + 7) % 7;
    const z = days + 719468;
    const era = Math.floor(z / 146097);
    const doe = z - era * 146097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    this.day = doy - Math.floor((153 * mp + 2) / 5) + 1;
    this.month = mp < 10 ? mp + 3 : mp - 9;
    this.year = yoe + era * 400 + (this.month <= 2 ? 1 : 0);
    this.yday = days - daysFromCivil(this.year, 1, 1) + 1;
    return this;
  }
}
