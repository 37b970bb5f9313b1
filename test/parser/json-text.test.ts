// parseJson must accept exactly what Oj.load (compat mode, bigdecimal_load :float)
// accepts and give the values Ruby would hold (docs/compatibility.md §3, O3, O4; ohler55/oj
// ext/oj/parse.c, compat.c). Expectations come from Oj's source, not from our code.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isPlainJson, JsonSyntaxError, parseJson, parseJsonExact } from '../../src/parser/json-text.ts';
import { JsonFloat, OrderedObject, type JsonValue } from '../../src/value/json-value.ts';

const fixture = new URL('../fixtures/teleport-events.jsonl', import.meta.url);
const f = (v: number) => new JsonFloat(v);

test('O4 record: Ruby value types (Float, Integer of any size, decoded strings)', () => {
  const text = String.raw`{"f1":1.0,"f2":1e-05,"f3":0.1,"f4":-0.0,"f5":1.5e300,"big":12345678901234567890,"neg":-9223372036854775809,"i64":9223372036854775807,"u":"héllo \u00e9 \u65e5\u672c","emoji":"\ud83d\ude00 😀","esc":"a\"b\\c\/d\n\t\u0001","nested":{"a":{"b":[1,2,{"c":null}]},"t":true,"f":false},"empty":{},"arr":[]}`;
  assert.deepEqual(parseJson(text), {
    f1: f(1), f2: 1e-5, f3: 0.1, f4: f(-0), f5: f(1.5e300),
    big: 12345678901234567890n, neg: -9223372036854775809n, i64: 9223372036854775807n,
    u: 'héllo é 日本', emoji: '😀 😀', esc: 'a"b\\c/d\n\t\u0001',
    nested: { a: { b: [1, 2, { c: null }] }, t: true, f: false }, empty: {}, arr: [],
  });
});

test('numbers: Integer vs Float as Oj read_num decides', () => {
  for (const [text, want] of [
    ['0.0', f(0)], ['1.0', f(1)], ['1e-5', 1e-5], ['1E-5', 1e-5], ['0.1', 0.1], ['-0.0', f(-0)],
    ['1.5e300', f(1.5e300)], ['1e16', f(1e16)], ['1e15', f(1e15)], ['123456789.0', f(123456789)],
    ['1e20', f(1e20)], ['1e2', f(100)], ['1E+2', f(100)], ['5e-324', 5e-324], ['0.000123', 0.000123],
    ['9007199254740991', 9007199254740991], ['9007199254740992', 9007199254740992n],
    ['-9007199254740992', -9007199254740992n], ['1234567890123456', 1234567890123456],
    ['12345678901234567890', 12345678901234567890n], ['-9223372036854775809', -9223372036854775809n],
    ['-0', 0], ['0', 0], ['-7', -7], ['1e-400', f(0)],
    ['0.30000000000000004', 0.30000000000000004], ['1.00000000000000000000000001', f(1)],
  ] as [string, JsonValue][]) {
    assert.deepStrictEqual(parseJson(`[${text}]`), [want], text);
    assert.deepStrictEqual(parseJson(text), want, text);
  }
});

test('Oj compat extensions that must be accepted', () => {
  for (const [text, want] of [
    ['123', 123], ['"str"', 'str'], ['null', null], ['true', true], ['false', false], ['{}', {}], ['[]', []],
    [' \t\r\n{"a":1}\n\n ', { a: 1 }],
    ['\f{"a":\f1}\f', { a: 1 }], // form feed is whitespace in next_non_white
    ['/* c */{"a"/**/:// line\n1}', { a: 1 }],
    ['{"a":1 // to the end of the line\r}', { a: 1 }],
    ['"raw\ttab\u0001"', 'raw\ttab\u0001'], // raw control characters inside strings
    [String.raw`"\q\'\a"`, "q'a"], // unknown escapes keep the character (json gem compat)
    ['[00,-00,00.5]', [0, 0, 0.5]], // zero1 is only refused before a non-zero digit
    ['-', 0], ['[-]', [0]], // a bare '-' is Integer 0 (read_num with no digits)
    ['{"a":1}\u0000 anything', { a: 1 }], // Oj stops at the NUL of its C string
    [String.raw`"\u0000"`, '\u0000'],
  ] as [string, JsonValue][]) {
    assert.deepStrictEqual(parseJson(text), want, JSON.stringify(text));
  }
});

test('deliberate difference: NaN, Infinity and overflowing numbers are refused (Oj would write bare words)', () => {
  for (const text of ['NaN', '[Infinity]', '{"a":-Infinity}', 'nan', '-NaN', '1e400', '[-1e400]']) {
    assert.throws(() => parseJson(text), { code: 'AR_JSON_SYNTAX' }, text);
  }
});

test('key order: integer-like keys keep input order in an OrderedObject', () => {
  const v = parseJson('{"b":1,"2":2,"a":3}');
  assert.ok(v instanceof OrderedObject);
  assert.deepEqual([...v], [['b', 1], ['2', 2], ['a', 3]]);
  const nested = parseJson('{"x":{"10":1,"9":2},"y":[{"0":true}]}') as Record<string, JsonValue>;
  assert.deepEqual([...(nested.x as OrderedObject).keys()], ['10', '9']);
  assert.ok((nested.y as JsonValue[])[0] instanceof OrderedObject);
  // Not array indices: V8 keeps their order anyway, so plain objects are fine.
  for (const text of ['{"b":1,"01":2}', '{"b":1,"-1":2}', '{"b":1,"4294967295":2}', '{"b":1,"1.5":2}']) {
    const o = parseJson(text);
    assert.ok(!(o instanceof OrderedObject), text);
    assert.deepEqual(Object.keys(o as object), Object.keys(JSON.parse(text)), text);
  }
  const escaped = parseJson(String.raw`{"b":1,"\u0031":2}`);
  assert.ok(escaped instanceof OrderedObject);
  assert.deepEqual([...escaped.keys()], ['b', '1']);
});

test('duplicate keys: last value wins at the first key position', () => {
  for (const [text, keys, values] of [
    ['{"a":1,"b":2,"a":3}', ['a', 'b'], [3, 2]],
    ['{"a":1.5,"b":2,"a":{"c":1}}', ['a', 'b'], [{ c: 1 }, 2]],
    ['{"1":1,"b":2,"1":3}', ['1', 'b'], [3, 2]],
    ['{"b":0,"a":1,"2":2,"a":3}', ['b', 'a', '2'], [0, 3, 2]],
  ] as [string, string[], JsonValue[]][]) {
    const v = parseJson(text);
    const entries = v instanceof OrderedObject ? [...v] : Object.entries(v as object);
    assert.deepEqual(entries.map((e) => e[0]), keys, text);
    assert.deepEqual(entries.map((e) => e[1]), values, text);
  }
});

test('__proto__ is an ordinary key (as in JSON.parse), also on the exact path', () => {
  for (const text of ['{"__proto__":{"x":1},"y":2}', '{"__proto__":{"x":1},"y":2.5}']) {
    const v = parseJson(text) as Record<string, JsonValue>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype, text);
    assert.deepEqual(Object.keys(v), ['__proto__', 'y'], text);
    assert.deepEqual(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, { x: 1 });
  }
});

test('strings: escapes and surrogates', () => {
  for (const [text, want] of [
    [String.raw`"\u2028\u2029"`, '\u2028\u2029'],
    ['"é/"', 'é/'],
    [String.raw`"\/"`, '/'],
    [String.raw`"\u0001\b\f\n\r\t\"\\"`, '\u0001\b\f\n\r\t"\\'],
    [String.raw`"\ud83d\ude00"`, '😀'],
    [String.raw`"\uD83D\uDE00x"`, '😀x'],
    ['"😀 raw"', '😀 raw'],
    [String.raw`"a\u00e9b"`, 'aéb'],
    // parse.c combines a surrogate with ANY following \u escape arithmetically:
    // ((hi-0xD800)&0x3FF)<<10 | ((lo-0xDC00)&0x3FF), + 0x10000.
    [String.raw`"\ud800\u0041"`, String.fromCodePoint(0x10041)],
    [String.raw`"\udc00\ud800"`, String.fromCodePoint(0x10000)],
  ] as [string, string][]) {
    assert.equal(parseJson(text), want, text);
    // The same string on the exact path (the float forces it).
    assert.deepStrictEqual(parseJson(`{"k":${text},"n":1.5}`), { k: want, n: 1.5 }, text);
  }
});

test('invalid inputs throw JsonSyntaxError AR_JSON_SYNTAX', () => {
  for (const text of [
    '', ' ', '\n\t', '\uFEFF{}', // empty, whitespace only, BOM (Oj does not skip it for strings)
    '{"a":', '{"a":1', '{"a"', '{', '[', '[1,2', '"abc', '{"a":"b', 'tru', 'nul', 'fals', // truncated
    '{"a":1} xyz', '{"a":1}{}', '[] []', '1 2', '{"a":1}/*c*/', '{"a":1}//c', '"a"x', '1x', 'nulll', // trailing garbage
    '}', ']', ',', ':', '{]', '[}', // lone structure
    '[1,]', '{"a":1,}', '{,}', '[,1]', '{"a" 1}', '[1 2]', '{1:2}', '{"a":1 "b":2}', '{"a"::1}',
    '01', '-01', '0000000000000000001', '1.', '.5', '-.5', '1.e5', '1e', '1e+', '-e5', '+1', '0x10', 'Infinit', '-Inf', 'nax', 'NAN1',
    "'a'", String.raw`"\u00g0"`, String.raw`"\u12"`, String.raw`"\ud800"`, String.raw`"\ud800x"`,
    String.raw`"\udc00"`, String.raw`"\ud83d\u"`, '"a\u0000b"', '"a\\', '/ {}', '/* {}', 'undefined', '\u0000{}',
  ]) {
    assert.throws(() => parseJson(text), (err: unknown) => {
      assert.ok(err instanceof JsonSyntaxError, JSON.stringify(text));
      assert.equal(err.code, 'AR_JSON_SYNTAX');
      assert.ok(err.offset >= 0 && err.offset <= text.length, `offset of ${JSON.stringify(text)}`);
      return true;
    }, JSON.stringify(text));
  }
});

test('error message names the place', () => {
  assert.throws(() => parseJson('{"a":1,\n "b":]'), { code: 'AR_JSON_SYNTAX', message: /line 2, column 6/ });
});

test('deep nesting is accepted (Oj compat has no max depth), fast and exact paths', () => {
  const depth = 50_000;
  for (const leaf of ['1', '1.5']) {
    const text = '['.repeat(depth) + leaf + ']'.repeat(depth) + ' ';
    let v = parseJson(text);
    let n = 0;
    while (Array.isArray(v)) { v = v[0]; n++; }
    assert.equal(n, depth);
    assert.deepStrictEqual(v, leaf === '1' ? 1 : 1.5);
  }
  const objects = '{"a":'.repeat(depth) + '1.0' + '}'.repeat(depth);
  let o = parseJson(objects) as JsonValue;
  let m = 0;
  while (o !== null && typeof o === 'object' && !(o instanceof JsonFloat)) { o = (o as Record<string, JsonValue>).a; m++; }
  assert.equal(m, depth);
  assert.deepStrictEqual(o, f(1));
});

test('fast path: every Teleport fixture event is plain JSON', () => {
  const lines = readFileSync(fixture, 'utf8').split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0);
  for (const line of lines) {
    assert.equal(isPlainJson(line), true, line.slice(0, 80));
    assert.deepStrictEqual(parseJson(line), JSON.parse(line));
    assert.deepStrictEqual(parseJsonExact(line), JSON.parse(line));
  }
  // Dotted strings, timestamps and addresses inside strings do not count as numbers.
  assert.equal(isPlainJson('{"t":"2024-02-23T18:56:57.648137154Z","a":"1.2.3.4:50339","e":"1e5","n":12}'), true);
});

test('fast path is refused for everything JSON.parse would get wrong', () => {
  for (const text of [
    '{"a":1.0}', '{"a":1e5}', '{"a":1E5}', '[0.5]', '[1234567890123456]', '[-1234567890123456]', '[-0]',
    '{"1":1}', '{"b":1, "2" :2}', String.raw`{"\u0031":1}`, String.raw`["\ud800"]`, String.raw`["x\uDE00"]`,
    String.raw`{"a":"\"", "0":1}`,
  ]) {
    assert.equal(isPlainJson(text), false, text);
  }
});

test('fast and exact paths agree on random documents', () => {
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; };
  const strings = ['', 'a', '1', '12', '0', 'é', '😀', '\u2028', 'x"y', 'b\\s', '\n', '1.5', '__proto__', 'k'];
  const numbers = ['0', '-0', '1', '-12', '1.0', '0.1', '-2.5e-7', '1e21', '9007199254740993', '123456789012345678901234', '7'];
  const gen = (d: number): string => {
    const k = rnd(d > 4 ? 4 : 7);
    if (k === 0) return numbers[rnd(numbers.length)];
    if (k === 1) return JSON.stringify(strings[rnd(strings.length)]);
    if (k === 2) return ['true', 'false', 'null'][rnd(3)];
    if (k === 3) return String(rnd(1000));
    if (k === 4) { const n = rnd(4); const a: string[] = []; for (let i = 0; i < n; i++) a.push(gen(d + 1)); return `[${a.join(',')}]`; }
    const n = rnd(5); const a: string[] = [];
    for (let i = 0; i < n; i++) a.push(JSON.stringify(strings[rnd(strings.length)]) + ':' + gen(d + 1));
    return `{${a.join(',')}}`;
  };
  for (let i = 0; i < 3000; i++) {
    const text = gen(0);
    assert.deepStrictEqual(parseJson(text), parseJsonExact(text), text);
  }
});
