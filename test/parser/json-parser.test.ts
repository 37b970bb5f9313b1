// parser_json as a plugin (docs/compatibility.md §3): time_key handling, keep_time_key,
// null_empty_string / null_value_pattern, estimate_current_event, and one bad
// time rejecting the whole body.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseConfigString } from '../../src/config/parser.ts';
import { JsonParser } from '../../src/parser/json.ts';
import { ojDump } from '../../src/value/oj-json.ts';
import type { PluginContext } from '../../src/plugin-api.ts';
import type { EventTime } from '../../src/time/event-time.ts';
import type { JsonRecord } from '../../src/value/json-value.ts';

const ctx = { log: pino({ level: 'silent' }) } as unknown as PluginContext;

function parser(body: string): JsonParser {
  const root = parseConfigString(`<parse>\n@type json\n${body}\n</parse>`, 'test.conf', '/tmp');
  return new JsonParser(root.elements[0], ctx);
}

function run(p: JsonParser, text: string): { time: EventTime | undefined; json: string }[] {
  const out: { time: EventTime | undefined; json: string }[] = [];
  p.parse(text, (time: EventTime | undefined, record: JsonRecord) => out.push({ time, json: ojDump(record) }));
  return out;
}

test('the seed parse section: time removed, read with strptime, fraction and Z ignored', () => {
  const p = parser('time_type string\ntime_format %Y-%m-%dT%H:%M:%S');
  const [e] = run(p, '{"a":1,"time":"2022-09-21T18:51:04.849Z","b":2}');
  assert.equal(e.json, '{"a":1,"b":2}');
  assert.deepEqual([e.time!.sec, e.time!.nsec], [Date.UTC(2022, 8, 21, 18, 51, 4) / 1000, 0]);
});

test('keep_time_key leaves the key in place; a custom time_key is the one consumed', () => {
  const keep = run(parser('keep_time_key true\ntime_type string\ntime_format %Y-%m-%d'), '{"time":"2024-01-02","x":1}')[0];
  assert.equal(keep.json, '{"time":"2024-01-02","x":1}');
  assert.equal(keep.time!.sec, Date.UTC(2024, 0, 2) / 1000);
  const custom = run(parser('time_key ts'), '{"time":"stays","ts":1700000000.5}')[0];
  assert.equal(custom.json, '{"time":"stays"}');
  assert.deepEqual([custom.time!.sec, custom.time!.nsec], [1700000000, 500000000]);
});

test('null_empty_string and null_value_pattern', () => {
  const [e] = run(parser('null_empty_string true\nnull_value_pattern /^(-|N\\/A)$/'), '{"a":"","b":"-","c":"N/A","d":"x","time":1}');
  assert.equal(e.json, '{"a":null,"b":null,"c":null,"d":"x"}');
});

test('estimate_current_event false leaves the time unset when time_key is absent', () => {
  assert.equal(run(parser('estimate_current_event false'), '{"x":1}')[0].time, undefined);
  const now = Date.now() / 1000;
  const t = run(parser(''), '{"x":1}')[0].time!;
  assert.ok(Math.abs(t.sec - now) < 5);
});

test('arrays: one event per object; one bad time rejects the whole body', () => {
  const p = parser('time_type string\ntime_format %Y-%m-%dT%H:%M:%S');
  assert.deepEqual(run(p, '[{"i":1,"time":"2024-01-01T00:00:00Z"},7,{"i":2,"time":"2024-01-01T00:00:01Z"}]').map((e) => e.json), ['{"i":1}', '{"i":2}']);
  const seen: unknown[] = [];
  assert.throws(() => p.parse('[{"i":1,"time":"2024-01-01T00:00:00Z"},{"i":2,"time":"bad"}]', (_t, r) => seen.push(r)), {
    code: 'AR_PARSE_TIME',
    message: 'invalid time format: value = bad, error_class = ArgumentError, error = string doesn\'t match',
  });
  assert.equal(seen.length, 0, 'nothing from a rejected body is emitted');
  assert.throws(() => p.parse('null', () => {}), { code: 'AR_PARSE_NOT_OBJECT' });
});
