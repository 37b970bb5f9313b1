// formatter_stdout (docs/compatibility.md §6, O4): `<time %Y-%m-%d %H:%M:%S.%N %z> <tag>: <json>\n`,
// the time in the process zone. The inner formatter is `output_type` (json).

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { Strftime } from '../time/strftime.ts';
import { localZone, parseZone, UTC, type TimeZone } from '../time/zone.ts';
import { timeFormatParams } from './time-format.ts';

export const params = {
  output_type: { type: 'string', default: 'json', desc: 'Formatter for the record part (json, ltsv, …).' },
  ...timeFormatParams,
} as const satisfies ParamSchema;

export class StdoutFormatter implements Formatter {
  static readonly type = 'stdout';
  readonly #time: Strftime;
  readonly #zone: TimeZone;
  readonly #inner: Formatter;

  constructor(element: ConfigElement, ctx: PluginContext, createInner: (type: string) => Formatter) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#time = new Strftime(p.time_format ?? '%Y-%m-%d %H:%M:%S.%N %z');
    // Fluentd prints Time.at(time).localtime: the process zone, unless told otherwise.
    this.#zone = p.timezone !== undefined ? parseZone(p.timezone) : p.utc ? UTC : localZone();
    this.#inner = createInner(p.output_type);
  }

  format(tag: string, time: EventTime, record: JsonRecord): string {
    let body = this.#inner.format(tag, time, record);
    if (body.endsWith('\n')) body = body.slice(0, body.endsWith('\r\n') ? -2 : -1);
    return this.#time.format(time.sec, time.nsec, this.#zone) + ' ' + tag + ': ' + body + '\n';
  }
}
