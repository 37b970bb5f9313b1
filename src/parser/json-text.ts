// JSON text → JsonValue with exactly the acceptance and the values of Fluentd's
// parser: Oj.load with Oj.default_options {mode: :compat, bigdecimal_load: :float}
// (docs/compatibility.md §3). Behaviour below is read from ohler55/oj 3.17.x:
// compat.c oj_compat_parse (allow_nan Yes, nilnil Yes, empty_string No, no depth
// limit) and parse.c (oj_parse2, read_num, read_str, read_escaped_str, skip_comment).
//
// What Oj compat accepts beyond RFC 8259, and we therefore accept too:
// - `/* */` and `//` comments anywhere before or inside the document (not after it);
// - form feed as whitespace; raw control characters (except NUL) inside strings;
// - NaN / Infinity / -Infinity (also `nan`, `-NaN`), and 1e400 (strtod → Infinity);
// - unknown escapes `\x` → `x` (json gem compatibility); `00`, `-0`, `00.5`;
//   a bare `-` is the integer 0;
// - a NUL character after the document ends the input (Oj reads a C string);
// - any depth of nesting.
// What Oj rejects and JSON.parse would accept: a `\uD800`-`\uDFFF` escape that is
// not followed by another `\u` escape (Oj combines ANY following `\uXXXX` with it
// arithmetically, so `\ud800\u0041` is U+10041, and so do we).
// Numbers: a token without `.`/`e` is an Integer of any size (bigint past 2^53);
// with one it is a Float (JsonFloat when integral, e.g. `1.0`, `1e2`, `-0.0`).
//
// Speed: most Teleport bodies hold no float, no long integer, no integer-like key
// and no surrogate escape; for them V8's JSON.parse gives the identical value, so
// a cheap pre-scan (isPlainJson) picks it. Whatever JSON.parse refuses goes to
// the exact parser, which decides acceptance the Oj way.

import { AuditrelayError } from '../errors.ts';
import { OrderedObject, type JsonObject, type JsonValue } from '../value/json-value.ts';
import { readNumber, readString, type JsonCursor } from './json-lexemes.ts';
import { unbalancedAt } from './json-balance.ts';

/** Texts at least this long are checked for balance before the parsers build anything (json-balance.ts). */
export const BALANCE_CHECK_MIN = 4096;

export type JsonSyntaxErrorCode = 'AR_JSON_SYNTAX';

/** Text that Oj (compat mode) would refuse; `offset` is the UTF-16 index of the problem. */
export class JsonSyntaxError extends AuditrelayError<JsonSyntaxErrorCode> {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super('AR_JSON_SYNTAX', message);
    this.name = 'JsonSyntaxError';
    this.offset = offset;
  }
}

/** Parses one JSON document as Fluentd's Oj compat parser does. Throws JsonSyntaxError. */
export function parseJson(text: string): JsonValue {
  if (text.length >= BALANCE_CHECK_MIN) {
    const at = unbalancedAt(text);
    if (at !== -1) {
      throw new OjCompatParser(text).failAt(at, at >= text.length || text.charCodeAt(at) === 0 ? 'the JSON text ends in the middle of a value' : 'a closing bracket with no opening one',
        'send a complete JSON object or array');
    }
  }
  return parseBalancedJson(text);
}

/**
 * parseJson without the balance check, for a text whose bytes were checked already
 * (the json parser's refuses(), asked by in_http before the body becomes a string).
 */
export function parseBalancedJson(text: string): JsonValue {
  if (isPlainJson(text)) {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      // Oj accepts more than JSON.parse (comments, NaN, raw control characters…):
      // the exact parser below decides.
    }
  }
  return new OjCompatParser(text).parseDocument();
}

/** The exact parser alone, without the JSON.parse fast path (tests and bench compare the two). */
export function parseJsonExact(text: string): JsonValue {
  return new OjCompatParser(text).parseDocument();
}

/**
 * True when JSON.parse(text), if it succeeds, gives exactly the value Oj would:
 * no number token with `.`/`e`/`E` (floats), none of 16+ digits (maybe past 2^53),
 * no `-0`, no key starting with a digit or an escape (V8 moves integer-like keys
 * first), no `\uD…` escape (Oj refuses lone surrogates). May say false for text
 * that would be fine (the exact parser then runs), never true for text that is not.
 * Tokenizes as strict JSON; text that is not strict JSON makes JSON.parse throw.
 */
export function isPlainJson(text: string): boolean {
  const len = text.length;
  let nextBackslash = -2; // -2: not looked up yet; -1: none left
  let i = 0;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i + 1;
      let end = text.indexOf('"', start);
      if (end === -1) return true; // unterminated: JSON.parse throws
      if (nextBackslash !== -1 && nextBackslash < start) nextBackslash = text.indexOf('\\', start);
      if (nextBackslash !== -1 && nextBackslash < end) {
        // An escape inside this string: walk it to find the real closing quote.
        let j = nextBackslash;
        for (;;) {
          if (j >= len) return true;
          const d = text.charCodeAt(j);
          if (d === 0x22) break;
          if (d === 0x5c) {
            if (text.charCodeAt(j + 1) === 0x75) {
              const h = text.charCodeAt(j + 2);
              if (h === 0x64 || h === 0x44) return false; // \uD…: maybe a surrogate
            }
            j += 2;
          } else {
            j++;
          }
        }
        end = j;
        nextBackslash = -2;
      }
      const first = text.charCodeAt(start);
      if ((first >= 0x30 && first <= 0x39) || first === 0x5c) {
        // Could be an integer-like key: is this string followed by ':'?
        let k = end + 1;
        let d = text.charCodeAt(k);
        while (d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) d = text.charCodeAt(++k);
        if (d === 0x3a) return false;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      let j = i;
      if (c === 0x2d) {
        j++;
        if (text.charCodeAt(j) === 0x30) return false; // -0 is Integer 0 in Ruby
      }
      const digitsStart = j;
      let d = text.charCodeAt(j);
      while (d >= 0x30 && d <= 0x39) d = text.charCodeAt(++j);
      if (d === 0x2e || d === 0x65 || d === 0x45) return false;
      if (j - digitsStart >= 16) return false;
      i = j;
      continue;
    }
    i++;
  }
  return true;
}

type Container = JsonValue[] | JsonObject | OrderedObject;

/** One parse of one text; iterative (explicit stack) because Oj has no depth limit. */
class OjCompatParser implements JsonCursor {
  readonly text: string;
  readonly len: number;
  pos = 0;

  constructor(text: string) {
    this.text = text;
    this.len = text.length;
  }

  /** Oj stops at a NUL as at the end of its C string, so both read as 0. */
  peek(): number {
    return this.pos < this.len ? this.text.charCodeAt(this.pos) : 0;
  }

  parseDocument(): JsonValue {
    const stack: Container[] = [];
    const keys: string[] = [];
    let value: JsonValue;
    for (;;) {
      // A value starts here.
      this.skipSpace();
      const c = this.peek();
      if (c === 0x7b) {
        this.pos++;
        this.skipSpace();
        if (this.peek() === 0x7d) {
          this.pos++;
          value = {};
        } else {
          keys[stack.length] = this.readKey();
          stack.push({});
          continue;
        }
      } else if (c === 0x5b) {
        this.pos++;
        this.skipSpace();
        if (this.peek() === 0x5d) {
          this.pos++;
          value = [];
        } else {
          stack.push([]);
          continue;
        }
      } else {
        value = this.readScalar(c, stack.length);
      }

      // Hand the value to its container; close containers that end here.
      for (;;) {
        const depth = stack.length;
        if (depth === 0) {
          this.finish();
          return value;
        }
        const top = stack[depth - 1];
        this.skipSpace();
        const c2 = this.peek();
        if (Array.isArray(top)) {
          top.push(value);
          if (c2 === 0x2c) {
            this.pos++;
            break;
          }
          if (c2 !== 0x5d) throw this.fail(`expected ',' or ']' after an array element, found ${this.describe(c2)}`, 'close the array or separate elements with commas');
          this.pos++;
          stack.pop();
          value = top;
        } else {
          const obj = setMember(top, keys[depth - 1], value);
          stack[depth - 1] = obj;
          if (c2 === 0x2c) {
            this.pos++;
            keys[depth - 1] = this.readKey();
            break;
          }
          if (c2 !== 0x7d) throw this.fail(`expected ',' or '}' after an object member, found ${this.describe(c2)}`, 'close the object or separate members with commas');
          this.pos++;
          stack.pop();
          value = obj;
        }
      }
    }
  }

  /** A string, word or number starting with `c`; `depth` is the number of open containers. */
  readScalar(c: number, depth: number): JsonValue {
    if (c === 0x22) {
      this.pos++;
      return readString(this);
    } else if (c === 0x74) {
      return this.readWord('true', true);
    } else if (c === 0x66) {
      return this.readWord('false', false);
    } else if (c === 0x6e && this.text.charCodeAt(this.pos + 1) === 0x75) {
      return this.readWord('null', null);
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x49 || c === 0x4e || c === 0x6e) {
      return readNumber(this);
    } else if (c === 0) {
      throw this.fail(depth === 0 ? 'the body is empty' : 'the JSON text ends in the middle of a value',
        'send a complete JSON object or array');
    } else {
      throw this.fail(`unexpected ${this.describe(c)} where a value should start`,
        'a value is an object, array, string, number, true, false or null');
    }
  }

  /** After the document: whitespace only, then the end (or a NUL). Comments are not allowed here. */
  finish(): void {
    let c = this.peek();
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0c) {
      this.pos++;
      c = this.peek();
    }
    if (c !== 0) throw this.fail(`unexpected ${this.describe(c)} after the JSON document`, 'send exactly one JSON value per request');
  }

  /** JSON whitespace plus form feed, and comments (parse.c next_non_white, skip_comment). */
  skipSpace(): void {
    const text = this.text;
    for (;;) {
      const c = this.peek();
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c) {
        this.pos++;
      } else if (c === 0x2f) {
        const kind = text.charCodeAt(this.pos + 1);
        if (kind === 0x2a) {
          const close = text.indexOf('*/', this.pos + 2);
          // Oj runs an unterminated block comment to the end; the missing value is the error.
          this.pos = close === -1 ? this.len : close + 2;
        } else if (kind === 0x2f) {
          let i = this.pos + 2;
          for (; i < this.len; i++) {
            const d = text.charCodeAt(i);
            if (d === 0x0a || d === 0x0d || d === 0x0c || d === 0) break;
          }
          this.pos = i;
        } else {
          this.pos++;
          throw this.fail("a '/' that does not start a comment", 'remove it, or write /* … */ or // …');
        }
      } else {
        return;
      }
    }
  }

  /** An object key and its ':'. */
  readKey(): string {
    this.skipSpace();
    const c = this.peek();
    if (c !== 0x22) throw this.fail(`expected a quoted object key, found ${this.describe(c)}`, 'object keys are strings in double quotes; no trailing comma before }');
    this.pos++;
    const key = readString(this);
    this.skipSpace();
    const d = this.peek();
    if (d !== 0x3a) throw this.fail(`expected ':' after an object key, found ${this.describe(d)}`, 'write "key":value');
    this.pos++;
    return key;
  }

  readWord(word: string, value: JsonValue): JsonValue {
    if (!this.text.startsWith(word, this.pos)) throw this.fail(`a word that is not ${word}`, 'the words JSON knows are true, false and null');
    this.pos += word.length;
    return value;
  }

  describe(c: number): string {
    if (c === 0) return 'the end of the text';
    const ch = String.fromCharCode(c);
    return c < 0x20 || c === 0x7f ? `U+${c.toString(16).padStart(4, '0').toUpperCase()}` : `'${ch}'`;
  }

  fail(what: string, fix: string): JsonSyntaxError {
    return this.failAt(this.pos, what, fix);
  }

  failAt(offset: number, what: string, fix: string): JsonSyntaxError {
    let line = 1;
    let lineStart = 0;
    const text = this.text;
    for (let k = text.indexOf('\n'); k !== -1 && k < offset; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return new JsonSyntaxError(`not JSON at line ${line}, column ${offset - lineStart + 1}: ${what}; ${fix}`, offset);
  }
}

/** Ruby Hash#[]=: an existing key keeps its place, the value is replaced (duplicate keys: last wins). */
function setMember(obj: Container, key: string, value: JsonValue): JsonObject | OrderedObject {
  if (obj instanceof OrderedObject) {
    obj.set(key, value);
    return obj;
  }
  const plain = obj as JsonObject;
  if (isArrayIndex(key)) {
    // V8 would list this key before the others: keep the input order in a Map.
    const ordered = new OrderedObject();
    for (const k of Object.keys(plain)) ordered.set(k, plain[k]);
    ordered.set(key, value);
    return ordered;
  }
  if (key === '__proto__') {
    // A data property, as JSON.parse makes it; assignment would replace the prototype.
    Object.defineProperty(plain, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    plain[key] = value;
  }
  return plain;
}

/** The keys V8 orders first in a plain object: canonical integers 0 … 2^32-2. */
function isArrayIndex(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const first = key.charCodeAt(0);
  if (first === 0x30) return n === 1;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return n < 10 || Number(key) <= 4294967294;
}
