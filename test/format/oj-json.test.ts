// ojDump must write the bytes Oj.dump writes in compat mode (docs/compatibility.md §7, O4, O5;
// ohler55/oj ext/oj/oj.c dump(), dump_compat.c dump_float, dump.c JSONEsc table,
// Ruby numeric.c flo_to_s). Expectations are Ruby/Oj output, not our code's.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { JsonDumpError, ojDump, ojDumpLine, rubyFloatToS } from '../../src/value/oj-json.ts';
import { parseJson } from '../../src/parser/json-text.ts';
import { JsonFloat, OrderedObject, type JsonValue } from '../../src/value/json-value.ts';

const fixture = new URL('../fixtures/teleport-events.jsonl', import.meta.url);
const f = (v: number) => new JsonFloat(v);

test('O4: the observed Fluentd record, byte for byte', () => {
  const input = String.raw`{"f1":1.0,"f2":1e-05,"f3":0.1,"f4":-0.0,"f5":1.5e300,"big":12345678901234567890,"neg":-9223372036854775809,"i64":9223372036854775807,"u":"héllo \u00e9 \u65e5\u672c","emoji":"\ud83d\ude00 😀","esc":"a\"b\\c\/d\n\t\u0001","nested":{"a":{"b":[1,2,{"c":null}]},"t":true,"f":false},"empty":{},"arr":[]}`;
  const want = String.raw`{"f1":1.0,"f2":1.0e-05,"f3":0.1,"f4":0.0,"f5":1.5e+300,"big":12345678901234567890,"neg":-9223372036854775809,"i64":9223372036854775807,"u":"héllo é 日本","emoji":"😀 😀","esc":"a\"b\\c/d\n\t\u0001","nested":{"a":{"b":[1,2,{"c":null}]},"t":true,"f":false},"empty":{},"arr":[]}`;
  assert.equal(ojDump(parseJson(input)), want);
  assert.equal(Buffer.byteLength(ojDumpLine(parseJson(input))), Buffer.byteLength(want) + 1);
  // O5: the S3 line of the same record with record_transformer's "time":null appended.
  assert.equal(ojDumpLine({ message: 'hello', n: 1, time: null }), '{"message":"hello","n":1,"time":null}\n');
});

test('floats: dump_float (%.1f for integral doubles in long long range, else Float#to_s)', () => {
  for (const [value, want] of [
    [f(0), '0.0'], [f(-0), '0.0'], [f(1), '1.0'], [1e-5, '1.0e-05'], [0.1, '0.1'], [-0.5, '-0.5'],
    [f(1.5e300), '1.5e+300'], [f(-1.5e300), '-1.5e+300'],
    [f(1e16), '10000000000000000.0'], [f(1e15), '1000000000000000.0'], [f(123456789), '123456789.0'],
    [f(1e20), '1.0e+20'], [f(1e100), '1.0e+100'], [5e-324, '5.0e-324'], [-5e-324, '-5.0e-324'],
    [0.000123, '0.000123'], [1e-4, '0.0001'], [9e-5, '9.0e-05'], [1.2345e-7, '1.2345e-07'],
    [f(2 ** 53), '9007199254740992.0'], [f(2 ** 62), '4611686018427387904.0'],
    [f(-(2 ** 63)), '-9223372036854775808.0'], [f(2 ** 63), '9.223372036854776e+18'],
    [f(2 ** 64), '1.8446744073709552e+19'], [123.456, '123.456'], [1 / 3, '0.3333333333333333'],
    [1234567890123456.8, '1234567890123456.8'], [0.30000000000000004, '0.30000000000000004'],
    [f(-100), '-100.0'], [2.5e-300, '2.5e-300'],
    // oj.c dump(): compat mode sets nan_dump = WordNan, so these are words, not an error.
    [NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity'], [f(NaN), 'NaN'],
  ] as [JsonValue, string][]) {
    assert.equal(ojDump(value), want, `${String(value instanceof JsonFloat ? value.value : value)}`);
    assert.equal(ojDump([value]), `[${want}]`);
  }
});

test('integers: exact, any size', () => {
  for (const [value, want] of [
    [0, '0'], [-0, '0'], [42, '42'], [-7, '-7'], [9007199254740991, '9007199254740991'],
    [9007199254740992n, '9007199254740992'], [12345678901234567890n, '12345678901234567890'],
    [-9223372036854775809n, '-9223372036854775809'], [2 ** 60, '1152921504606846976'],
  ] as [JsonValue, string][]) {
    assert.equal(ojDump(value), want, want);
  }
});

test('parsed literals round-trip through Ruby types', () => {
  for (const [text, want] of [
    ['1.0', '1.0'], ['1e2', '100.0'], ['1E-5', '1.0e-05'], ['-0', '0'], ['-0.0', '0.0'],
    ['9007199254740993', '9007199254740993'], ['1.5', '1.5'], ['100', '100'], ['2.50', '2.5'],
  ]) {
    assert.equal(ojDump(parseJson(text)), want, text);
  }
});

test('rubyFloatToS: Float#to_s itself', () => {
  for (const [value, want] of [
    [0, '0.0'], [-0, '-0.0'], [100, '100.0'], [1e14, '100000000000000.0'], [1e15, '1.0e+15'], [1e16, '1.0e+16'],
    [1e-5, '1.0e-05'], [0.0001, '0.0001'], [1.5e300, '1.5e+300'], [1.234e20, '1.234e+20'], [NaN, 'NaN'], [-Infinity, '-Infinity'],
  ] as [number, string][]) {
    assert.equal(rubyFloatToS(value), want, want);
  }
});

test('strings: JSONEsc escaping', () => {
  for (const [value, want] of [
    ['\u2028\u2029', '"\u2028\u2029"'], ['é/', '"é/"'], ['/', '"/"'], ['\u0001', '"\\u0001"'], ['\u001f', '"\\u001f"'],
    ['\u000b', '"\\u000b"'], ['\u0000', '"\\u0000"'], ['\b\f\n\r\t', '"\\b\\f\\n\\r\\t"'], ['"\\', '"\\"\\\\"'],
    ['\u007f', '"\u007f"'], ['😀', '"😀"'], ['日本', '"日本"'], ['<&>\'', '"<&>\'"'],
    // A lone surrogate cannot be UTF-8: U+FFFD ("deliberately differs" table), not \ud800.
    ['a\ud800b', '"a\ufffdb"'], ['\udc00', '"\ufffd"'],
  ] as [string, string][]) {
    assert.equal(ojDump(value), want, JSON.stringify(value));
    assert.equal(ojDump({ [value]: 1 }), `{${want}:1}`, 'as key ' + JSON.stringify(value));
    // A Float next to it takes the hand-written loop instead of JSON.stringify.
    assert.equal(ojDump([value, f(1)]), `[${want},1.0]`, 'loop ' + JSON.stringify(value));
    assert.equal(ojDump({ [value]: f(1) }), `{${want}:1.0}`, 'loop, as key ' + JSON.stringify(value));
  }
});

test('key order is insertion order, integer-like keys included', () => {
  assert.equal(ojDump(parseJson('{"b":1,"2":2,"a":3}')), '{"b":1,"2":2,"a":3}');
  assert.equal(ojDump(new OrderedObject([['z', 1], ['10', f(2)], ['1', [new OrderedObject()]]])), '{"z":1,"10":2.0,"1":[{}]}');
  assert.equal(ojDump(parseJson('{"a":1,"b":2,"a":3}')), '{"a":3,"b":2}');
  assert.equal(ojDump(parseJson('{"__proto__":1,"x":2.5}')), '{"__proto__":1,"x":2.5}');
  assert.equal(ojDump({ b: [], a: {}, c: [null, true, false] }), '{"b":[],"a":{},"c":[null,true,false]}');
});

test('nesting: a container at depth 1000 raises (Oj MAX_DEPTH NestingError)', () => {
  const nest = (n: number, leaf: JsonValue): JsonValue => { let v = leaf; for (let i = 0; i < n; i++) v = [v]; return v; };
  assert.equal(ojDump(nest(1000, 1)), '['.repeat(1000) + '1' + ']'.repeat(1000));
  assert.throws(() => ojDump(nest(1000, [])), { code: 'AR_JSON_DUMP' }); // an empty one counts too
  assert.throws(() => ojDump(nest(1001, 1)), { code: 'AR_JSON_DUMP' });
  assert.throws(() => ojDump(nest(999, { a: {} })), { code: 'AR_JSON_DUMP' });
  assert.equal(ojDump(nest(999, { a: 1 })).length, 2 * 999 + 7);
});

test('values that are not JsonValues raise JsonDumpError', () => {
  for (const value of [undefined, () => 1, Symbol('s'), new Date(0), { a: undefined }, [new Uint8Array(1)]]) {
    assert.throws(() => ojDump(value as unknown as JsonValue), (err: unknown) => err instanceof JsonDumpError && err.code === 'AR_JSON_DUMP');
  }
});

test('Teleport fixture events dump as JSON.stringify does (no floats, plain strings)', () => {
  const lines = readFileSync(fixture, 'utf8').split('\n').filter((l) => l !== '');
  for (const line of lines) {
    const event = parseJson(line);
    assert.equal(ojDumpLine(event), JSON.stringify(JSON.parse(line)) + '\n');
    // The same event through the hand-written loop (a Float beside it forces it).
    assert.equal(ojDump([event, f(2)]), '[' + line + ',2.0]');
  }
});
