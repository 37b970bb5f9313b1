// Every `${...}` form of the enable_ruby subset, run through the real filter
// (docs/compatibility.md §4). Expected values are what Ruby 3.4 gives for the same
// expression in Fluentd's clean-room (TZ=UTC, as in the official image).

process.env.TZ = 'UTC';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordTransformerFilter } from '../../src/filter/record-transformer.ts';
import { FilterError } from '../../src/filter/errors.ts';
import { JsonFloat } from '../../src/value/json-value.ts';
import type { JsonRecord, JsonValue } from '../../src/value/json-value.ts';
import { makeContext, filterElement, event } from './helpers.ts';

const TAG = 'test.log.app';
// 2022-09-21 18:51:04.123456789 UTC, a Wednesday, day 264 of the year
const SEC = 1663786264;
const NSEC = 123456789;

function sampleRecord(): JsonRecord {
  return {
    message: ' Hello World ',
    n: 41,
    f: 1.5,
    big: 12345678901234567890n,
    nested: { a: { b: 'deep' } },
    arr: [1, 2, 3],
    empty: '',
    nil: null,
    flag: false,
  };
}

function expand(value: string, params: Record<string, string> = {}): { out: JsonValue | undefined; t: ReturnType<typeof makeContext> } {
  const t = makeContext();
  const f = new RecordTransformerFilter(filterElement({ enable_ruby: 'true', ...params }, { out: value }), t.ctx);
  const [ev] = f.filter(TAG, [event(sampleRecord(), SEC, NSEC)]);
  return { out: ev ? (ev.record as Record<string, JsonValue>).out : undefined, t };
}

const cases: { expr: string; want: JsonValue; params?: Record<string, string> }[] = [
  // variables
  { expr: '${tag}', want: 'test.log.app' },
  { expr: '${tag_parts[0]}', want: 'test' },
  { expr: '${tag_parts[-1]}', want: 'app' },
  { expr: '${tag_parts[5]}', want: null },
  { expr: '${tag_prefix[1]}', want: 'test.log' },
  { expr: '${tag_suffix[1]}', want: 'log.app' },
  { expr: '${tag_suffix[-1]}', want: 'app' },
  { expr: '${hostname}', want: 'relay-host' },
  { expr: '${worker_id}', want: 0 },
  // record access
  { expr: '${record["message"]}', want: ' Hello World ' },
  { expr: "${record['n']}", want: 41 },
  { expr: '${record["nested"]["a"]["b"]}', want: 'deep' },
  { expr: '${record["arr"][-1]}', want: 3 },
  { expr: '${record.dig("nested", "a", "b")}', want: 'deep' },
  { expr: '${record.dig("nested", "x", "b")}', want: null },
  { expr: '${record.fetch("missing", "dflt")}', want: 'dflt' },
  { expr: '${record.fetch("n")}', want: 41 },
  { expr: '${record["missing"]&.upcase}', want: null },
  // literals
  { expr: '${nil}', want: null },
  { expr: '${true}', want: true },
  { expr: '${1.0}', want: new JsonFloat(1) },
  { expr: '${-1}', want: -1 },
  { expr: "${'single #{tag}'}", want: 'single #{tag}' },
  { expr: '${"double #{tag}"}', want: 'double test.log.app' },
  { expr: '${"a\\tb"}', want: 'a\tb' },
  // + and conversions
  { expr: '${record["n"] + 1}', want: 42 },
  { expr: '${record["f"] + 1}', want: 2.5 },
  { expr: '${record["big"] + 1}', want: 12345678901234567891n },
  { expr: '${record["n"].to_s + "x"}', want: '41x' },
  { expr: '${(record["n"] + 1).to_s}', want: '42' },
  { expr: '${record["n"].to_f}', want: new JsonFloat(41) },
  { expr: '${record["f"].to_i}', want: 1 },
  { expr: '${record["f"].to_s}', want: '1.5' },
  { expr: '${record["n"].to_f.to_s}', want: '41.0' },
  { expr: '${1e20.to_s}', want: '1.0e+20' },
  { expr: '${record["big"].to_s}', want: '12345678901234567890' },
  { expr: '${"12abc".to_i}', want: 12 },
  { expr: '${" 2.5e1x".to_f}', want: new JsonFloat(25) },
  { expr: '${record["nil"].to_s}', want: '' },
  // String methods
  { expr: '${record["message"].strip}', want: 'Hello World' },
  { expr: '${record["message"].upcase}', want: ' HELLO WORLD ' },
  { expr: '${record["message"].downcase}', want: ' hello world ' },
  { expr: '${record["message"].length}', want: 13 },
  { expr: '${"héllo😀".size}', want: 6 },
  { expr: '${record["arr"].size}', want: 3 },
  { expr: '${record["message"].sub("o", "0")}', want: ' Hell0 World ' },
  { expr: '${record["message"].gsub("o", "0")}', want: ' Hell0 W0rld ' },
  { expr: '${record["message"].gsub(/o(r?)/, "<\\\\1>")}', want: ' Hell<> W<r>ld ' },
  { expr: '${record["message"].sub(/\\A\\s+/, "")}', want: 'Hello World ' },
  { expr: '${record["message"].gsub(/[[:upper:]]/, "_")}', want: ' _ello _orld ' },
  { expr: '${"abc".gsub(/x*/, "-")}', want: '-a-b-c-' },
  { expr: '${record["missing"].nil?}', want: true },
  { expr: '${record["empty"].empty?}', want: true },
  { expr: '${record["arr"].empty?}', want: false },
  // operators and Ruby truthiness
  { expr: '${record["n"] == 41}', want: true },
  { expr: '${record["n"] == 41.0}', want: true },
  { expr: '${record["n"] != 41}', want: false },
  { expr: '${!record["flag"]}', want: true },
  { expr: '${!record["n"]}', want: false },
  { expr: '${record["nil"] || "default"}', want: 'default' },
  { expr: '${record["flag"] || "d"}', want: 'd' },
  { expr: '${record["n"] && "yes"}', want: 'yes' },
  { expr: '${record["nil"] && "yes"}', want: null },
  { expr: '${record["n"] == 41 ? "hit" : "miss"}', want: 'hit' },
  { expr: '${record["empty"] ? "truthy" : "falsy"}', want: 'truthy' },
  { expr: '${record["missing"].nil? ? "none" : record["missing"]}', want: 'none' },
  // time
  { expr: '${time.to_i}', want: SEC },
  { expr: '${time.to_f}', want: 1663786264.123456789 },
  { expr: '${time.to_s}', want: '2022-09-21 18:51:04 +0000' },
  { expr: '${time.utc.to_s}', want: '2022-09-21 18:51:04 UTC' },
  { expr: '${time}', want: '2022-09-21 18:51:04 +0000' },
  { expr: '${time.iso8601}', want: '2022-09-21T18:51:04+00:00' },
  { expr: '${time.utc.iso8601(3)}', want: '2022-09-21T18:51:04.123Z' },
  { expr: '${time.getutc.xmlschema(9)}', want: '2022-09-21T18:51:04.123456789Z' },
  { expr: '${time.utc.strftime("%Y-%m-%dT%H:%M:%SZ")}', want: '2022-09-21T18:51:04Z' },
  { expr: "${time.strftime('%s.%N %Z')}", want: '1663786264.123456789 UTC' },
  { expr: '${time.strftime("%Y" + "-%m")}', want: '2022-09' },
  { expr: '${time.localtime.hour}', want: 18 },
  { expr: '${time.year}', want: 2022 },
  { expr: '${time.month}', want: 9 },
  { expr: '${time.mon}', want: 9 },
  { expr: '${time.day}', want: 21 },
  { expr: '${time.mday}', want: 21 },
  { expr: '${time.hour}', want: 18 },
  { expr: '${time.min}', want: 51 },
  { expr: '${time.sec}', want: 4 },
  { expr: '${time.usec}', want: 123456 },
  { expr: '${time.nsec}', want: NSEC },
  { expr: '${time.wday}', want: 3 },
  { expr: '${time.yday}', want: 264 },
  { expr: '${time.zone}', want: 'UTC' },
  { expr: '${time.utc_offset}', want: 0 },
  { expr: '${Time.at(0).utc.year}', want: 1970 },
  { expr: '${Time.at(1.5).usec}', want: 500000 },
  { expr: '${Time.at(record["n"]).to_i}', want: 41 },
  { expr: '${(time + 60).min}', want: 52 },
  { expr: '${Time.now.year.to_s.length}', want: 4 },
  // interpolated values (not a single placeholder → always a String)
  { expr: 'tag=${tag} n=${record["n"]}', want: 'tag=test.log.app n=41' },
  { expr: '${record["nil"]}!', want: '!' },
  { expr: '[${tag_parts[1]}]', want: '[log]' },
  { expr: 'v=${record["nested"]}', want: 'v={"a" => {"b" => "deep"}}' },
  { expr: '${record["arr"]}x', want: '[1, 2, 3]x' },
  { expr: 'a\\tb', want: 'a\tb' }, // %Q[] processes escapes, as Fluentd's preprocessing does
  { expr: '${record["f"]}', want: '1.5', params: { auto_typecast: 'false' } },
  { expr: '${record["n"]}', want: '41', params: { auto_typecast: 'false' } },
];

for (const c of cases) {
  test(`enable_ruby ${c.expr}${c.params ? ' ' + JSON.stringify(c.params) : ''}`, () => {
    const { out, t } = expand(c.expr, c.params);
    assert.deepEqual(t.errors.map((e) => e.error.message), []);
    assert.deepEqual(out, c.want);
  });
}

test('time.utc mutates the one Time shared by all values of an event, as in Fluentd', () => {
  const t = makeContext();
  const f = new RecordTransformerFilter(
    filterElement({ enable_ruby: 'true' }, [['a', '${time.utc.hour}'], ['b', '${time.to_s}']]),
    t.ctx,
  );
  const [ev] = f.filter(TAG, [event({}, SEC), event({}, SEC)]);
  assert.deepEqual(ev.record, { a: 18, b: '2022-09-21 18:51:04 UTC' });
});

// Runtime errors: the event is dropped and handed to emitErrorEvent (docs/compatibility.md §4).
const runtimeErrors: { expr: string; rubyClass: string }[] = [
  { expr: '${record["missing"].upcase}', rubyClass: 'NoMethodError' },
  { expr: '${record["missing"]["x"]}', rubyClass: 'NoMethodError' },
  { expr: '${record["n"] + "x"}', rubyClass: 'TypeError' },
  { expr: '${record["message"] + 1}', rubyClass: 'TypeError' },
  { expr: '${record.fetch("missing")}', rubyClass: 'KeyError' },
  { expr: '${record.dig("message", "x")}', rubyClass: 'TypeError' },
  { expr: '${time.strftime(nil)}', rubyClass: 'TypeError' },
  { expr: '${record["n"].upcase}', rubyClass: 'NoMethodError' },
  { expr: 'x ${record["arr"].strip} y', rubyClass: 'NoMethodError' },
];

for (const c of runtimeErrors) {
  test(`runtime error ${c.expr} → ${c.rubyClass}, event dropped`, () => {
    const t = makeContext();
    const f = new RecordTransformerFilter(filterElement({ enable_ruby: 'true' }, { out: c.expr }), t.ctx);
    const input = event(sampleRecord(), SEC, NSEC);
    const kept = f.filter(TAG, [input, event({ n: 1, message: 'ok', arr: [], nested: {} })]);
    assert.equal(t.errors.length >= 1, true);
    const err = t.errors[0];
    assert.equal(err.tag, TAG);
    assert.equal(err.record, input.record);
    assert.equal(err.time, input.time);
    assert.ok(err.error instanceof FilterError);
    assert.equal((err.error as FilterError).code, 'AR_FILTER_EXPAND');
    assert.match(err.error.message, /^failed to expand `.+` : error = /);
    assert.equal(((err.error as FilterError).cause as FilterError).rubyClass, c.rubyClass);
    assert.ok(!kept.some((e) => e.record === input.record));
  });
}

// Start-up errors for anything outside the subset: Fluentd would run these.
const unsupported: { expr: string; part: string }[] = [
  { expr: '${system("ls")}', part: 'system' },
  { expr: '${record.each{}}', part: 'each' },
  { expr: '${record.each { |k| k }}', part: 'each' },
  { expr: '${`ls`}', part: '`' },
  { expr: '${File.read("x")}', part: 'File' },
  { expr: '${ENV["HOME"]}', part: 'ENV' },
  { expr: '${exit}', part: 'exit' },
  { expr: '${record["a"] = 1}', part: '=' },
  { expr: '${record["n"] * 2}', part: '*' },
  { expr: '${tag; tag}', part: ';' },
  { expr: '${record.send(:x)}', part: 'send' },
  { expr: '${record.instance_eval("x")}', part: 'instance_eval' },
  { expr: '${eval("1")}', part: 'eval' },
  { expr: '${$0}', part: '$0' },
  { expr: '${@x}', part: '@x' },
  { expr: '${"#{`id`}"}', part: '`' },
  { expr: '${Time.now.send(:exit)}', part: 'send' },
  { expr: '${Kernel.exec("sh")}', part: 'Kernel' },
  { expr: '${record["a"].gsub /a/, "b"}', part: 'gsub' },
  { expr: '${record["message"].gsub(/a/x, "b")}', part: '/a/x' },
  { expr: 'pre ${system("ls")} post', part: 'system' },
  { expr: '${record["a"]', part: '' },
];

for (const c of unsupported) {
  test(`unsupported at start-up: ${c.expr}`, () => {
    const t = makeContext();
    assert.throws(
      () => new RecordTransformerFilter(filterElement({ enable_ruby: 'true' }, { out: c.expr }), t.ctx),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'AR_CONF_UNSUPPORTED_RUBY');
        assert.ok(err.message.includes(c.expr), err.message);
        assert.ok(err.message.includes(c.part), err.message);
        assert.ok(err.message.startsWith('fluent.conf:'), err.message);
        return true;
      },
    );
  });
}

test('an unsupported key is refused too', () => {
  const t = makeContext();
  assert.throws(
    () => new RecordTransformerFilter(filterElement({ enable_ruby: 'true' }, { '${system("id")}': 'x' }), t.ctx),
    { code: 'AR_CONF_UNSUPPORTED_RUBY' },
  );
});
