// formatter_ltsv: label:value pairs joined by TAB, values as Ruby to_s with the
// delimiter replaced.
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { newlineParam, newlineOf } from './newline.ts';
import { rubyToS } from '../value/ruby-to-s.ts';
import { entriesOf } from '../value/record-field.ts';

export const params = {
  delimiter: { type: 'string', default: '\t', desc: 'Between pairs.' },
  label_delimiter: { type: 'string', default: ':', desc: 'Between label and value.' },
  replacement: { type: 'string', default: ' ', desc: 'Replaces the delimiter inside values.' },
  add_newline: { type: 'bool', default: true, desc: 'End each record with the newline.' },
  ...newlineParam,
} as const satisfies ParamSchema;

export class LtsvFormatter implements Formatter {
  static readonly type = 'ltsv';
  readonly #p;
  readonly #newline: string;

  constructor(element: ConfigElement, ctx: PluginContext) {
    this.#p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#newline = this.#p.add_newline ? newlineOf(this.#p.newline) : '';
  }

  format(_tag: string, _time: EventTime, record: JsonRecord): string {
    const { delimiter, label_delimiter: labelDelimiter, replacement } = this.#p;
    let out = '';
    for (const [label, value] of entriesOf(record)) {
      if (out.length) out += delimiter;
      out += label + labelDelimiter + rubyToS(value).replaceAll(delimiter, replacement);
    }
    return out + this.#newline;
  }
}
