// filter_record_transformer (docs/compatibility.md §4, O6; Fluentd's
// lib/fluent/plugin/filter_record_transformer.rb). Per event:
//   new_record = renew_record ? {} (+ keep_keys) : record.dup
//   new_record.merge!(expanded <record> map)     existing keys in place, new keys last
//   renew_time_key → event time = Time.at(value.to_f)
//   remove_keys deleted
// An expansion error drops the event and hands it to emit_error_event.

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Event, Filter, PluginContext } from '../plugin-api.ts';
import { OrderedObject } from '../value/json-value.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { EventTime } from '../time/event-time.ts';
import { localZone, UTC } from '../time/zone.ts';
import { rubyError } from './errors.ts';
import { RecordMap, keyNeedsMap, setKey } from './record-map.ts';
import { deletePath, parseAccessor } from './record-accessor.ts';
import type { AccessorKey } from './record-accessor.ts';
import { Scope } from './ruby-expr/evaluate.ts';
import { RubyTime } from './ruby-expr/ruby-time.ts';
import { floatValue, hashGet, toF } from './ruby-expr/value.ts';

export const params = {
  remove_keys: { type: 'array', desc: 'Keys to delete after the merge; record_accessor syntax ($.a.b) allowed.' },
  keep_keys: { type: 'array', desc: 'With renew_record: keys copied from the incoming record.' },
  renew_record: { type: 'bool', default: false, desc: 'Start from an empty record instead of a copy of the incoming one.' },
  renew_time_key: { type: 'string', desc: 'Field whose value (Unix time, to_f) becomes the event time.' },
  enable_ruby: { type: 'bool', default: false, desc: 'Evaluate ${...} as Ruby (a safe subset here: see src/filter/ruby-expr).' },
  auto_typecast: { type: 'bool', default: true, desc: 'A value that is exactly one ${...} keeps the result type instead of becoming a String.' },
} as const satisfies ParamSchema;

export class RecordTransformerFilter implements Filter {
  static readonly type = 'record_transformer';

  readonly #ctx: PluginContext;
  readonly #map: RecordMap;
  readonly #scope: Scope;
  readonly #renewRecord: boolean;
  readonly #keepKeys: readonly string[];
  readonly #keepKeysNeedMap: boolean;
  readonly #renewTimeKey: string | undefined;
  readonly #removePaths: readonly (readonly AccessorKey[])[];
  #lastTag: string | undefined;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m: string) => ctx.log.warn(m));
    this.#ctx = ctx;
    if (p.keep_keys !== undefined && !p.renew_record) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('keep_keys')?.pos ?? element.pos,
        '`renew_record` must be true to use `keep_keys`; add `renew_record true` or use remove_keys instead');
    }
    this.#renewRecord = p.renew_record;
    this.#keepKeys = p.renew_record ? (p.keep_keys ?? []) : [];
    this.#keepKeysNeedMap = this.#keepKeys.some(keyNeedsMap);
    this.#renewTimeKey = p.renew_time_key;
    const removePos = element.params.get('remove_keys')?.pos ?? element.pos;
    this.#removePaths = (p.remove_keys ?? []).map((k) => parseAccessor(k, removePos));
    this.#map = new RecordMap(element.sections('record'), {
      enableRuby: p.enable_ruby,
      autoTypecast: p.auto_typecast,
      log: ctx.log,
    });
    // Resolved once: Fluentd's Time.at uses the process zone (O6).
    this.#scope = new Scope(ctx.hostname, ctx.workerId, localZone());
  }

  filter(tag: string, events: Event[]): Event[] {
    if (tag !== this.#lastTag) this.#setTag(tag);
    const scope = this.#scope;
    const out: Event[] = [];
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      try {
        scope.setEvent(ev.time, ev.record);
        const record = this.#reform(ev.record);
        let time = ev.time;
        if (this.#renewTimeKey !== undefined) {
          const v = hashGet(record, this.#renewTimeKey);
          if (v !== undefined) time = eventTimeFromFloat(floatValue(toF(v)));
        }
        for (const path of this.#removePaths) deletePath(record, path);
        out.push({ time, record });
      } catch (e) {
        this.#ctx.emitErrorEvent(tag, ev.time, ev.record, e instanceof Error ? e : new Error(String(e)));
      }
    }
    return out;
  }

  #reform(record: JsonRecord): JsonRecord {
    let out: JsonRecord;
    if (this.#renewRecord) {
      out = this.#keepKeysNeedMap ? new OrderedObject() : {};
      for (const k of this.#keepKeys) {
        const v = hashGet(record, k);
        if (v !== undefined) out = setKey(out, k, v, false);
      }
    } else {
      out = record instanceof OrderedObject ? new OrderedObject(record) : { ...record };
    }
    return this.#map.merge(out, this.#scope);
  }

  // tag_parts / tag_prefix / tag_suffix as filter_stream builds them, once per tag.
  #setTag(tag: string): void {
    const parts = tag.split('.');
    while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop(); // Ruby's String#split drops trailing empties
    const prefix: string[] = [];
    const suffix: string[] = new Array<string>(parts.length);
    for (let i = 0; i < parts.length; i++) prefix.push(i === 0 ? parts[0] : `${prefix[i - 1]}.${parts[i]}`);
    for (let i = parts.length - 1; i >= 0; i--) suffix[i] = i === parts.length - 1 ? parts[i] : `${parts[i]}.${suffix[i + 1]}`;
    this.#scope.tag = tag;
    this.#scope.tagParts = parts;
    this.#scope.tagPrefix = prefix;
    this.#scope.tagSuffix = suffix;
    this.#lastTag = tag;
  }
}

// Fluent::EventTime.from_time(Time.at(f)): Ruby rejects NaN and ±Infinity.
function eventTimeFromFloat(f: number): EventTime {
  if (!Number.isFinite(f)) throw rubyError('FloatDomainError', String(f));
  const t = RubyTime.fromFloat(f, UTC); // only the instant matters here
  return new EventTime(t.sec, t.nsec);
}
