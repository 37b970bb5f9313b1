// Fluentd's parser time handling (lib/fluent/time.rb TimeParser / NumericTimeParser /
// MixedTimeParser; docs/compatibility.md §3 and O3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UTC, parseZone } from '../../src/time/zone.ts';
import { TimeParser, type TimeParserOptions } from '../../src/time/time-parser.ts';
import { Strftime } from '../../src/time/strftime.ts';
import { JsonFloat } from '../../src/value/json-value.ts';

const SEED = 1663786264; // 2022-09-21T18:51:04Z
const stdout = new Strftime('%Y-%m-%d %H:%M:%S.%N %z');

function parse(opts: TimeParserOptions, value: unknown): [number, number] {
  const t = new TimeParser({ localZone: UTC, ...opts }).parse(value);
  return [t.sec, t.nsec];
}

// O3: no time_type/time_format → json parser default time_type float.
for (const c of [
  { value: '2022-09-21T18:51:00.849Z' as unknown, out: [2022, 849], line: '1970-01-01 00:33:42.000000849 +0000' },
  { value: 1700000000, out: [1700000000, 0], line: '2023-11-14 22:13:20.000000000 +0000' },
  { value: 1700000000.5, out: [1700000000, 500000000], line: '2023-11-14 22:13:20.500000000 +0000' },
  { value: new JsonFloat(1700000000), out: [1700000000, 0] },
  { value: 1700000000n, out: [1700000000, 0] },
  { value: '1700000000', out: [1700000000, 0] },
  { value: '1700000000.1', out: [1700000000, 100000000] },
  { value: '1700000000.123456789', out: [1700000000, 123456789] },
  { value: '1700000000.1234567891', out: [1700000000, 1234567891] }, // nsec_s[0..9] keeps 10 chars
  { value: '1.2.3', out: [1, 200000000] },
  { value: 'abc', out: [0, 0] },
  { value: '', out: [0, 0] },
  { value: '.5', out: [0, 500000000] },
  { value: ' 12_3.5', out: [123, 500000000] },
  { value: new JsonFloat(1e-5), out: [1, 0] }, // "1.0e-05".split('.') → "1", "0e-05"
]) {
  test(`time_type float: ${typeof c.value === 'object' ? JSON.stringify((c.value as JsonFloat).value) + ' (Float)' : String(c.value)}`, () => {
    const t = new TimeParser({ localZone: UTC }).parse(c.value);
    assert.deepEqual([t.sec, t.nsec], c.out);
    if (c.line !== undefined) assert.equal(stdout.formatEventTime(t, UTC), c.line);
  });
}

for (const c of [
  { value: null, message: 'value must be a string or a number: (NilClass)' },
  { value: true, message: 'value must be a string or a number: true(TrueClass)' },
  { value: [1, 2], message: 'value must be a string or a number: [1, 2](Array)' },
  { value: { a: 1 }, message: 'value must be a string or a number: {"a" => 1}(Hash)' },
]) {
  for (const timeType of ['float', 'unixtime'] as const) {
    test(`time_type ${timeType} refuses ${JSON.stringify(c.value)}`, () => {
      assert.throws(() => parse({ timeType }, c.value), { code: 'AR_TIME_PARSE', message: c.message });
    });
  }
}

for (const c of [
  { value: '1700000000.9' as unknown, out: [1700000000, 0] },
  { value: 1700000000.9, out: [1700000000, 0] },
  { value: new JsonFloat(1700000000), out: [1700000000, 0] },
  { value: '  42abc', out: [42, 0] },
  { value: '1_000', out: [1000, 0] },
  { value: '-5', out: [-5, 0] },
  { value: 'abc', out: [0, 0] },
]) {
  test(`time_type unixtime: ${String(c.value instanceof JsonFloat ? c.value.value : c.value)}`, () => {
    assert.deepEqual(parse({ timeType: 'unixtime' }, c.value), c.out);
  });
}

// The seed config: time_type string, time_format %Y-%m-%dT%H:%M:%S.
const SEED_FORMAT = '%Y-%m-%dT%H:%M:%S';
for (const c of [
  { opts: {}, value: '2022-09-21T18:51:04.849Z', out: [SEED, 0] },
  { opts: {}, value: '2022-09-21T18:51:04', out: [SEED, 0] },
  { opts: { localZone: parseZone('Asia/Tokyo') }, value: '2022-09-21T18:51:04.849Z', out: [SEED - 32400, 0] },
  { opts: { timezone: '+09:00' }, value: '2022-09-21T18:51:04', out: [SEED - 32400, 0] },
  { opts: { timezone: 'Asia/Tokyo' }, value: '2022-09-21T18:51:04', out: [SEED - 32400, 0] },
  { opts: { timezone: '-0330', localZone: parseZone('Asia/Tokyo') }, value: '2022-09-21T18:51:04', out: [SEED + 12600, 0] },
  { opts: { utc: true, localZone: parseZone('Asia/Tokyo') }, value: '2022-09-21T18:51:04', out: [SEED, 0] },
  { opts: { localtime: false, localZone: parseZone('Asia/Tokyo') }, value: '2022-09-21T18:51:04', out: [SEED, 0] },
]) {
  test(`time_format seed ${JSON.stringify(c.opts)} <- ${c.value}`, () => {
    const opts: TimeParserOptions = { timeType: 'string', timeFormat: SEED_FORMAT, localZone: UTC, ...c.opts };
    const t = new TimeParser(opts).parse(c.value);
    assert.deepEqual([t.sec, t.nsec], c.out);
  });
}

test('time_format given without time_type means string', () => {
  assert.deepEqual(parse({ timeFormat: SEED_FORMAT }, '2022-09-21T18:51:04.849Z'), [SEED, 0]);
});

test('%z in time_format: the text decides, timezone is not applied', () => {
  const opts = { timeFormat: '%Y-%m-%dT%H:%M:%S%z', timezone: '+09:00' };
  assert.deepEqual(parse(opts, '2022-09-21T18:51:04+0000'), [SEED, 0]);
  assert.deepEqual(parse(opts, '2022-09-21T18:51:04Z'), [SEED, 0]);
});

test('Time.strptime fallback with %L and timezone', () => {
  assert.deepEqual(parse({ timeFormat: '%Y-%m-%dT%H:%M:%S.%L', timezone: '+09:00' }, '2022-09-21T18:51:04.849'),
    [SEED - 32400, 849000000]);
});

for (const c of [
  { value: '2022-09-21T18:51:04.849Z', out: [SEED, 849000000] },
  { value: '2022-09-21T18:51:04+09:00', out: [SEED - 32400, 0] },
  { value: '2022-09-21T18:51:04-0330', out: [SEED + 12600, 0] },
  { value: '2022-09-21T18:51:04', out: [SEED, 0] },
  { value: '2022-09-21', out: [SEED - 67864, 0] },
]) {
  test(`%iso8601 <- ${c.value}`, () => {
    assert.deepEqual(parse({ timeFormat: '%iso8601' }, c.value), c.out);
  });
}

for (const c of [
  { opts: { timeFormat: SEED_FORMAT }, value: '2022-09-21T18:51' as unknown,
    message: "invalid time format: value = 2022-09-21T18:51, error_class = ArgumentError, error = string doesn't match" },
  { opts: { timeFormat: SEED_FORMAT }, value: '2022-13-21T18:51:04',
    message: "invalid time format: value = 2022-13-21T18:51:04, error_class = ArgumentError, error = string doesn't match" },
  { opts: { timeFormat: SEED_FORMAT }, value: 1700000000, message: 'value must be string: 1700000000' },
  { opts: { timeFormat: SEED_FORMAT }, value: 1.5, message: 'value must be string: 1.5' },
  { opts: { timeFormat: SEED_FORMAT }, value: new JsonFloat(2), message: 'value must be string: 2.0' },
  { opts: { timeFormat: SEED_FORMAT }, value: null, message: 'value must be string: ' },
  { opts: { timeFormat: SEED_FORMAT }, value: false, message: 'value must be string: false' },
  { opts: { timeFormat: '%F %T.%L' }, value: '2022-09-21 18:51',
    message: "invalid time format: value = 2022-09-21 18:51, error_class = ArgumentError, error = invalid date or strptime format - '2022-09-21 18:51' '%F %T.%L'" },
  { opts: { timeFormat: '%iso8601' }, value: 'nope',
    message: 'invalid time format: value = nope, error_class = ArgumentError, error = invalid xmlschema format: "nope"' },
]) {
  test(`string parser error for ${JSON.stringify(c.value)} (${c.opts.timeFormat})`, () => {
    assert.throws(() => parse({ timeType: 'string', ...c.opts }, c.value), { code: 'AR_TIME_PARSE', message: c.message });
  });
}

test('time_type mixed: format first, then fallbacks (unixtime behaves as float)', () => {
  const p = new TimeParser({ timeType: 'mixed', timeFormat: '%iso8601', timeFormatFallbacks: ['unixtime'], localZone: UTC });
  assert.deepEqual([p.parse('2022-09-21T18:51:04Z').sec, p.parse('2022-09-21T18:51:04Z').nsec], [SEED, 0]);
  const fromString = p.parse('1700000000.5');
  assert.deepEqual([fromString.sec, fromString.nsec], [1700000000, 500000000]);
  const fromNumber = p.parse(1700000000.25);
  assert.deepEqual([fromNumber.sec, fromNumber.nsec], [1700000000, 250000000]);
  assert.throws(() => p.parse('nope'), {
    code: 'AR_TIME_PARSE',
    message: 'invalid time format: value = nope, even though fallbacks: Fluent::TimeParser,Fluent::NumericTimeParser',
  });
  // Float("2022-09-21") raises, so the numeric fallback is skipped, not misread as 2022.
  assert.throws(() => p.parse('2022-09-21x'), { code: 'AR_TIME_PARSE' });
});

test('time_type mixed with only fallbacks', () => {
  const p = new TimeParser({ timeType: 'mixed', timeFormatFallbacks: ['%Y-%m-%d %H:%M:%S', 'float'], localZone: UTC });
  assert.equal(p.parse('2022-09-21 18:51:04').sec, SEED);
  assert.equal(p.parse('0x10').sec, 0); // Float("0x10") passes; "0x10".to_i is 0
});

for (const c of [
  { opts: { timeType: 'mixed' } as TimeParserOptions, code: 'AR_TIME_BAD_CONFIG' },
  { opts: { timeType: 'string' } as TimeParserOptions, code: 'AR_TIME_BAD_CONFIG' },
  { opts: { timeType: 'string', timezone: '+09:00' } as TimeParserOptions, code: 'AR_TIME_BAD_CONFIG' },
  { opts: { timeFormat: SEED_FORMAT, timezone: 'JST' } as TimeParserOptions, code: 'AR_TIME_BAD_ZONE' },
  { opts: { timeFormat: SEED_FORMAT, timezone: 'UTC' } as TimeParserOptions, code: 'AR_TIME_BAD_ZONE' },
  { opts: { timeFormat: '%G-%V' } as TimeParserOptions, code: 'AR_TIME_BAD_FORMAT' },
]) {
  test(`configure refuses ${JSON.stringify(c.opts)}`, () => {
    assert.throws(() => new TimeParser({ localZone: UTC, ...c.opts }), { code: c.code });
  });
}

test('repeated values come from the cache and stay correct', () => {
  const p = new TimeParser({ timeFormat: SEED_FORMAT, localZone: UTC });
  const a = p.parse('2022-09-21T18:51:04');
  const b = p.parse('2022-09-21T18:51:05');
  assert.equal(p.parse('2022-09-21T18:51:04'), a);
  assert.equal(p.parse('2022-09-21T18:51:05'), b);
  assert.equal(p.parse('2022-09-21T18:51:06').sec, SEED + 2);
});
