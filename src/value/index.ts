// The ground floor: what a record value is and how Fluentd (Oj, Ruby) prints it.
// Rule: modules in value/ import only node: builtins, each other, and
// src/errors.ts. errors.ts is the roof over everything and imports nothing of
// ours, so allowing it here cannot create an upward edge (test/structure/imports.test.ts).
// Every other folder may import value/; value/ imports none of them.

export { JsonFloat, OrderedObject } from './json-value.ts';
export type { JsonValue, JsonObject, JsonRecord } from './json-value.ts';
export { ojDump, ojDumpLine, rubyFloatToS, JsonDumpError, OJ_MAX_DEPTH } from './oj-json.ts';
export type { JsonDumpErrorCode } from './oj-json.ts';
export { rubyToS } from './ruby-to-s.ts';
export { fieldOf, entriesOf } from './record-field.ts';
export { editDistance, closestSpelling } from './suggest.ts';
