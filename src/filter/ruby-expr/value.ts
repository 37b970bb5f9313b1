// How Ruby values are represented while a `${...}` expression runs.
// Record values keep their parser shapes (src/value/json-value.ts), read the
// way Oj hands them to Ruby: an integral `number` or a `bigint` is an Integer,
// a non-integral `number` or a JsonFloat is a Float, arrays are Arrays,
// plain objects and OrderedObjects are Hashes. Times and regexp literals add
// two classes of our own.

import { JsonFloat, OrderedObject } from '../../value/json-value.ts';
import type { JsonValue } from '../../value/json-value.ts';
import { rubyError } from '../errors.ts';
import { RubyTime } from './ruby-time.ts';

/** A regexp literal, compiled at configure (sub needs one match, gsub all). */
export class RubyRegexp {
  readonly source: string;
  readonly once: RegExp;
  readonly global: RegExp;
  constructor(source: string, once: RegExp, global: RegExp) {
    this.source = source;
    this.once = once;
    this.global = global;
  }
}

export type RubyValue = JsonValue | RubyTime | RubyRegexp;
export type RubyHash = Record<string, JsonValue> | OrderedObject;

export function truthy(v: RubyValue): boolean {
  return v !== null && v !== false;
}

export function isFloat(v: RubyValue): v is number | JsonFloat {
  return v instanceof JsonFloat || (typeof v === 'number' && !Number.isInteger(v));
}

export function isInteger(v: RubyValue): v is number | bigint {
  return typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
}

export function isHash(v: RubyValue): v is RubyHash {
  return (
    typeof v === 'object' && v !== null && !Array.isArray(v) &&
    !(v instanceof JsonFloat) && !(v instanceof RubyTime) && !(v instanceof RubyRegexp)
  );
}

export function hashGet(h: RubyHash, key: string): JsonValue | undefined {
  if (h instanceof OrderedObject) return h.get(key);
  return Object.hasOwn(h, key) ? h[key] : undefined;
}

export function hashSize(h: RubyHash): number {
  return h instanceof OrderedObject ? h.size : Object.keys(h).length;
}

/** A Float result: integral doubles become JsonFloat so `1.0` is written as `1.0`. */
export function makeFloat(x: number): number | JsonFloat {
  return Number.isInteger(x) ? new JsonFloat(x) : x;
}

/** An Integer result: bigint only past the safe range. */
export function makeInteger(x: bigint): number | bigint {
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

export function floatValue(v: number | JsonFloat): number {
  return v instanceof JsonFloat ? v.value : v;
}

export function className(v: RubyValue): string {
  if (v === null) return 'NilClass';
  if (v === true) return 'TrueClass';
  if (v === false) return 'FalseClass';
  if (typeof v === 'string') return 'String';
  if (isInteger(v)) return 'Integer';
  if (isFloat(v)) return 'Float';
  if (Array.isArray(v)) return 'Array';
  if (v instanceof RubyTime) return 'Time';
  if (v instanceof RubyRegexp) return 'Regexp';
  return 'Hash';
}

/** Ruby 3.4 wording: "undefined method 'x' for nil" / "... for an instance of Integer". */
export function noMethod(name: string, recv: RubyValue): Error {
  const what = recv === null ? 'nil' : recv === true ? 'true' : recv === false ? 'false' : `an instance of ${className(recv)}`;
  return rubyError('NoMethodError', `undefined method '${name}' for ${what}`);
}

/** Ruby `Float#to_s`: shortest round-trip digits, fixed between 1e-4 and 1e16. */
export function floatToS(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const digits = mant.replace('.', '');
  const decpt = Number(expText) + 1;
  if (decpt > 0 && decpt <= 16) {
    const intPart = digits.length <= decpt ? digits.padEnd(decpt, '0') : digits.slice(0, decpt);
    const frac = digits.length <= decpt ? '0' : digits.slice(decpt);
    return `${sign}${intPart}.${frac}`;
  }
  if (decpt <= 0 && decpt > -4) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  const e = decpt - 1;
  const eText = String(Math.abs(e)).padStart(2, '0');
  return `${sign}${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}e${e < 0 ? '-' : '+'}${eText}`;
}

function integerToS(v: number | bigint): string {
  return typeof v === 'bigint' || Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
}

/** Ruby `#to_s` (what `"#{x}"` interpolation produces). */
export function toS(v: RubyValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (v === true || v === false) return String(v);
  if (isInteger(v)) return integerToS(v);
  if (isFloat(v)) return floatToS(floatValue(v));
  if (v instanceof RubyTime) return v.toS();
  return inspect(v);
}

const STRING_ESCAPES: Record<string, string> = {
  '"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\f': '\\f', '\v': '\\v', '\b': '\\b', '\x07': '\\a', '\x1b': '\\e',
};

function inspectString(s: string): string {
  let out = '"';
  const chars = Array.from(s);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    const esc = STRING_ESCAPES[ch];
    const next = chars[i + 1];
    if (esc !== undefined) out += esc;
    // Ruby escapes `#` only where it would start an interpolation
    else if (ch === '#' && (next === '{' || next === '$' || next === '@')) out += '\\#';
    else if (ch.codePointAt(0)! < 0x20 || ch === '\x7f') out += '\\x' + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(2, '0');
    else out += ch;
  }
  return out + '"';
}

/** Ruby 3.4 `#inspect` (Hash as `{"a" => 1}`), used when a Hash or Array is interpolated. */
export function inspect(v: RubyValue): string {
  if (v === null) return 'nil';
  if (typeof v === 'string') return inspectString(v);
  if (Array.isArray(v)) return '[' + v.map(inspect).join(', ') + ']';
  if (v instanceof RubyRegexp) return `/${v.source}/`;
  if (v instanceof RubyTime) return v.toS();
  if (isHash(v)) {
    const parts: string[] = [];
    const entries = v instanceof OrderedObject ? v.entries() : Object.entries(v);
    for (const [k, val] of entries) parts.push(`${inspectString(k)} => ${inspect(val)}`);
    return parts.length === 0 ? '{}' : '{' + parts.join(', ') + '}';
  }
  return toS(v);
}

function numericCompareEqual(a: number | bigint | JsonFloat, b: number | bigint | JsonFloat): boolean {
  const x = a instanceof JsonFloat ? a.value : a;
  const y = b instanceof JsonFloat ? b.value : b;
  if (typeof x === 'bigint' && typeof y === 'bigint') return x === y;
  if (typeof x === 'bigint') return Number.isInteger(y) && x === BigInt(y as number);
  if (typeof y === 'bigint') return Number.isInteger(x) && BigInt(x) === y;
  return x === y;
}

/** Ruby `==` (1 == 1.0 is true; Hash equality ignores order). */
export function rubyEquals(a: RubyValue, b: RubyValue): boolean {
  const aNum = isInteger(a) || isFloat(a);
  const bNum = isInteger(b) || isFloat(b);
  if (aNum || bNum) return aNum && bNum && numericCompareEqual(a as number, b as number);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => rubyEquals(x, b[i]));
  if (a instanceof RubyTime) return b instanceof RubyTime && a.sec === b.sec && a.nsec === b.nsec;
  if (a instanceof RubyRegexp) return b instanceof RubyRegexp && a.source === b.source;
  if (isHash(a) && isHash(b)) {
    if (hashSize(a) !== hashSize(b)) return false;
    const entries = a instanceof OrderedObject ? a.entries() : Object.entries(a);
    for (const [k, val] of entries) {
      const other = hashGet(b, k);
      if (other === undefined || !rubyEquals(val, other)) return false;
    }
    return true;
  }
  return false;
}

// Ruby `String#to_i` / `#to_f`: the longest numeric prefix, 0 when there is none.
const INT_PREFIX = /^\s*([+-]?\d+(?:_\d+)*)/;
const FLOAT_PREFIX = /^\s*([+-]?\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?)/;

export function toI(v: RubyValue): number | bigint {
  if (typeof v === 'string') {
    const m = INT_PREFIX.exec(v);
    return m ? makeInteger(BigInt(m[1].replaceAll('_', ''))) : 0;
  }
  if (v === null) return 0;
  if (isInteger(v)) return v;
  if (isFloat(v)) {
    const f = floatValue(v);
    if (!Number.isFinite(f)) throw rubyError('FloatDomainError', floatToS(f));
    const t = Math.trunc(f);
    return Number.isSafeInteger(t) ? t : makeInteger(BigInt(t));
  }
  if (v instanceof RubyTime) return v.sec;
  throw noMethod('to_i', v);
}

export function toF(v: RubyValue): number | JsonFloat {
  if (typeof v === 'string') {
    const m = FLOAT_PREFIX.exec(v);
    return makeFloat(m ? Number(m[1].replaceAll('_', '')) : 0);
  }
  if (v === null) return new JsonFloat(0);
  if (isInteger(v)) return makeFloat(Number(v));
  if (isFloat(v)) return v;
  // Time#to_f rounds the exact sec+ns rational once; parsing the decimal text does the same.
  if (v instanceof RubyTime) {
    return makeFloat(v.sec >= 0 ? Number(`${v.sec}.${String(v.nsec).padStart(9, '0')}`) : v.sec + v.nsec / 1e9);
  }
  throw noMethod('to_f', v);
}

/** Ruby `+` for the classes the subset can produce. */
export function plus(a: RubyValue, b: RubyValue): RubyValue {
  if (typeof a === 'string') {
    if (typeof b === 'string') return a + b;
    throw rubyError('TypeError', `no implicit conversion of ${className(b) === 'NilClass' ? 'nil' : className(b)} into String`);
  }
  if (isInteger(a) || isFloat(a)) {
    if (isInteger(a) && isInteger(b)) {
      if (typeof a === 'number' && typeof b === 'number' && Number.isSafeInteger(a + b)) return a + b;
      return makeInteger(BigInt(a) + BigInt(b));
    }
    if (isInteger(b) || isFloat(b)) return makeFloat(Number(floatOrInt(a)) + Number(floatOrInt(b)));
    throw rubyError('TypeError', `${b === null ? 'nil' : className(b)} can't be coerced into ${className(a)}`);
  }
  if (Array.isArray(a)) {
    if (Array.isArray(b)) return [...a, ...b];
    throw rubyError('TypeError', `no implicit conversion of ${className(b)} into Array`);
  }
  if (a instanceof RubyTime) {
    if (b instanceof RubyTime) throw rubyError('TypeError', 'time + time?');
    if (!isInteger(b) && !isFloat(b)) throw rubyError('TypeError', `can't convert ${className(b)} into an exact number`);
    const totalNs = BigInt(a.sec) * 1_000_000_000n + BigInt(a.nsec) + addendNs(b);
    const sec = totalNs / 1_000_000_000n - (totalNs % 1_000_000_000n < 0n ? 1n : 0n);
    return new RubyTime(Number(sec), Number(totalNs - sec * 1_000_000_000n), a.zone, a.utc);
  }
  throw noMethod('+', a);
}

function floatOrInt(v: number | bigint | JsonFloat): number | bigint {
  return v instanceof JsonFloat ? v.value : v;
}

function addendNs(b: number | bigint | JsonFloat): bigint {
  if (typeof b === 'bigint') return b * 1_000_000_000n;
  const f = floatValue(b);
  return Number.isInteger(f) ? BigInt(f) * 1_000_000_000n : BigInt(Math.floor(f * 1e9));
}

/** What a result becomes when stored in the record. A Time is written as its `to_s`, as Oj compat does. */
export function toRecordValue(v: RubyValue): JsonValue {
  if (v instanceof RubyTime) return v.toS();
  if (v instanceof RubyRegexp) return `(?-mix:${v.source})`;
  return v;
}
