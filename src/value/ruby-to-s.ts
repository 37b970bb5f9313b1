// Ruby's `value.to_s` for the text formatters (ltsv, single_value, csv), which
// print record values the way Ruby would. Hashes and arrays print as Ruby 3.4's
// `inspect` (`{"a" => 1}`), the Ruby of the fluentd:edge image.

import { JsonFloat, OrderedObject, type JsonValue } from './json-value.ts';
import { ojDump, rubyFloatToS } from './oj-json.ts';

export function rubyToS(value: JsonValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return rubyInspect(value);
}

function rubyInspect(value: JsonValue): string {
  if (value === null) return 'nil';
  switch (typeof value) {
    case 'string':
      return ojDump(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'number':
      return Number.isInteger(value) ? String(value) : rubyFloatToS(value);
  }
  if (value instanceof JsonFloat) return rubyFloatToS(value.value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ', ' : '') + rubyInspect(value[i]);
    return out + ']';
  }
  const entries = value instanceof OrderedObject ? [...value] : Object.entries(value);
  if (entries.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i];
    out += (i ? ', ' : '') + ojDump(k) + ' => ' + rubyInspect(v);
  }
  return out + '}';
}
