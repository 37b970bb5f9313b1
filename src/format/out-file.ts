// formatter_out_file: `<time>\t<tag>\t<json>\n` (out_file's default format).
// Fluentd writes the JSON with JSON.generate; for every value auditrelay
// carries that is byte-identical to Oj compat output except `-0.0`.

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { ojDump } from '../value/oj-json.ts';
import { newlineParam, newlineOf } from './newline.ts';
import { TimeFormatter, timeFormatParams } from './time-format.ts';

export const params = {
  output_time: { type: 'bool', default: true, desc: 'Start the line with the event time.' },
  output_tag: { type: 'bool', default: true, desc: 'Print the tag after the time.' },
  delimiter: { type: 'string', default: '\t', desc: 'SPACE, COMMA, or anything else for TAB (as Fluentd maps it).' },
  ...timeFormatParams,
  ...newlineParam,
} as const satisfies ParamSchema;

export class OutFileFormatter implements Formatter {
  static readonly type = 'out_file';
  readonly #time: TimeFormatter | undefined;
  readonly #delimiter: string;
  readonly #outputTag: boolean;
  readonly #newline: string;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#delimiter = /SPACE/i.test(p.delimiter) ? ' ' : /COMMA/i.test(p.delimiter) ? ',' : '\t';
    this.#time = p.output_time ? new TimeFormatter(p) : undefined;
    this.#outputTag = p.output_tag;
    this.#newline = newlineOf(p.newline);
  }

  format(tag: string, time: EventTime, record: JsonRecord): string {
    let line = '';
    if (this.#time) line = this.#time.format(time) + this.#delimiter;
    if (this.#outputTag) line += tag + this.#delimiter;
    return line + ojDump(record) + this.#newline;
  }
}
