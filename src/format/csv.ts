// formatter_csv: the listed fields as one CSV row (Ruby CSV, force_quotes by
// default: every field quoted, `"` doubled; nil is an empty unquoted field).
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { rubyToS } from '../value/ruby-to-s.ts';
import { fieldOf } from '../value/record-field.ts';

export const params = {
  fields: { type: 'array', required: true, desc: 'Record keys to write, in order.' },
  delimiter: { type: 'string', default: ',', desc: 'Column separator; \\t or TAB for a tab.' },
  force_quotes: { type: 'bool', default: true, desc: 'Quote every field.' },
  add_newline: { type: 'bool', default: true, desc: 'End each row with \\n.' },
} as const satisfies ParamSchema;

export class CsvFormatter implements Formatter {
  static readonly type = 'csv';
  readonly #fields: string[];
  readonly #delimiter: string;
  readonly #forceQuotes: boolean;
  readonly #newline: string;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#fields = p.fields.filter((f) => f !== '');
    if (this.#fields.length === 0) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.take('fields')?.pos ?? element.pos,
        'empty value is specified in fields parameter; list record keys, e.g. fields user,event');
    }
    this.#delimiter = p.delimiter === '\\t' || p.delimiter === 'TAB' ? '\t' : p.delimiter;
    this.#forceQuotes = p.force_quotes;
    this.#newline = p.add_newline ? '\n' : '';
  }

  format(_tag: string, _time: EventTime, record: JsonRecord): string {
    let row = '';
    for (let i = 0; i < this.#fields.length; i++) {
      if (i) row += this.#delimiter;
      const value = fieldOf(record, this.#fields[i]);
      if (value === null || value === undefined) continue;
      const text = rubyToS(value);
      const quote = this.#forceQuotes || /[",\r\n]/.test(text) || text.includes(this.#delimiter);
      row += quote ? '"' + text.replaceAll('"', '""') + '"' : text;
    }
    return row + this.#newline;
  }
}
