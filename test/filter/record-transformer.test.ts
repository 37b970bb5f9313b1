// record_transformer semantics outside the expression language
// (docs/compatibility.md §4, O6): placeholders without enable_ruby, key order of the
// merge, remove_keys, keep_keys + renew_record, renew_time_key, JSON values,
// and the seed config's filter on a real Teleport event.

process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { RecordTransformerFilter } from '../../src/filter/record-transformer.ts';
import { parseConfigFile } from '../../src/config/parser.ts';
import { JsonFloat, OrderedObject } from '../../src/value/json-value.ts';
import type { JsonRecord, JsonValue } from '../../src/value/json-value.ts';
import { EventTime } from '../../src/time/event-time.ts';
import { makeContext, filterElement, event } from './helpers.ts';

const FIXTURES = new URL('../fixtures/', import.meta.url);
const TAG = 'test.log.app';
const SEC = 1663786264; // 2022-09-21 18:51:04 UTC

function run(params: Record<string, string>, record: Record<string, string> | [string, string][], input: JsonRecord, tag = TAG) {
  const t = makeContext();
  const f = new RecordTransformerFilter(filterElement(params, record), t.ctx);
  const out = f.filter(tag, [event(input, SEC)]);
  return { out, record: out[0]?.record, warns: t.logs.filter((l) => l.level === 40).map((l) => l.msg), errors: t.errors };
}

// Without enable_ruby (Fluentd's default PlaceholderExpander).
const placeholderCases: { value: string; want: JsonValue; warns?: string[]; params?: Record<string, string> }[] = [
  { value: '${record["message"]}', want: 'hello' },
  { value: '${record["n"]}', want: 1 },
  { value: '${record["n"]}', want: '1', params: { auto_typecast: 'false' } },
  { value: '${record["nested"]}', want: { a: 1 } },
  { value: 'n=${record["nested"]}', want: 'n={"a" => 1}' },
  { value: '${tag}', want: 'test.log.app' },
  { value: '${tag_parts[0]}', want: 'test' },
  { value: '${tag_parts[-1]}', want: 'app' },
  { value: '${tag_prefix[1]}', want: 'test.log' },
  { value: '${tag_suffix[1]}', want: 'log.app' },
  { value: '${hostname}', want: 'relay-host' },
  { value: '${time}', want: '2022-09-21 18:51:04 +0000' },
  { value: '${tag}-${record["message"]}', want: 'test.log.app-hello' },
  { value: 'plain text', want: 'plain text' },
  // O6: the seed's expression without enable_ruby → null and one warn per record
  {
    value: "${time.strftime('%Y-%m-%dT%H:%M:%SZ')}",
    want: null,
    warns: ["unknown placeholder `${time.strftime('%Y-%m-%dT%H:%M:%SZ')}` found"],
  },
  { value: "${record['message']}", want: null, warns: ["unknown placeholder `${record['message']}` found"] },
  { value: '${record["missing"]}', want: null, warns: ['unknown placeholder `${record["missing"]}` found'] },
  { value: 'x${tag_parts[9]}y', want: 'xy', warns: ['unknown placeholder `${tag_parts[9]}` found'] },
  { value: '__FOO__', want: null, warns: ['unknown placeholder `__FOO__` found'] },
  { value: '${worker_id}', want: null, warns: ['unknown placeholder `${worker_id}` found'] },
];

for (const c of placeholderCases) {
  test(`placeholder ${c.value}${c.params ? ' ' + JSON.stringify(c.params) : ''}`, () => {
    const r = run(c.params ?? {}, { out: c.value }, { message: 'hello', n: 1, nested: { a: 1 } });
    assert.deepEqual((r.record as Record<string, JsonValue>).out, c.want);
    assert.deepEqual(r.warns, c.warns ?? []);
  });
}

test('keys are expanded too (always as strings)', () => {
  const r = run({}, { '${tag_parts[1]}_${record["n"]}': 'v' }, { n: 1 });
  assert.deepEqual(r.record, { n: 1, log_1: 'v' });
  const ruby = run({ enable_ruby: 'true' }, { '${tag_parts[1]}_${record["n"] + 1}': 'v' }, { n: 1 });
  assert.deepEqual(ruby.record, { n: 1, log_2: 'v' });
});

test('values starting with { or [ are JSON, with placeholders inside expanded', () => {
  for (const enableRuby of ['false', 'true']) {
    const r = run({ enable_ruby: enableRuby }, { obj: '{"k":"${tag}","n":[1,"${record[\\"n\\"]}"],"f":1.0,"${tag_parts[0]}":true}' }, { n: 7 });
    assert.deepEqual((r.record as Record<string, JsonValue>).obj, { k: 'test.log.app', n: [1, 7], f: new JsonFloat(1), test: true });
  }
});

test('a { value that is not JSON warns and stays a string', () => {
  const r = run({}, { out: '{not json' }, {});
  assert.deepEqual(r.record, { out: '{not json' });
  assert.deepEqual(r.warns, ['failed to parse {not json as json. Assuming {not json is a string']);
});

test('merge: existing keys keep their position, new keys are appended last', () => {
  const r = run({}, [['d', 'new'], ['b', 'changed']], { a: 1, b: 2, c: 3 });
  assert.deepEqual(Object.keys(r.record!), ['a', 'b', 'c', 'd']);
  assert.deepEqual(r.record, { a: 1, b: 'changed', c: 3, d: 'new' });
});

test('merge into an OrderedObject keeps integer-like keys in order', () => {
  const input = new OrderedObject([['z', 1], ['1', 2]]);
  const r = run({}, [['0', 'x'], ['z', 'y']], input);
  assert.ok(r.record instanceof OrderedObject);
  assert.deepEqual([...(r.record as OrderedObject)], [['z', 'y'], ['1', 2], ['0', 'x']]);
  assert.deepEqual([...input], [['z', 1], ['1', 2]], 'input untouched');
});

test('a new integer-like key on a plain record switches to OrderedObject to stay last', () => {
  const r = run({}, { '5': 'five' }, { a: 1 });
  assert.ok(r.record instanceof OrderedObject);
  assert.deepEqual([...(r.record as OrderedObject)], [['a', 1], ['5', 'five']]);
});

test('the input record is not modified', () => {
  const input = { a: 1, nested: { b: 2, c: 3 } };
  run({ remove_keys: 'a,$.nested.b' }, { d: 'x' }, input);
  assert.deepEqual(input, { a: 1, nested: { b: 2, c: 3 } });
});

test('remove_keys: plain keys, record_accessor paths, and keys added by <record>', () => {
  const r = run(
    { remove_keys: 'a,$.nested.b,$["arr"][0],added,missing' },
    { added: 'x', kept: 'y' },
    { a: 1, nested: { b: 2, c: 3 }, arr: [10, 20], z: 0 },
  );
  assert.deepEqual(r.record, { nested: { c: 3 }, arr: [20], z: 0, kept: 'y' });
});

test('remove_keys with bad accessor syntax is a config error', () => {
  const t = makeContext();
  assert.throws(() => new RecordTransformerFilter(filterElement({ remove_keys: '$.a[0' }, {}), t.ctx), { code: 'AR_CONF_BAD_VALUE' });
});

test('renew_record with keep_keys: only kept keys (in keep_keys order) plus the map', () => {
  const r = run({ renew_record: 'true', keep_keys: 'c,a,missing' }, { n: '${record["b"]}' }, { a: 1, b: 2, c: 3 });
  assert.deepEqual(Object.keys(r.record!), ['c', 'a', 'n']);
  assert.deepEqual(r.record, { c: 3, a: 1, n: 2 });
});

test('keep_keys without renew_record is refused at start-up', () => {
  const t = makeContext();
  assert.throws(() => new RecordTransformerFilter(filterElement({ keep_keys: 'a' }, {}), t.ctx), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'AR_CONF_BAD_VALUE');
    assert.match(err.message, /`renew_record` must be true to use `keep_keys`/);
    return true;
  });
});

const renewTimeCases: { value: JsonValue; sec: number; nsec: number }[] = [
  { value: 1700000000, sec: 1700000000, nsec: 0 },
  { value: 1700000000.5, sec: 1700000000, nsec: 500000000 },
  { value: '1700000000', sec: 1700000000, nsec: 0 },
  { value: new JsonFloat(1700000000), sec: 1700000000, nsec: 0 },
  { value: 'garbage', sec: 0, nsec: 0 },
];
for (const c of renewTimeCases) {
  test(`renew_time_key ts=${JSON.stringify(c.value instanceof JsonFloat ? c.value.value : c.value)}`, () => {
    const r = run({ renew_time_key: 'ts' }, {}, { ts: c.value });
    assert.equal(r.out[0].time.sec, c.sec);
    assert.equal(r.out[0].time.nsec, c.nsec);
  });
}

test('renew_time_key reads the merged record; a missing key keeps the event time', () => {
  const r = run({ renew_time_key: 'ts', enable_ruby: 'true' }, { ts: '${record["n"] + 100}' }, { n: 1 });
  assert.equal(r.out[0].time.sec, 101);
  const missing = run({ renew_time_key: 'ts' }, {}, { n: 1 });
  assert.equal(missing.out[0].time.sec, SEC);
});

test('renew_time_key with a Hash value is an error event (NoMethodError to_f)', () => {
  const r = run({ renew_time_key: 'ts' }, {}, { ts: { a: 1 } });
  assert.equal(r.out.length, 0);
  assert.equal(r.errors.length, 1);
});

test('tag parts of an empty tag and of a tag with a trailing dot follow Ruby split', () => {
  const r = run({}, [['p', '${tag_parts[0]}'], ['q', '${tag_parts[-1]}']], {}, 'a.b.');
  assert.deepEqual(r.record, { p: 'a', q: 'b' });
  const empty = run({ enable_ruby: 'true' }, { n: '${tag_parts.size}' }, {}, '');
  assert.deepEqual(empty.record, { n: 0 });
});

test('a failing event is dropped, the others pass', () => {
  const t = makeContext();
  const f = new RecordTransformerFilter(filterElement({ enable_ruby: 'true' }, { u: '${record["s"].upcase}' }), t.ctx);
  const events = [event({ s: 'a' }), event({}), event({ s: 'c' })];
  const out = f.filter('test.log', events);
  assert.deepEqual(out.map((e) => e.record), [{ s: 'a', u: 'A' }, { s: 'c', u: 'C' }]);
  assert.equal(t.errors.length, 1);
  assert.equal(t.errors[0].record, events[1].record);
  assert.equal(t.errors[0].error.message, "failed to expand `record[\"s\"].upcase` : error = undefined method 'upcase' for nil");
});

test('seed config filter on a Teleport event: "time" appended last as UTC seconds with Z', () => {
  const root = parseConfigFile(new URL('fluent.conf', FIXTURES).pathname);
  const element = root.elements.find((e) => e.name === 'filter' && e.arg === 'test.log');
  assert.ok(element);
  const t = makeContext();
  const f = new RecordTransformerFilter(element, t.ctx);
  const line = readFileSync(new URL('teleport-events.jsonl', FIXTURES), 'utf8').split('\n')[0];
  const record = JSON.parse(line) as Record<string, JsonValue>;
  assert.equal(record.time, '2024-02-23T18:56:57.648137154Z');
  // the parser (time_key time, time_format %Y-%m-%dT%H:%M:%S) removed `time` and kept whole seconds
  delete record.time;
  const keys = Object.keys(record);
  const time = new EventTime(Date.UTC(2024, 1, 23, 18, 56, 57) / 1000, 0);
  const [out] = f.filter('test.log', [{ time, record }]);
  assert.deepEqual(Object.keys(out.record), [...keys, 'time']);
  assert.ok(JSON.stringify(out.record).endsWith(',"time":"2024-02-23T18:56:57Z"}'));
  assert.equal(out.time, time);
  assert.deepEqual(t.errors, []);
  assert.deepEqual(t.logs.filter((l) => l.level >= 40), []);
});
