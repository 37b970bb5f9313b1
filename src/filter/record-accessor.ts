// remove_keys entries are Fluentd record accessors
// (lib/fluent/plugin_helper/record_accessor.rb): `key`, `$.a.b`, `$.a[0]`,
// `$['a']['b c']`. Parsed at configure; the syntax errors keep Fluentd's text.

import { ConfigError } from '../params/errors.ts';
import type { SourcePos } from '../params/element.ts';
import { JsonFloat, OrderedObject } from '../value/json-value.ts';
import type { JsonRecord, JsonValue } from '../value/json-value.ts';

export type AccessorKey = string | number;

/** Accessor.parse_parameter: a plain key, or the key path of `$.` / `$[` notation. */
export function parseAccessor(param: string, pos: SourcePos): AccessorKey[] {
  const bad = (why: string) => new ConfigError('AR_CONF_BAD_VALUE', pos, `remove_keys: ${why}`);
  if (param.startsWith('$.')) {
    const result: AccessorKey[] = [];
    for (const key of param.slice(2).split('.')) {
      if (!key.includes('[')) {
        result.push(key);
        continue;
      }
      const start = key.indexOf('[');
      if (start > 0) result.push(key.slice(0, start));
      let rest = key.slice(start + 1);
      let inBracket = true;
      while (rest !== '') {
        const i = rest.indexOf(inBracket ? ']' : '[');
        if (inBracket) {
          if (i < 0) throw bad(`'[' found but ']' not found. Invalid syntax: ${param}`);
          result.push(integer(rest.slice(0, i), param, bad));
        } else if (i < 0) {
          throw bad(`found more characters after ']'. Invalid syntax: ${param}`);
        }
        rest = rest.slice(i + 1);
        inBracket = !inBracket;
      }
    }
    if (result.length === 0) throw bad('empty keys in dot notation');
    for (const k of result) {
      if (typeof k === 'string' && /\s/.test(k)) {
        throw bad(`whitespace character is not allowed in dot notation. Use bracket notation: ${k}`);
      }
    }
    return result;
  }
  if (param.startsWith('$[')) {
    const result: AccessorKey[] = [];
    let rest = param.slice(1);
    let inBracket = false;
    while (rest !== '') {
      if (!inBracket) {
        const i = rest.indexOf('[');
        if (i < 0) throw bad(`found more characters after ']'. Invalid syntax: ${param}`);
        rest = rest.slice(i + 1);
        inBracket = true;
      } else if (rest[0] === "'" || rest[0] === '"') {
        let i = rest.indexOf("']");
        if (i < 0) i = rest.indexOf('"]');
        if (i < 0) throw bad(`Incomplete bracket. Invalid syntax: ${param}`);
        if (rest[0] !== rest[i]) throw bad(`Mismatched quotes. Invalid syntax: ${param}`);
        result.push(rest.slice(1, i));
        rest = rest.slice(i + 2);
        inBracket = false;
      } else {
        const i = rest.indexOf(']');
        if (i < 0) throw bad(`'[' found but ']' not found. Invalid syntax: ${param}`);
        result.push(integer(rest.slice(0, i), param, bad));
        rest = rest.slice(i + 1);
        inBracket = false;
      }
    }
    if (result.length === 0) throw bad('empty keys in bracket notation');
    return result;
  }
  return [param];
}

function integer(text: string, param: string, bad: (why: string) => ConfigError): number {
  // Kernel#Integer: optional sign, digits, underscores between digits.
  if (!/^\s*[+-]?\d+(?:_\d+)*\s*$/.test(text)) throw bad(`invalid value for Integer(): "${text}" in ${param}`);
  return Number(text.replaceAll('_', ''));
}

function child(container: JsonValue | undefined, key: AccessorKey): JsonValue | undefined {
  if (Array.isArray(container)) {
    if (typeof key !== 'number') return undefined;
    return container[key < 0 ? container.length + key : key];
  }
  if (container instanceof OrderedObject) return typeof key === 'string' ? container.get(key) : undefined;
  if (container !== null && typeof container === 'object' && !(container instanceof JsonFloat)) {
    const obj = container as Record<string, JsonValue>;
    return typeof key === 'string' && Object.hasOwn(obj, key) ? obj[key] : undefined;
  }
  return undefined;
}

function shallowCopy(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.slice();
  if (v instanceof OrderedObject) return new OrderedObject(v);
  return { ...(v as Record<string, JsonValue>) };
}

function setChild(container: JsonValue, key: AccessorKey, value: JsonValue): void {
  if (Array.isArray(container)) container[(key as number) < 0 ? container.length + (key as number) : (key as number)] = value;
  else if (container instanceof OrderedObject) container.set(key as string, value);
  else (container as Record<string, JsonValue>)[key as string] = value;
}

function deleteChild(container: JsonValue, key: AccessorKey): void {
  if (Array.isArray(container)) {
    if (typeof key !== 'number') return;
    const i = key < 0 ? container.length + key : key;
    if (i >= 0 && i < container.length) container.splice(i, 1);
  } else if (container instanceof OrderedObject) {
    if (typeof key === 'string') container.delete(key);
  } else if (typeof key === 'string') {
    delete (container as Record<string, JsonValue>)[key];
  }
}

/**
 * Accessor#delete / #delete_nest on the filter's output record. Nested
 * containers are copied along the path before the delete: Fluentd's shallow
 * `record.dup` lets it mutate the input's nested Hash, which here could be seen
 * by other consumers of the same input record.
 */
export function deletePath(record: JsonRecord, path: readonly AccessorKey[]): void {
  if (path.length === 1) {
    deleteChild(record, path[0]);
    return;
  }
  // r.dig(*dig_keys) must reach an Array or Hash; anything else is a no-op (Fluentd rescues).
  const trail: JsonValue[] = [record];
  let cur: JsonValue | undefined = record;
  for (let i = 0; i < path.length - 1; i++) {
    cur = child(cur, path[i]);
    if (cur === undefined || cur === null || typeof cur !== 'object') return;
    trail.push(cur);
  }
  const last = trail[trail.length - 1];
  if (child(last, path[path.length - 1]) === undefined) return;
  // copy-on-write from the record down to the container that loses the key
  let parent: JsonValue = record;
  for (let i = 0; i < path.length - 1; i++) {
    const copy = shallowCopy(trail[i + 1]);
    setChild(parent, path[i], copy);
    parent = copy;
  }
  deleteChild(parent, path[path.length - 1]);
}
