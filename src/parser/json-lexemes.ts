// The two lexemes of Oj compat's JSON that carry most of its rules: strings
// (parse.c read_str, read_escaped_str) and numbers (parse.c read_num). Split out
// of json-text.ts, whose parser calls them with itself as the cursor; the
// acceptance rules are described at the top of json-text.ts.

import { JsonFloat, type JsonValue } from '../value/json-value.ts';

/** The parser state the lexemes read and advance. */
export interface JsonCursor {
  readonly text: string;
  readonly len: number;
  pos: number;
  failAt(offset: number, what: string, fix: string): Error;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = -MAX_SAFE;

/** Entered just after the opening quote. */
export function readString(p: JsonCursor): string {
  const text = p.text;
  const len = p.len;
  const start = p.pos;
  let i = start;
  for (;;) {
    if (i >= len) throw p.failAt(start - 1, 'a string is not terminated', 'close it with "');
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      p.pos = i + 1;
      return text.slice(start, i);
    }
    if (c === 0x5c) break;
    if (c === 0) throw p.failAt(i, 'a NUL character inside a string', 'write it as \\u0000');
    i++;
  }
  let out = text.slice(start, i);
  for (;;) {
    if (i >= len) throw p.failAt(start - 1, 'a string is not terminated', 'close it with "');
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      p.pos = i + 1;
      return out;
    }
    if (c === 0) throw p.failAt(i, 'a NUL character inside a string', 'write it as \\u0000');
    if (c !== 0x5c) {
      const run = i;
      let d = c;
      while (d !== 0x22 && d !== 0x5c && d !== 0 && i < len) d = text.charCodeAt(++i);
      out += text.slice(run, i);
      continue;
    }
    i++;
    if (i >= len) throw p.failAt(start - 1, 'a string is not terminated', 'close it with "');
    const e = text.charCodeAt(i);
    switch (e) {
      case 0x6e: out += '\n'; break;
      case 0x72: out += '\r'; break;
      case 0x74: out += '\t'; break;
      case 0x66: out += '\f'; break;
      case 0x62: out += '\b'; break;
      case 0x75: {
        let code = readHex(p, i + 1);
        i += 4;
        if (code >= 0xd800 && code <= 0xdfff) {
          // parse.c: a surrogate must be followed by another \u escape, whatever it is.
          if (text.charCodeAt(i + 1) !== 0x5c || text.charCodeAt(i + 2) !== 0x75) {
            throw p.failAt(i - 5, `a lone surrogate escape \\u${code.toString(16)}`,
              'write the character itself, or a \\uD800-\\uDBFF\\uDC00-\\uDFFF pair');
          }
          const low = readHex(p, i + 3);
          i += 6;
          code = ((((code - 0xd800) & 0x3ff) << 10) | ((low - 0xdc00) & 0x3ff)) + 0x10000;
        }
        out += String.fromCodePoint(code);
        break;
      }
      default:
        // `\"`, `\\`, `\/` and, in compat mode, any other character stands for itself.
        out += text[i];
    }
    i++;
  }
}

function readHex(p: JsonCursor, at: number): number {
  let code = 0;
  for (let k = 0; k < 4; k++) {
    const c = p.text.charCodeAt(at + k);
    let v: number;
    if (c >= 0x30 && c <= 0x39) v = c - 0x30;
    else if (c >= 0x41 && c <= 0x46) v = c - 0x37;
    else if (c >= 0x61 && c <= 0x66) v = c - 0x57;
    else throw p.failAt(at + k, 'a \\u escape without 4 hex digits', 'write \\u followed by exactly 4 hex digits');
    code = (code << 4) | v;
  }
  return code;
}

/** parse.c read_num in compat mode with bigdecimal_load :float. */
export function readNumber(p: JsonCursor): JsonValue {
  const text = p.text;
  const start = p.pos;
  let i = start;
  let c = text.charCodeAt(i);
  let neg = false;
  if (c === 0x2d) {
    neg = true;
    c = text.charCodeAt(++i);
  }
  // Deliberate difference (README): Oj accepts NaN/Infinity and then writes
  // them as bare words, which no SIEM can read back as JSON. Refused here (400).
  if (c === 0x49 || c === 0x4e || c === 0x6e) {
    throw p.failAt(start, 'NaN or Infinity, which JSON cannot carry', 'send a finite number, or the value as a string');
  }
  let zeros = false;
  while (c === 0x30) {
    zeros = true;
    c = text.charCodeAt(++i);
  }
  const significant = i;
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
  const significantDigits = i - significant;
  if (zeros && significantDigits > 0) throw p.failAt(start, 'a number with a leading zero', 'write it without leading zeros');
  let isFloat = false;
  if (c === 0x2e) {
    i++;
    if (neg && i - start === 2) throw p.failAt(start, "a number starting '-.'", 'write -0.5, not -.5');
    c = text.charCodeAt(i);
    if (!(c >= 0x30 && c <= 0x39)) throw p.failAt(i, "a '.' without digits after it", 'write 1.0, not 1.');
    while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    isFloat = true;
  }
  if (c === 0x65 || c === 0x45) {
    isFloat = true;
    c = text.charCodeAt(++i);
    if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
    const expStart = i;
    while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    // Oj hands the token to strtod and refuses it unless all of it was used.
    if (i === expStart) throw p.failAt(start, 'an exponent without digits', 'write 1e5, not 1e');
    if (!zeros && significantDigits === 0) throw p.failAt(start, "a number starting '-e'", 'write -1e5');
  }
  p.pos = i;
  if (!isFloat) {
    if (significantDigits === 0) return 0; // "0", "-0", "000", and Oj's bare "-"
    if (significantDigits <= 15) return Number(text.slice(start, i));
    const big = BigInt(text.slice(start, i));
    return big >= MIN_SAFE && big <= MAX_SAFE ? Number(big) : big;
  }
  // strtod / BigDecimal#to_f both round correctly, as Number() does; 1e400 → Infinity.
  const d = Number(text.slice(start, i));
  if (!Number.isFinite(d)) throw p.failAt(start, 'a number too large for a double (it would become Infinity)', 'send it as a string');
  return Number.isInteger(d) ? new JsonFloat(d) : d;
}
