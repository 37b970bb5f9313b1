// Body → records, in_http's two modes (docs/compatibility.md §1 "Body routing"):
// - a <parse> section (the seed: json): the raw body always goes to that
//   parser, whatever the Content-Type;
// - no <parse>: Content-Type picks form (`json=`/`msgpack=`/`ndjson=`), JSON,
//   csp-report, msgpack or ndjson; the record's `time` is then read with
//   Time.at(value) semantics (convert_time_field).

import { decodeMulti } from '@msgpack/msgpack';
import type { Parser, PluginContext } from '../plugin-api.ts';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import { createParser, parserTypes } from '../parser/registry.ts';
import { EventTime } from '../time/event-time.ts';
import { parseJson } from '../parser/json-text.ts';
import { JsonFloat, OrderedObject, type JsonRecord, type JsonValue } from '../value/json-value.ts';
import { InputError } from './errors.ts';
import { LOG_TEXT_LIMIT } from '../log.ts';
import { parseQuery } from './http-request.ts';

export interface ParsedBody {
  readonly records: JsonRecord[];
  /** Per record: the parser's time, or undefined (then query `time` or now applies). */
  readonly times: (EventTime | undefined)[];
}

export interface BodyInput {
  readonly body: Buffer;
  readonly contentType: string;
  /** Query params; default mode merges form params into it. */
  readonly params: Map<string, string>;
}

/** The source's `<parse>` parser; undefined for none or `@type in_http` (the built-in rules). */
export function bodyParser(element: ConfigElement, ctx: PluginContext): Parser | undefined {
  const parse = element.sections('parse')[0];
  const parseType = parse?.take('@type')?.value ?? 'in_http';
  if (!parse || parseType === 'in_http') return undefined;
  const parser = createParser(parseType, parse, ctx);
  if (!parser) throw new ConfigError('AR_CONF_UNKNOWN_TYPE', parse.pos, `unknown parser type '${parseType}'; supported: ${parserTypes.join(', ')}`);
  return parser;
}

/** `<parse>` mode: the configured parser gets the whole body. */
export function parseWithParser(parser: Parser, input: BodyInput): ParsedBody {
  const records: JsonRecord[] = [];
  const times: (EventTime | undefined)[] = [];
  // A long body refused for sure never becomes a string (issue 12.8: 200 kB strings per request grew the heap).
  if (parser.refuses?.(input.body) === true) throw notJson(input.body);
  const text = input.body.toString('utf8');
  try {
    parser.parse(text, (time, record) => {
      times.push(time);
      records.push(record);
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'AR_PARSE_TIME') throw err;
    if (code === 'AR_PARSE_NOT_OBJECT' && text.trim() !== 'null') throw notObject(input.body, err);
    throw notJson(input.body, err);
  }
  return { records, times };
}

/** Fluentd 1.16's text; the body is echoed as received (bytes, unescaped). */
function notJson(body: Buffer, cause?: unknown): InputError {
  const prefix = 'Received event is not json: ';
  if (body.length <= LOG_TEXT_LIMIT) return new InputError('AR_HTTP_NOT_JSON', `${prefix}${body.toString('latin1')}`, { cause });
  // The answer echoes every byte; the message (what the log shows) only the start.
  return new InputError('AR_HTTP_NOT_JSON', `${prefix}${body.toString('latin1', 0, LOG_TEXT_LIMIT)}… (${body.length - LOG_TEXT_LIMIT} more bytes)`,
    { cause, answer: [Buffer.from(prefix), body] });
}

/** Valid JSON that is no record (`123`, `"str"`): say so instead of "not json". */
function notObject(body: Buffer, cause?: unknown): InputError {
  return new InputError('AR_HTTP_NOT_OBJECT',
    `Received event is not a JSON object: ${body.toString('latin1')} (a record must be a JSON object or an array of objects)`, { cause });
}

const TIME_KEY = 'time';

/** Default mode (no <parse>): parse_params_default. */
export function parseDefault(input: BodyInput): ParsedBody {
  const { contentType, params } = input;
  const body = input.body;
  if (/^application\/x-www-form-urlencoded/.test(contentType)) {
    for (const [k, v] of parseQuery(body.toString('latin1'))) params.set(k, v);
  } else if (/^multipart\/form-data; boundary=/.test(contentType)) {
    throw new InputError('AR_HTTP_UNSUPPORTED_BODY', 'multipart/form-data bodies are not supported; send application/json, application/x-ndjson or application/msgpack');
  }
  const records: JsonRecord[] = [];
  let containers = 0; // objects or arrays seen: `[]` is a valid empty batch, `null` is not
  let msgpack: Uint8Array | undefined;
  let json: string | undefined;
  let ndjson: string | undefined;
  if (/^application\/(json|csp-report)/.test(contentType)) json = body.toString('utf8');
  else if (/^application\/msgpack/.test(contentType)) msgpack = body;
  else if (/^application\/x-ndjson/.test(contentType)) ndjson = body.toString('utf8');
  if (msgpack === undefined && json === undefined && ndjson === undefined) {
    // Params (query string or form) may carry them.
    const m = params.get('msgpack');
    if (m !== undefined) msgpack = Buffer.from(m, 'latin1');
    else if (params.has('json')) json = params.get('json');
    else if (params.has('ndjson')) ndjson = params.get('ndjson');
  }
  if (msgpack !== undefined) {
    try {
      for (const obj of decodeMulti(msgpack, { useBigInt64: true })) containers += collect(fromMsgpack(obj), records);
    } catch (err) {
      throw new InputError('AR_HTTP_BAD_MSGPACK', `Received event is not msgpack: ${(err as Error).message}`, { cause: err });
    }
  } else if (json !== undefined) {
    containers += collect(parseOrThrow(json), records);
  } else if (ndjson !== undefined) {
    for (const line of ndjson.split(/\r?\n/)) {
      if (line === '') continue;
      containers += collect(parseOrThrow(line), records);
    }
  } else {
    throw new InputError('AR_HTTP_NO_PARAM', "'json', 'ndjson' or 'msgpack' parameter is required");
  }
  if (containers === 0) throw notJson(body);
  const times = records.map(convertTimeField);
  return { records, times };
}

function parseOrThrow(text: string): JsonValue {
  try {
    return parseJson(text);
  } catch (err) {
    throw new InputError('AR_HTTP_NOT_JSON', `Received event is not json: ${text}`, { cause: err });
  }
}

/** Adds the records of one decoded value; returns 1 if it was an object or array. */
function collect(value: JsonValue, into: JsonRecord[]): number {
  if (isRecord(value)) into.push(value);
  else if (Array.isArray(value)) for (const v of value) if (isRecord(v)) into.push(v);
  else return 0;
  return 1;
}

function isRecord(v: JsonValue): v is JsonRecord {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonFloat);
}

/** in_http convert_time_field: delete `time`, Time.at(value); absent → now. */
function convertTimeField(record: JsonRecord): EventTime {
  let value: JsonValue | undefined;
  if (record instanceof OrderedObject) {
    value = record.get(TIME_KEY);
    record.delete(TIME_KEY);
  } else if (Object.hasOwn(record, TIME_KEY)) {
    value = record[TIME_KEY];
    delete record[TIME_KEY];
  }
  if (value === undefined || value === null || value === false) return EventTime.now();
  if (typeof value === 'bigint') return new EventTime(Number(value));
  const n = value instanceof JsonFloat ? value.value : value;
  if (typeof n === 'number') {
    const sec = Math.floor(n);
    return new EventTime(sec, Math.floor((n - sec) * 1e9));
  }
  throw new InputError('AR_HTTP_BAD_TIME', `can't convert ${rubyClass(value)} into an exact number`);
}

function rubyClass(v: JsonValue): string {
  if (typeof v === 'string') return 'String';
  if (typeof v === 'boolean') return 'true';
  if (Array.isArray(v)) return 'Array';
  return 'Hash';
}

/** msgpack values → the record model (maps keep order; keys become strings as Oj would print them). */
function fromMsgpack(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    case 'number':
      return v; // msgpack float64 1.0 and int 1 both decode to 1: the int form is printed
  }
  if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
  if (Array.isArray(v)) return v.map(fromMsgpack);
  if (v instanceof Map) {
    const out = new OrderedObject();
    for (const [k, val] of v) out.set(String(k), fromMsgpack(val));
    return out;
  }
  if (typeof v === 'object') {
    const out = new OrderedObject();
    for (const [k, val] of Object.entries(v as Record<string, unknown>)) out.set(k, fromMsgpack(val));
    return out;
  }
  return null;
}
