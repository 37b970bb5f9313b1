// formatter_json (docs/compatibility.md §7): Oj.dump(record) in compat mode, one line
// per event; time and tag are not included.

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { ojDump } from '../value/oj-json.ts';
import { newlineParam, newlineOf } from './newline.ts';

export const params = {
  json_parser: { type: 'enum', enum: ['oj', 'yajl', 'json'], default: 'oj', desc: 'Accepted for compatibility; one encoder writes Oj compat output.' },
  add_newline: { type: 'bool', default: true, desc: 'End each record with the newline.' },
  ...newlineParam,
} as const satisfies ParamSchema;

export class JsonFormatter implements Formatter {
  static readonly type = 'json';
  readonly #newline: string;
  /** Oj output never contains a raw newline (escaped as \n), so each record is one line. */
  readonly newlineRecords: boolean;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#newline = p.add_newline ? newlineOf(p.newline) : '';
    this.newlineRecords = p.add_newline;
  }

  format(_tag: string, _time: EventTime, record: JsonRecord): string {
    return ojDump(record) + this.#newline;
  }
}
