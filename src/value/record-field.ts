// Reading one key of a record, whichever shape the JSON decoder gave it
// (plain object, or OrderedObject when keys are integer-like).
import { OrderedObject, type JsonRecord, type JsonValue } from './json-value.ts';

export function fieldOf(record: JsonRecord, key: string): JsonValue | undefined {
  if (record instanceof OrderedObject) return record.get(key);
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

export function entriesOf(record: JsonRecord): Iterable<[string, JsonValue]> {
  return record instanceof OrderedObject ? record.entries() : Object.entries(record);
}
