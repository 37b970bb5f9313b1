// record_transformer's placeholders WITHOUT enable_ruby (Fluentd's default
// PlaceholderExpander, filter_record_transformer.rb; docs/compatibility.md §4, O6).
// Fluentd builds a table of exact placeholder texts per event
// (`${tag}`, `${tag_parts[0]}`, `${tag_parts[-1]}`, `${record["k"]}`, …) and looks
// every `${...}` / `__UPPER__` up in it; text not in the table is "unknown":
// a warn per occurrence and nil (so a value that is only that placeholder
// becomes JSON null, O6). Here each placeholder is classified once at
// configure and resolved per event without building the table.

import type { Logger } from 'pino';
import type { JsonValue } from '../value/json-value.ts';
import type { Scope } from './ruby-expr/evaluate.ts';
import { RubyTime } from './ruby-expr/ruby-time.ts';
import { hashGet, toS } from './ruby-expr/value.ts';

type Ref =
  | { readonly k: 'tag' | 'hostname' | 'time'; readonly text: string }
  | { readonly k: 'tag_parts' | 'tag_prefix' | 'tag_suffix'; readonly index: number; readonly text: string }
  | { readonly k: 'record'; readonly key: string; readonly text: string }
  | { readonly k: 'unknown'; readonly text: string };

// The two patterns of PlaceholderExpander#expand.
const SINGLE = /^(\$\{[^}]+\}|__[A-Z_]+__)$/;
const ANY = /\$\{[^}]+\}|__[A-Z_]+__/g;
// `"#{key}[#{idx}]"`: idx is a canonical Integer#to_s, 0.. or -1..
const LIST = /^\$\{(tag_parts|tag_prefix|tag_suffix)\[(0|-?[1-9][0-9]*)\]\}$/;
const RECORD = /^\$\{record\["([\s\S]*)"\]\}$/;

/** Sentinel for "not in Fluentd's placeholder table". */
const UNKNOWN = Symbol('unknown placeholder');

function classify(text: string): Ref {
  if (text === '${tag}') return { k: 'tag', text };
  if (text === '${hostname}') return { k: 'hostname', text };
  if (text === '${time}') return { k: 'time', text };
  const list = LIST.exec(text);
  if (list) return { k: list[1] as 'tag_parts', index: Number(list[2]), text };
  const rec = RECORD.exec(text);
  if (rec) return { k: 'record', key: rec[1], text };
  return { k: 'unknown', text };
}

export class PlaceholderTemplate {
  /** Literal text and placeholders, in order; a lone Ref when the whole value is one (typed result). */
  readonly #segments: (string | Ref)[] = [];
  readonly #single: Ref | undefined;
  /** Set when the value has no placeholder at all. */
  readonly constant: string | undefined;

  /** `stringify` = Fluentd's force_stringify (keys) or auto_typecast false. */
  constructor(value: string, stringify: boolean) {
    const whole = stringify ? null : SINGLE.exec(value);
    this.#single = whole ? classify(whole[1]) : undefined;
    let last = 0;
    for (const m of value.matchAll(ANY)) {
      if (m.index > last) this.#segments.push(value.slice(last, m.index));
      this.#segments.push(classify(m[0]));
      last = m.index + m[0].length;
    }
    if (last < value.length) this.#segments.push(value.slice(last));
    this.constant = this.#segments.every((s) => typeof s === 'string') ? value : undefined;
  }

  expand(scope: Scope, log: Logger): JsonValue {
    if (this.constant !== undefined) return this.constant;
    if (this.#single !== undefined) {
      const v = resolve(this.#single, scope);
      if (v !== UNKNOWN) return v;
      warnUnknown(log, this.#single);
      return null;
    }
    let out = '';
    for (const seg of this.#segments) {
      if (typeof seg === 'string') {
        out += seg;
        continue;
      }
      const v = resolve(seg, scope);
      if (v === UNKNOWN) warnUnknown(log, seg);
      else out += toS(v); // gsub's block result goes through #to_s; nil → ""
    }
    return out;
  }
}

function warnUnknown(log: Logger, ref: Ref): void {
  log.warn(`unknown placeholder \`${ref.text}\` found`);
}

function resolve(ref: Ref, scope: Scope): JsonValue | typeof UNKNOWN {
  switch (ref.k) {
    case 'tag':
      return scope.tag;
    case 'hostname':
      return scope.hostname;
    case 'time':
      // PlaceholderExpander#time_value: Time.at(time).to_s, process zone.
      return new RubyTime(scope.eventTime.sec, scope.eventTime.nsec, scope.localZone, false).toS();
    case 'tag_parts':
    case 'tag_prefix':
    case 'tag_suffix': {
      const list = ref.k === 'tag_parts' ? scope.tagParts : ref.k === 'tag_prefix' ? scope.tagPrefix : scope.tagSuffix;
      const i = ref.index < 0 ? list.length + ref.index : ref.index;
      return ref.index < list.length && i >= 0 ? list[i] : UNKNOWN;
    }
    case 'record': {
      const v = hashGet(scope.record, ref.key);
      return v === undefined ? UNKNOWN : v;
    }
    case 'unknown':
      return UNKNOWN;
  }
}
