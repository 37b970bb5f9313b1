// Fluentd's TimeMixin::Formatter (lib/fluent/time.rb TimeFormatter): how a
// formatter prints the event time. With no time_format it is Ruby's
// Time#iso8601 (`2022-09-21T18:51:04+00:00`, or `…Z` when utc).

import type { ParamSchema, ParamsOf } from '../params/param-schema.ts';
import { Strftime } from '../time/strftime.ts';
import { UTC, localZone, parseZone, type TimeZone } from '../time/zone.ts';
import type { EventTime } from '../time/event-time.ts';

export const timeFormatParams = {
  time_type: { type: 'enum', enum: ['string', 'float', 'unixtime'], default: 'string', desc: 'How the event time is printed.' },
  time_format: { type: 'string', desc: 'strftime format; unset = ISO 8601 (Time#iso8601).' },
  localtime: { type: 'bool', default: true, desc: 'Print in the process time zone (TZ).' },
  utc: { type: 'bool', default: false, desc: 'Print in UTC (wins over localtime).' },
  timezone: { type: 'string', desc: 'Zone to print in: +09:00, +0900 or an IANA name.' },
} as const satisfies ParamSchema;

export type TimeFormatParams = ParamsOf<typeof timeFormatParams>;

export class TimeFormatter {
  readonly #strftime: Strftime;
  readonly #zone: TimeZone;
  readonly #type: 'string' | 'float' | 'unixtime';
  #lastSec = Number.NaN;
  #lastText = '';
  readonly #cacheable: boolean;

  constructor(p: TimeFormatParams) {
    this.#type = p.time_type;
    this.#zone = p.timezone !== undefined ? parseZone(p.timezone) : p.utc || !p.localtime ? UTC : localZone();
    const iso = this.#zone === UTC ? '%Y-%m-%dT%H:%M:%SZ' : '%Y-%m-%dT%H:%M:%S%:z';
    const fmt = p.time_format ?? iso;
    this.#strftime = new Strftime(fmt);
    // Sub-second directives change within one second; everything else can
    // reuse the previous result (pino's time-fragment trick).
    this.#cacheable = !/%[-_0^#]?\d*[LN]/.test(fmt);
  }

  format(time: EventTime): string {
    if (this.#type === 'unixtime') return String(time.sec);
    if (this.#type === 'float') return `${time.sec}.${String(time.nsec).padStart(9, '0')}`;
    if (this.#cacheable && time.sec === this.#lastSec) return this.#lastText;
    const text = this.#strftime.format(time.sec, time.nsec, this.#zone);
    if (this.#cacheable) {
      this.#lastSec = time.sec;
      this.#lastText = text;
    }
    return text;
  }
}
