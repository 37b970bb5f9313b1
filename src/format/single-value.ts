// formatter_single_value: one key's value as text.
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { newlineParam, newlineOf } from './newline.ts';
import { rubyToS } from '../value/ruby-to-s.ts';
import { fieldOf } from '../value/record-field.ts';

export const params = {
  message_key: { type: 'string', default: 'message', desc: 'The key whose value is written.' },
  add_newline: { type: 'bool', default: true, desc: 'End each record with the newline.' },
  ...newlineParam,
} as const satisfies ParamSchema;

export class SingleValueFormatter implements Formatter {
  static readonly type = 'single_value';
  readonly #key: string;
  readonly #newline: string;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#key = p.message_key;
    this.#newline = p.add_newline ? newlineOf(p.newline) : '';
  }

  format(_tag: string, _time: EventTime, record: JsonRecord): string {
    return rubyToS(fieldOf(record, this.#key)) + this.#newline;
  }
}
