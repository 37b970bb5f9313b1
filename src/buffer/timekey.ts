// Timekey arithmetic (output.rb calculate_timekey, docs/compatibility.md §8):
// timekey_use_utc → `t - t % timekey`; otherwise the window is aligned to
// timekey_zone: `t - (t + offset) % timekey`, the zone parsed by
// Fluent::Timezone's rules (src/time/zone.ts); the result is cached per
// second (events of one request share their second).

import { parseZone, type TimeZone } from '../time/zone.ts';

/** `Time.now.strftime('%z')` of this process, Fluentd's timekey_zone default. */
export function localZoneName(): string {
  const off = -new Date().getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}${String(a % 60).padStart(2, '0')}`;
}

export class TimekeyCalculator {
  readonly timekey: number;
  readonly zone: TimeZone;
  readonly #utc: boolean;
  #lastSec = Number.NaN;
  #lastKey = 0;

  constructor(timekey: number, useUtc: boolean, zone: string) {
    this.timekey = timekey;
    this.#utc = useUtc;
    this.zone = parseZone(useUtc ? '+0000' : zone);
  }

  of(sec: number): number {
    if (sec === this.#lastSec) return this.#lastKey;
    const tk = this.timekey;
    const key = this.#utc ? sec - mod(sec, tk) : sec - mod(sec + this.zone.offsetAt(sec), tk);
    this.#lastSec = sec;
    this.#lastKey = Math.trunc(key);
    return this.#lastKey;
  }
}

// Ruby's % takes the divisor's sign; timekeys are positive, so results are ≥ 0
// even for times before 1970.
function mod(a: number, b: number): number {
  const r = a % b;
  return r < 0 ? r + b : r;
}
