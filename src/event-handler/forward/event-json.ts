// The POST body: `e.Unstructured.MarshalJSON()` in upstream, i.e. Go protojson of a
// google.protobuf.Struct (docs/compatibility-event-handler.md §3 "Request"). protojson writes map keys —
// and a Struct is a map — sorted, numbers as float64 in JavaScript's own shortest form (Go's
// 'f'/'e' switch at 1e-6 and 1e21 is the same as ECMAScript's), and escapes DEL (0x7f) as
// \u007f where JSON.stringify leaves it. Go adds random whitespace on purpose; we write none.
import type { JsonObject, JsonValue } from '@bufbuild/protobuf';

const DEL = /\x7f/g;

function writeString(s: string): string {
  const json = JSON.stringify(s);
  return json.includes('\x7f') ? json.replace(DEL, '\\u007f') : json;
}

function write(v: JsonValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
      return writeString(v);
    case 'number':
    case 'boolean':
      return String(v);
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i === 0 ? '' : ',') + write(v[i]);
    return out + ']';
  }
  return writeObject(v as JsonObject);
}

function writeObject(o: JsonObject): string {
  const keys = Object.keys(o).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    out += (i === 0 ? '' : ',') + writeString(k) + ':' + write(o[k] as JsonValue);
  }
  return out + '}';
}

/** The event JSON exactly as upstream POSTs it (compact). */
export function eventBody(unstructured: JsonObject | undefined): string {
  return unstructured === undefined ? '{}' : writeObject(unstructured);
}
