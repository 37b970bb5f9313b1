// The <record> section of record_transformer, compiled once (docs/compatibility.md §4):
// each value is parsed as JSON first when it starts with `{` or `[`
// (parse_value), then every String in it (Hash keys included) becomes a
// template — a RubyTemplate with enable_ruby, a PlaceholderTemplate without.
// `RecordMap#merge` writes the expanded entries into the output record the way
// Ruby's Hash#merge! does: existing keys keep their position, new keys go last.

import type { Logger } from 'pino';
import type { ConfigElement, SourcePos } from '../params/element.ts';
import { JsonFloat, OrderedObject } from '../value/json-value.ts';
import type { JsonRecord, JsonValue } from '../value/json-value.ts';
import { PlaceholderTemplate } from './placeholder.ts';
import type { Scope } from './ruby-expr/evaluate.ts';
import { RubyTemplate } from './ruby-expr/template.ts';
import { makeFloat, makeInteger, toRecordValue, toS } from './ruby-expr/value.ts';

type Template = RubyTemplate | PlaceholderTemplate;

type MapNode =
  | { readonly k: 'const'; readonly v: JsonValue }
  | { readonly k: 'tpl'; readonly t: Template }
  | { readonly k: 'hash'; readonly entries: readonly MapEntry[] }
  | { readonly k: 'array'; readonly items: readonly MapNode[] };

interface MapEntry {
  /** A literal key, or a template that always yields a String. */
  readonly key: string | Template;
  /** For literal keys: whether a plain JS object would reorder or misuse it. */
  readonly keyNeedsMap: boolean;
  readonly value: MapNode;
}

export interface RecordMapOptions {
  readonly enableRuby: boolean;
  readonly autoTypecast: boolean;
  readonly log: Logger;
}

/**
 * True for keys a plain object cannot hold in insertion order: V8 puts
 * array-index keys ("0".."4294967294") first, and `__proto__` is special.
 */
export function keyNeedsMap(key: string): boolean {
  if (key === '__proto__') return true;
  const n = key.length;
  if (n === 0 || n > 10) return false;
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return (n === 1 || key.charCodeAt(0) !== 48) && Number(key) <= 4294967294;
}

/** Ruby's Hash#[]= on our two record shapes; converts to OrderedObject when a plain object cannot keep the order. */
export function setKey(out: JsonRecord, key: string, value: JsonValue, needsMap: boolean): JsonRecord {
  if (out instanceof OrderedObject) {
    out.set(key, value);
    return out;
  }
  if (needsMap) {
    const ordered = new OrderedObject(Object.entries(out));
    ordered.set(key, value);
    return ordered;
  }
  out[key] = value;
  return out;
}

// Ruby's JSON.parse gives Float for any number written with `.` or an
// exponent (so `1.0` stays a Float), Integer otherwise (arbitrary size).
function reviveNumber(_key: string, value: unknown, context?: { source?: string }): unknown {
  if (typeof value !== 'number' || context?.source === undefined) return value;
  const src = context.source;
  if (/[.eE]/.test(src)) return makeFloat(value);
  return makeInteger(BigInt(src));
}

// Objects from JSON.parse are plain; keys that a plain object would reorder
// need an OrderedObject (nested values first, the reviver runs bottom-up).
function toJsonValue(v: unknown): JsonValue {
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v !== null && typeof v === 'object' && !(v instanceof JsonFloat)) {
    const entries = Object.entries(v as Record<string, unknown>);
    const converted: [string, JsonValue][] = entries.map(([k, x]) => [k, toJsonValue(x)]);
    if (converted.some(([k]) => keyNeedsMap(k))) return new OrderedObject(converted);
    return Object.fromEntries(converted);
  }
  return v as JsonValue;
}

export class RecordMap {
  readonly #entries: MapEntry[] = [];
  readonly #opts: RecordMapOptions;

  constructor(sections: readonly ConfigElement[], opts: RecordMapOptions) {
    this.#opts = opts;
    // Later <record> sections override earlier ones; a repeated key keeps its first position (Ruby Hash).
    const raw = new Map<string, { value: string; pos: SourcePos }>();
    for (const section of sections) {
      for (const key of section.params.keys()) {
        const p = section.take(key)!;
        raw.set(key, { value: p.value, pos: p.pos });
      }
    }
    for (const [key, { value, pos }] of raw) {
      this.#entries.push(this.#entry(key, this.#parseValue(value), pos));
    }
  }

  /** filter_record_transformer.rb parse_value: JSON first for `{`/`[`, else the string. */
  #parseValue(text: string): JsonValue {
    if (!text.startsWith('{') && !text.startsWith('[')) return text;
    try {
      return toJsonValue(JSON.parse(text, reviveNumber as (k: string, v: unknown) => unknown));
    } catch (e) {
      this.#opts.log.warn({ error: (e as Error).message }, `failed to parse ${text} as json. Assuming ${text} is a string`);
      return text;
    }
  }

  #template(text: string, stringify: boolean, pos: SourcePos): Template {
    return this.#opts.enableRuby
      ? new RubyTemplate(text, stringify || !this.#opts.autoTypecast, pos)
      : new PlaceholderTemplate(text, stringify || !this.#opts.autoTypecast);
  }

  #entry(key: string, value: JsonValue, pos: SourcePos): MapEntry {
    const keyTpl = this.#template(key, true, pos);
    const constant = keyTpl.constant;
    const literal = constant === undefined ? undefined : toS(toRecordValue(constant));
    return {
      key: literal ?? keyTpl,
      keyNeedsMap: literal !== undefined && keyNeedsMap(literal),
      value: this.#node(value, pos),
    };
  }

  #node(value: JsonValue, pos: SourcePos): MapNode {
    if (typeof value === 'string') {
      const t = this.#template(value, false, pos);
      return t.constant === undefined ? { k: 'tpl', t } : { k: 'const', v: toRecordValue(t.constant) };
    }
    if (Array.isArray(value)) return { k: 'array', items: value.map((v) => this.#node(v, pos)) };
    if (value instanceof OrderedObject) {
      return { k: 'hash', entries: [...value].map(([k, v]) => this.#entry(k, v, pos)) };
    }
    if (value !== null && typeof value === 'object' && !(value instanceof JsonFloat)) {
      return { k: 'hash', entries: Object.entries(value).map(([k, v]) => this.#entry(k, v, pos)) };
    }
    return { k: 'const', v: value };
  }

  /** Expands every entry against the current event and merges it into `out` (Hash#merge!). */
  merge(out: JsonRecord, scope: Scope): JsonRecord {
    for (const e of this.#entries) {
      const key = typeof e.key === 'string' ? e.key : this.#expandKey(e.key, scope);
      const needsMap = typeof e.key === 'string' ? e.keyNeedsMap : keyNeedsMap(key);
      out = setKey(out, key, this.#expand(e.value, scope), needsMap);
    }
    return out;
  }

  #expandKey(t: Template, scope: Scope): string {
    return t instanceof RubyTemplate ? toS(t.expand(scope)) : toS(t.expand(scope, this.#opts.log));
  }

  #expand(node: MapNode, scope: Scope): JsonValue {
    switch (node.k) {
      case 'const':
        return node.v;
      case 'tpl':
        return node.t instanceof RubyTemplate ? toRecordValue(node.t.expand(scope)) : node.t.expand(scope, this.#opts.log);
      case 'array': {
        const out: JsonValue[] = [];
        for (const item of node.items) out.push(this.#expand(item, scope));
        return out;
      }
      case 'hash': {
        let out: JsonRecord = {};
        for (const e of node.entries) {
          const key = typeof e.key === 'string' ? e.key : this.#expandKey(e.key, scope);
          const needsMap = typeof e.key === 'string' ? e.keyNeedsMap : keyNeedsMap(key);
          out = setKey(out, key, this.#expand(e.value, scope), needsMap);
        }
        return out;
      }
    }
  }
}
