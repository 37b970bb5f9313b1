// parser_json (docs/compatibility.md §3): one JSON body → events. An object is one event,
// an array one event per object element; `time_key` is removed from the record
// (keep_time_key false) and parsed with the TimeParser; a time that does not
// parse fails the whole body (in_http answers 400 with this message).

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Parser, PluginContext } from '../plugin-api.ts';
import { EventTime } from '../time/event-time.ts';
import { TimeParser } from '../time/time-parser.ts';
import { BALANCE_CHECK_MIN, parseBalancedJson } from './json-text.ts';
import { unbalancedAt } from './json-balance.ts';
import { OrderedObject, type JsonObject, type JsonRecord, type JsonValue } from '../value/json-value.ts';
import { ParserError } from './errors.ts';

export const params = {
  time_key: { type: 'string', default: 'time', desc: 'Record key holding the event time; removed unless keep_time_key.' },
  keep_time_key: { type: 'bool', default: false, desc: 'Leave time_key in the record.' },
  time_type: { type: 'enum', enum: ['float', 'unixtime', 'string', 'mixed'], default: 'float', desc: 'How time_key is read; string when time_format is set.' },
  time_format: { type: 'string', desc: 'strptime format of time_key (Ruby/strptime-gem semantics).' },
  time_format_fallbacks: { type: 'array', default: [], desc: 'Formats tried in order when time_type is mixed.' },
  localtime: { type: 'bool', default: true, desc: 'Read times without a zone in the process zone (TZ).' },
  utc: { type: 'bool', default: false, desc: 'Read times without a zone as UTC.' },
  timezone: { type: 'string', desc: 'Zone for times without one: +09:00, +0900 or an IANA name.' },
  estimate_current_event: { type: 'bool', default: true, desc: 'Use the current time when time_key is absent.' },
  null_empty_string: { type: 'bool', default: false, desc: 'Turn "" values into null.' },
  null_value_pattern: { type: 'regexp', desc: 'String values matching this become null.' },
  json_parser: { type: 'enum', enum: ['oj', 'yajl', 'json'], default: 'oj', desc: 'Accepted for compatibility; one exact JSON decoder (Oj semantics) serves all.' },
  stream_buffer_size: { type: 'integer', default: 8192, desc: 'Accepted for compatibility; unused.' },
} as const satisfies ParamSchema;

export class JsonParser implements Parser {
  static readonly type = 'json';
  readonly timeKey: string;
  readonly #keepTimeKey: boolean;
  readonly #estimateCurrentEvent: boolean;
  readonly #timeParser: TimeParser;
  readonly #nullEmpty: boolean;
  readonly #nullPattern: RegExp | undefined;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.timeKey = p.time_key;
    this.#keepTimeKey = p.keep_time_key;
    this.#estimateCurrentEvent = p.estimate_current_event;
    this.#timeParser = new TimeParser({
      // Fluentd: a time_format forces time_type string.
      timeType: p.time_format !== undefined && p.time_type === 'float' ? 'string' : p.time_type,
      timeFormat: p.time_format,
      localtime: p.localtime,
      utc: p.utc,
      timezone: p.timezone,
      timeFormatFallbacks: p.time_format_fallbacks,
    });
    this.#nullEmpty = p.null_empty_string;
    this.#nullPattern = p.null_value_pattern;
  }

  refuses(body: Uint8Array): boolean {
    return body.length >= BALANCE_CHECK_MIN && unbalancedAt(body) !== -1;
  }

  parse(text: string, onEvent: (time: EventTime | undefined, record: JsonRecord) => void): void {
    // refuses() checked the body's brackets (parseWithParser asks it first): not scanned twice.
    const value = parseBalancedJson(text); // throws JsonSyntaxError
    if (Array.isArray(value)) {
      // Times are parsed before anything is handed on: one bad time rejects the
      // whole body, as Fluentd's exception aborts the request mid-stream.
      // Non-object elements are skipped (Fluentd 1.17+ yields nil for them).
      const records: JsonRecord[] = [];
      const times: (EventTime | undefined)[] = [];
      for (const element of value) {
        if (!isRecord(element)) continue;
        const parsed = this.#parseTime(element);
        times.push(parsed.time);
        records.push(this.#convert(parsed.record));
      }
      for (let i = 0; i < records.length; i++) onEvent(times[i], records[i]);
      return;
    }
    if (!isRecord(value)) throw new ParserError('AR_PARSE_NOT_OBJECT', 'not a JSON object');
    const parsed = this.#parseTime(value);
    onEvent(parsed.time, this.#convert(parsed.record));
  }

  /** Parses time_key; returns the record without it (unless keep_time_key). */
  #parseTime(record: JsonRecord): { time: EventTime | undefined; record: JsonRecord } {
    const key = this.timeKey;
    let raw: JsonValue | undefined;
    let present: boolean;
    if (record instanceof OrderedObject) {
      present = record.has(key);
      raw = record.get(key);
      if (present && !this.#keepTimeKey) record.delete(key);
    } else {
      present = Object.hasOwn(record, key);
      raw = record[key];
      if (present && !this.#keepTimeKey) record = withoutKey(record, key);
    }
    if (present) {
      try {
        return { time: this.#timeParser.parse(raw), record };
      } catch (err) {
        throw new ParserError('AR_PARSE_TIME', (err as Error).message, { cause: err });
      }
    }
    return { time: this.#estimateCurrentEvent ? EventTime.now() : undefined, record };
  }

  #convert(record: JsonRecord): JsonRecord {
    if (!this.#nullEmpty && !this.#nullPattern) return record;
    const isNull = (v: JsonValue) =>
      typeof v === 'string' && ((this.#nullEmpty && v === '') || (this.#nullPattern?.test(v) ?? false));
    if (record instanceof OrderedObject) {
      for (const [k, v] of record) if (isNull(v)) record.set(k, null);
    } else {
      for (const k of Object.keys(record)) if (isNull(record[k])) record[k] = null;
    }
    return record;
  }
}

/**
 * A copy without `key`. `delete` would switch V8 to dictionary mode and make
 * every later copy of the record (record_transformer) ~40x slower.
 */
function withoutKey(record: JsonObject, key: string): JsonObject {
  const out: JsonObject = {};
  for (const k in record) {
    if (k !== key && Object.hasOwn(record, k)) {
      if (k === '__proto__') Object.defineProperty(out, k, { value: record[k], writable: true, enumerable: true, configurable: true });
      else out[k] = record[k];
    }
  }
  return out;
}

function isRecord(v: JsonValue): v is JsonRecord {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && (v.constructor === Object || v instanceof OrderedObject);
}
