// Raw config strings → typed values: lib/fluent/config/types.rb (docs/compatibility.md §10).
//
// Fluentd's default mode is lenient: an integer param goes through Ruby's
// String#to_i, so `flush_thread_count abc` silently becomes 0 and
// `chunk_limit_size 10X` becomes 10 bytes; its size/time regexps are not
// anchored, so `1.5g` reads as 5 GiB. auditrelay accepts the forms Fluentd
// documents, gives exactly Fluentd's value for each of them, and refuses the
// rest with a message saying what to write (as `--strict-config-value` would).

import type { RawParam } from './element.ts';
import type { ParamSpec } from './param-schema.ts';
import { ConfigError } from './errors.ts';

const INTEGER = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const FLOAT = /^\s*[+-]?\d+(?:_\d+)*(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?\s*$/;
const SIZE = /^\s*(\d+)\s*([kmgt])\s*$/i;
const TIME = /^\s*(\d+)\s*([smhd])\s*$/;
const SIZE_UNITS: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const TIME_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Convert one raw param per its spec. Throws ConfigError naming the param's file:line. */
export function convertParam(spec: ParamSpec, raw: RawParam): unknown {
  const v = raw.value;
  switch (spec.type) {
    case 'string':
      return v;
    case 'integer':
      return toInteger(raw, 'AR_CONF_BAD_NUMBER', 'an integer', 'write digits, e.g. 8');
    case 'float':
      return toFloat(raw, 'AR_CONF_BAD_NUMBER', 'a number', 'write e.g. 8 or 0.5');
    case 'size': {
      const m = SIZE.exec(v);
      if (m) return Number(m[1]) * SIZE_UNITS[m[2].toLowerCase()];
      return toInteger(raw, 'AR_CONF_BAD_SIZE', 'a size', 'write e.g. 10m, 256m or 1g');
    }
    case 'time': {
      // Units are case-sensitive in types.rb: `10M` is not ten minutes.
      const m = TIME.exec(v);
      if (m) return Number(m[1]) * TIME_UNITS[m[2]];
      return toFloat(raw, 'AR_CONF_BAD_TIME', 'a duration', 'write e.g. 60s, 10m or 1h');
    }
    case 'bool':
      return toBool(raw);
    case 'enum': {
      const options = spec.enum ?? [];
      if (options.includes(v)) return v;
      throw new ConfigError('AR_CONF_BAD_ENUM', raw.pos,
        `${raw.key} '${v}' is not valid; valid options are ${options.join(',')}`);
    }
    case 'array':
      return toArray(spec, raw);
    case 'hash':
      return toHash(raw);
    case 'regexp':
      return toRegExp(raw);
  }
}

function toInteger(raw: RawParam, code: 'AR_CONF_BAD_NUMBER' | 'AR_CONF_BAD_SIZE', what: string, fix: string): number {
  const v = raw.value;
  if (!INTEGER.test(v)) throw new ConfigError(code, raw.pos, `${raw.key} '${v}' is not ${what}; ${fix}`);
  const n = Number(v.trim().replaceAll('_', ''));
  if (!Number.isSafeInteger(n)) {
    throw new ConfigError(code, raw.pos, `${raw.key} '${v}' is too large; write at most ${Number.MAX_SAFE_INTEGER}`);
  }
  return n;
}

function toFloat(raw: RawParam, code: 'AR_CONF_BAD_NUMBER' | 'AR_CONF_BAD_TIME', what: string, fix: string): number {
  const v = raw.value;
  if (!FLOAT.test(v)) throw new ConfigError(code, raw.pos, `${raw.key} '${v}' is not ${what}; ${fix}`);
  const n = Number(v.trim().replaceAll('_', ''));
  if (!Number.isFinite(n)) throw new ConfigError(code, raw.pos, `${raw.key} '${v}' is out of range; ${fix}`);
  return n;
}

// types.rb bool_value. A value starting with '#' is true: `param #comment`
// reaches here as "#comment" (see literal.ts) and Fluentd treats it as the bare key.
function toBool(raw: RawParam): boolean {
  const v = raw.value;
  if (v === 'true' || v === 'yes' || v === '') return true;
  if (v === 'false' || v === 'no') return false;
  if (v.startsWith('#')) return true;
  throw new ConfigError('AR_CONF_BAD_BOOL', raw.pos, `${raw.key} '${v}' is not a boolean; write true or false`);
}

/** Ruby's strip + split on commas with surrounding spaces: trailing empty fields are dropped, leading ones kept. */
function splitCommas(v: string): string[] {
  const s = v.trim();
  if (s === '') return [];
  const parts = s.split(/\s*,\s*/);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function toArray(spec: ParamSpec, raw: RawParam): unknown[] {
  const v = raw.value;
  let items: unknown[];
  if (v.startsWith('[')) {
    const parsed = parseJson(raw);
    if (!Array.isArray(parsed)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos, `${raw.key} '${v}' is not an array; write ["a","b"] or a,b`);
    }
    items = parsed;
  } else {
    items = splitCommas(v);
  }
  const itemType = spec.valueType ?? 'string';
  return items.map((item) => {
    if (item !== null && typeof item === 'object') {
      throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos,
        `${raw.key} '${v}' holds the nested value ${JSON.stringify(item)}; write a flat list, e.g. ["a","b"] or a,b`);
    }
    const text = String(item);
    if (itemType === 'string') return text;
    const one: RawParam = { key: `${raw.key} '${v}': item`, value: text, pos: raw.pos };
    return itemType === 'integer'
      ? toInteger(one, 'AR_CONF_BAD_NUMBER', 'an integer', 'write digits, e.g. 8')
      : toFloat(one, 'AR_CONF_BAD_NUMBER', 'a number', 'write e.g. 8 or 0.5');
  });
}

function toHash(raw: RawParam): Record<string, unknown> {
  const v = raw.value;
  if (v.startsWith('{')) {
    const parsed = parseJson(raw);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos, `${raw.key} '${v}' is not a hash; write {"k":"v"} or k:v,k2:v2`);
    }
    return parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  for (const pair of splitCommas(v)) {
    const colon = pair.indexOf(':');
    if (colon < 0) {
      // Fluentd stores nil for the key here; a value-less entry is almost always a typo.
      throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos, `${raw.key} '${v}': entry '${pair}' has no ':'; write k:v,k2:v2`);
    }
    out[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  return out;
}

function parseJson(raw: RawParam): unknown {
  try {
    return JSON.parse(raw.value);
  } catch (err) {
    throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos,
      `${raw.key} '${raw.value}' is not valid JSON (${(err as Error).message}); quote it if it is not JSON`, { cause: err });
  }
}

// types.rb regexp_value: `/src/opts` with options i and m, or the bare string.
function toRegExp(raw: RawParam): RegExp {
  const v = raw.value;
  let source = v;
  let ignoreCase = false;
  let dotAll = false;
  if (v.startsWith('/')) {
    const right = v.lastIndexOf('/');
    if (right < v.length - 3) {
      throw new ConfigError('AR_CONF_BAD_REGEXP', raw.pos, `${raw.key} '${v}': invalid regexp: missing right slash; write /PATTERN/`);
    }
    const options = v.slice(right + 1);
    ignoreCase = options.includes('i');
    dotAll = options.includes('m'); // Ruby's /m is JavaScript's /s
    source = v.slice(1, right);
  }
  try {
    // Ruby's ^ and $ always match at line breaks: JavaScript's /m.
    return new RegExp(rubyToJsRegExpSource(source), `m${ignoreCase ? 'i' : ''}${dotAll ? 's' : ''}`);
  } catch (err) {
    throw new ConfigError('AR_CONF_BAD_REGEXP', raw.pos,
      `${raw.key} '${v}' is not a valid regexp (${(err as Error).message}); write e.g. /^foo.*$/`, { cause: err });
  }
}

/** The Ruby-only escapes common in configs: \A, \z, \Z, \h, \H. */
function rubyToJsRegExpSource(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c !== '\\' || i + 1 >= src.length) {
      out += c;
      continue;
    }
    const next = src[++i];
    switch (next) {
      case 'A': out += '(?<![\\s\\S])'; break;
      case 'z': out += '(?![\\s\\S])'; break;
      case 'Z': out += '(?=\\n?(?![\\s\\S]))'; break;
      case 'h': out += '[0-9a-fA-F]'; break;
      case 'H': out += '[^0-9a-fA-F]'; break;
      default: out += c + next;
    }
  }
  return out;
}
