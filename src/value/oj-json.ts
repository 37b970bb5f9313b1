// JsonValue → the exact bytes of Oj.dump(record) with Fluentd's Oj.default_options
// {mode: :compat} (docs/compatibility.md §6 out_stdout, §7 formatter_json, O4/O5 observed).
// Read from ohler55/oj 3.17.x:
// - oj.c dump(): in compat mode `nan_dump = WordNan` and escape_mode JSONEsc, so
//   NaN / Infinity / -Infinity are written as those words (not a GeneratorError:
//   that is only JSON.generate / to_json);
// - dump_compat.c dump_float(): 0.0 and -0.0 → `0.0`; a double with
//   d == (double)(long long)d → printf("%.1f"); anything else → Ruby Float#to_s;
// - dump.c hibit_friendly_chars (JSONEsc): `"` `\` escaped, \b \t \n \f \r short
//   escapes, other 0x00-0x1F as \u00xx (lowercase hex), `/`, DEL, U+2028/U+2029 and
//   all non-ASCII raw. That is JSON.stringify's escaping for well-formed strings;
//   a lone surrogate becomes U+FFFD (docs/compatibility.md "deliberately differs": invalid
//   UTF-8 → U+FFFD) where JSON.stringify would write \udXXX;
// - oj_dump_compat_val(): an Array or Hash at depth >= 1000 (MAX_DEPTH) raises
//   NestingError "Too deeply nested".
// Integers (number or bigint) are printed exactly, key order is insertion order.

import { AuditrelayError } from '../errors.ts';
import { JsonFloat, type JsonObject, type JsonValue } from './json-value.ts';

export type JsonDumpErrorCode = 'AR_JSON_DUMP';

/** A value Oj.dump could not write either (too deep) or that is no JsonValue at all. */
export class JsonDumpError extends AuditrelayError<JsonDumpErrorCode> {
  constructor(message: string) {
    super('AR_JSON_DUMP', message);
    this.name = 'JsonDumpError';
  }
}

/** Oj's MAX_DEPTH (dump.c): a container at this depth (top level = 0) raises NestingError. */
export const OJ_MAX_DEPTH = 1000;

const TWO_POW_63 = 9223372036854775808;

/** Oj.dump(value) in compat mode. Throws JsonDumpError. */
export function ojDump(value: JsonValue): string {
  return stringifyIsExact(value, 0) ? JSON.stringify(value) : dumpValue(value, 0);
}

/** Oj.dump(value) + "\n": one line of formatter_json / the S3 object. */
export function ojDumpLine(value: JsonValue): string {
  return (stringifyIsExact(value, 0) ? JSON.stringify(value) : dumpValue(value, 0)) + '\n';
}

/**
 * True when JSON.stringify(value) already writes Oj's bytes: only plain objects,
 * arrays, well-formed strings, booleans, null, safe integers and non-integral
 * numbers with |x| >= 1e-4 (where JS and Ruby both print the shortest digits in
 * fixed notation), under Oj's depth limit. Teleport events are all like this; the
 * walk builds nothing and bails out at the first float, bigint or Map. Measured
 * (bench/json.bench.ts): walk + native stringify is ~4x faster than the loop below.
 */
function stringifyIsExact(value: JsonValue, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return value.isWellFormed();
    case 'number':
      return (
        Number.isSafeInteger(value) ||
        (Number.isFinite(value) && !Number.isInteger(value) && (value >= 1e-4 || value <= -1e-4))
      );
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth >= OJ_MAX_DEPTH) return false;
      const d = depth + 1;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!stringifyIsExact(value[i], d)) return false;
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      const obj = value as JsonObject;
      for (const key in obj) if (!key.isWellFormed() || !stringifyIsExact(obj[key], d)) return false;
      return true;
    }
  }
  return false;
}

function dumpValue(value: JsonValue, depth: number): string {
  switch (typeof value) {
    case 'string':
      return dumpString(value);
    case 'number':
      // A plain integral number is a Ruby Integer; any other number a Float.
      return Number.isInteger(value) ? dumpInteger(value) : dumpFloat(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'object':
      if (value === null) return 'null';
      if (value instanceof JsonFloat) return dumpFloat(value.value);
      if (depth >= OJ_MAX_DEPTH) {
        throw new JsonDumpError(`record nested ${OJ_MAX_DEPTH} levels deep; Oj.dump refuses this ("Too deeply nested"); flatten the record`);
      }
      if (Array.isArray(value)) return dumpArray(value, depth);
      if (value instanceof Map) return dumpMap(value, depth);
      {
        const proto = Object.getPrototypeOf(value);
        if (proto === Object.prototype || proto === null) return dumpObject(value, depth);
        throw new JsonDumpError(`a ${proto?.constructor?.name ?? 'non-JSON'} object in a record; only objects, arrays, strings, numbers, booleans and null can be written`);
      }
  }
  throw new JsonDumpError(`a ${typeof value} value in a record; only objects, arrays, strings, numbers, booleans and null can be written`);
}

function dumpArray(array: JsonValue[], depth: number): string {
  const n = array.length;
  if (n === 0) return '[]';
  const d = depth + 1;
  let out = '[' + dumpValue(array[0], d);
  for (let i = 1; i < n; i++) out += ',' + dumpValue(array[i], d);
  return out + ']';
}

function dumpObject(obj: JsonObject, depth: number): string {
  const d = depth + 1;
  let out = '';
  for (const key in obj) {
    out += (out === '' ? '{' : ',') + dumpString(key) + ':' + dumpValue(obj[key], d);
  }
  return out === '' ? '{}' : out + '}';
}

function dumpMap(map: Map<string, JsonValue>, depth: number): string {
  if (map.size === 0) return '{}';
  const d = depth + 1;
  let out = '';
  for (const [key, v] of map) {
    out += (out === '' ? '{' : ',') + dumpString(key) + ':' + dumpValue(v, d);
  }
  return out + '}';
}

// Characters JSONEsc escapes, plus surrogates (a lone one must become U+FFFD).
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function dumpString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s.toWellFormed()) : '"' + s + '"';
}

function dumpInteger(n: number): string {
  // String(-0) is "0", like Ruby's Integer 0. Past 2^53 print the exact integer value.
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** dump_compat.c dump_float. */
function dumpFloat(d: number): string {
  if (d === 0) return '0.0';
  if (d !== d) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  // d == (double)(long long)d: integral and inside the long long range. (On x86-64 an
  // out-of-range cast yields INT64_MIN, so only [-2^63, 2^63) matches.)
  if (Number.isInteger(d) && d >= -TWO_POW_63 && d < TWO_POW_63) {
    return (Number.isSafeInteger(d) ? String(d) : BigInt(d).toString()) + '.0';
  }
  return rubyFloatToS(d);
}

/**
 * Ruby's Float#to_s (numeric.c flo_to_s): shortest round-trip digits; fixed notation
 * for 1e-4 <= |d| < 1e16 (integral values only below 1e15, as `100.0`), otherwise
 * `d.ddde+XX` with a `.0` mantissa when there is one digit and at least 2 exponent
 * digits: 1.0e-05, 1.5e+300, 1.0e+20.
 */
export function rubyFloatToS(d: number): string {
  if (d !== d) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  if (d === 0) return Object.is(d, -0) ? '-0.0' : '0.0';
  const abs = d < 0 ? -d : d;
  if (abs >= 1e-4 && abs < 1e16) {
    // JS uses the same shortest digits and fixed notation for 1e-7 <= |d| < 1e21.
    if (!Number.isInteger(d)) return String(d);
    if (abs < 1e15) return String(d) + '.0';
  }
  const e = d.toExponential();
  const at = e.indexOf('e');
  const mantissa = e.indexOf('.') === -1 ? e.slice(0, at) + '.0' : e.slice(0, at);
  const sign = e[at + 1];
  const digits = e.slice(at + 2);
  return mantissa + 'e' + sign + (digits.length === 1 ? '0' + digits : digits);
}
