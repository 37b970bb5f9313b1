// The values a record can hold. JSON.parse alone cannot carry Fluentd's record
// faithfully (see docs/compatibility.md §3, §7, O4):
// - integers past 2^53 must stay exact          → bigint
// - `1.0` must print as `1.0`, not `1`          → JsonFloat (integral doubles only;
//   a non-integral JS number can only have come from a float, so it stays a number)
// - keys like "1" would be reordered by V8      → OrderedObject (a Map) for objects
//   that have integer-like keys; every other object is a plain object.

export class JsonFloat {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
}

export class OrderedObject extends Map<string, JsonValue> {}

export type JsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonFloat
  | JsonValue[]
  | JsonObject
  | OrderedObject;

export interface JsonObject {
  [key: string]: JsonValue;
}

/** A parsed record: Fluentd requires a Hash; scalars are rejected before they get here. */
export type JsonRecord = JsonObject | OrderedObject;
