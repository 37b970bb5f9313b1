// Type conversion per lib/fluent/config/types.rb and the rest of
// configureParams: defaults, alias, deprecation, required, ajv ranges.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { parseConfigString } from '../../src/config/parser.ts';
import { configureParams, singleSection } from '../../src/params/params.ts';
import { ConfigError } from '../../src/params/errors.ts';
import type { ConfigElement } from '../../src/params/element.ts';
import type { ParamSchema, ParamSpec } from '../../src/params/param-schema.ts';

function section(body: string): ConfigElement {
  // Line 1 is the section tag, so the param on the first body line is at line 2.
  return parseConfigString(`<match x>\n${body}\n</match>\n`, 'test.conf', tmpdir()).elements[0];
}

function convert(spec: ParamSpec, value: string): unknown {
  return configureParams({ p: spec }, section(`p ${value}`)).p;
}

const t = (type: ParamSpec['type'], extra: Partial<ParamSpec> = {}): ParamSpec => ({ type, desc: 'test', ...extra });
const ENUM = t('enum', { enum: ['gzip', 'json', 'text'] });

for (const c of [
  { spec: t('size'), value: '10k', want: 10240 },
  { spec: t('size'), value: '10K', want: 10240 },
  { spec: t('size'), value: '256m', want: 256 * 1024 ** 2 },
  { spec: t('size'), value: '10M', want: 10 * 1024 ** 2 },
  { spec: t('size'), value: '1g', want: 1024 ** 3 },
  { spec: t('size'), value: '2t', want: 2 * 1024 ** 4 },
  { spec: t('size'), value: '1024', want: 1024 },
  { spec: t('time'), value: '60', want: 60 },
  { spec: t('time'), value: '0.5', want: 0.5 },
  { spec: t('time'), value: '1s', want: 1 },
  { spec: t('time'), value: '10m', want: 600 },
  { spec: t('time'), value: '1h', want: 3600 },
  { spec: t('time'), value: '2d', want: 172800 },
  { spec: t('bool'), value: 'true', want: true },
  { spec: t('bool'), value: 'yes', want: true },
  { spec: t('bool'), value: 'false', want: false },
  { spec: t('bool'), value: 'no', want: false },
  { spec: t('bool'), value: '', want: true },
  { spec: t('bool'), value: '#comment', want: true },
  { spec: t('integer'), value: '8', want: 8 },
  { spec: t('integer'), value: '-3', want: -3 },
  { spec: t('integer'), value: '1_000', want: 1000 },
  { spec: t('float'), value: '0.25', want: 0.25 },
  { spec: t('float'), value: '1e3', want: 1000 },
  { spec: t('float'), value: '7', want: 7 },
  { spec: t('string'), value: '"  spaced  "', want: '  spaced  ' },
  { spec: ENUM, value: 'json', want: 'json' },
  { spec: t('array'), value: '["a", "b"]', want: ['a', 'b'] },
  { spec: t('array'), value: 'a, b ,c', want: ['a', 'b', 'c'] },
  { spec: t('array'), value: 'a,b,', want: ['a', 'b'] },
  { spec: t('array'), value: ',a', want: ['', 'a'] },
  { spec: t('array'), value: '""', want: [] },
  { spec: t('array', { valueType: 'integer' }), value: '1, 2', want: [1, 2] },
  { spec: t('array', { valueType: 'float' }), value: '[1, 2.5]', want: [1, 2.5] },
  { spec: t('array'), value: '[1, "x"]', want: ['1', 'x'] },
  { spec: t('array'), value: '{"a":1}', want: ['{"a":1}'] }, // not '[': split on commas, as types.rb does
  { spec: t('hash'), value: '{"k": "v", "n": 1}', want: { k: 'v', n: 1 } },
  { spec: t('hash'), value: 'k1:v1, k2:v2', want: { k1: 'v1', k2: 'v2' } },
  { spec: t('hash'), value: 'url:http://x:80', want: { url: 'http://x:80' } },
  { spec: t('hash'), value: 'k: v', want: { k: ' v' } },
]) {
  test(`${c.spec.type} ${JSON.stringify(c.value)} → ${JSON.stringify(c.want)}`, () => {
    assert.deepEqual(convert(c.spec, c.value), c.want);
  });
}

test('regexp: /src/opts and bare source', () => {
  const r = convert(t('regexp'), '/^a.b$/i') as RegExp;
  assert.ok(r instanceof RegExp);
  assert.ok(r.test('AxB'));
  assert.ok((convert(t('regexp'), '/^b$/') as RegExp).test('a\nb'), "Ruby's ^ and $ match at line breaks");
  assert.ok((convert(t('regexp'), '/a.b/m') as RegExp).test('a\nb'), 'Ruby /m is dot-all');
  assert.ok((convert(t('regexp'), 'fo+') as RegExp).test('foo'));
  const anchored = convert(t('regexp'), String.raw`/\Afoo\z/`) as RegExp;
  assert.ok(anchored.test('foo'));
  assert.ok(!anchored.test('foo\nbar'));
});

for (const c of [
  { spec: t('size'), value: '10X', code: 'AR_CONF_BAD_SIZE' },
  { spec: t('size'), value: '1.5g', code: 'AR_CONF_BAD_SIZE' },
  { spec: t('size'), value: '10MB', code: 'AR_CONF_BAD_SIZE' },
  { spec: t('size'), value: '', code: 'AR_CONF_BAD_SIZE' },
  { spec: t('time'), value: '1x', code: 'AR_CONF_BAD_TIME' },
  { spec: t('time'), value: '10M', code: 'AR_CONF_BAD_TIME' },
  { spec: t('time'), value: '1.5h', code: 'AR_CONF_BAD_TIME' },
  { spec: t('bool'), value: 'TRUE', code: 'AR_CONF_BAD_BOOL' },
  { spec: t('bool'), value: '1', code: 'AR_CONF_BAD_BOOL' },
  { spec: t('integer'), value: 'abc', code: 'AR_CONF_BAD_NUMBER' },
  { spec: t('integer'), value: '1.5', code: 'AR_CONF_BAD_NUMBER' },
  { spec: t('integer'), value: '99999999999999999999', code: 'AR_CONF_BAD_NUMBER' },
  { spec: t('float'), value: '1.', code: 'AR_CONF_BAD_NUMBER' },
  { spec: ENUM, value: 'zip', code: 'AR_CONF_BAD_ENUM' },
  { spec: t('array'), value: '[[1]]', code: 'AR_CONF_BAD_VALUE' },
  { spec: t('array'), value: '["a",{"b":1}]', code: 'AR_CONF_BAD_VALUE' },
  { spec: t('array', { valueType: 'integer' }), value: '1,x', code: 'AR_CONF_BAD_NUMBER' },
  { spec: t('hash'), value: '[1]', code: 'AR_CONF_BAD_VALUE' },
  { spec: t('hash'), value: 'k1:v1,k2', code: 'AR_CONF_BAD_VALUE' },
  { spec: t('regexp'), value: '/a/ extra', code: 'AR_CONF_BAD_REGEXP' },
  { spec: t('regexp'), value: '/(/', code: 'AR_CONF_BAD_REGEXP' },
  { spec: t('integer', { minimum: 1 }), value: '0', code: 'AR_CONF_BAD_VALUE' },
  { spec: t('float', { maximum: 1 }), value: '1.5', code: 'AR_CONF_BAD_VALUE' },
]) {
  test(`${c.spec.type} ${JSON.stringify(c.value)} → ${c.code} at test.conf:2`, () => {
    assert.throws(() => convert(c.spec, c.value), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, c.code, err.message);
      assert.deepEqual(err.pos, { file: 'test.conf', line: 2 });
      assert.ok(err.message.startsWith(`test.conf:2: p '${c.value}'`), err.message);
      return true;
    });
  });
}

test('the seed buffer with a bad size fails with the documented message', () => {
  const e = parseConfigString('<buffer>\n  @type file\n  chunk_limit_size 10X\n</buffer>', 'fluent.conf', tmpdir()).elements[0];
  assert.throws(() => configureParams({ chunk_limit_size: t('size', { default: '8m' }) }, e), {
    code: 'AR_CONF_BAD_SIZE',
    message: "fluent.conf:3: chunk_limit_size '10X' is not a size; write e.g. 10m, 256m or 1g [AR_CONF_BAD_SIZE]",
  });
});

const schema = {
  s3_bucket: { type: 'string', required: true, desc: 'bucket' },
  store_as: { type: 'enum', enum: ['gzip', 'json', 'text'], default: 'gzip', desc: 'encoding' },
  chunk_limit_size: { type: 'size', default: '8m', desc: 'chunk size' },
  flush_thread_count: { type: 'integer', default: 1, minimum: 1, desc: 'threads' },
  tags: { type: 'array', default: ['a'], desc: 'tags' },
  path: { type: 'string', desc: 'optional, no default' },
  aws_key_id: { type: 'string', secret: true, desc: 'key' },
  new_name: { type: 'string', alias: 'old_name', desc: 'renamed' },
  legacy: { type: 'bool', deprecated: 'use new_name instead', desc: 'old' },
} as const satisfies ParamSchema;

test('defaults, typed result, used marks and schema facts on the element', () => {
  const e = section('  @type s3\n  @id out\n  s3_bucket b\n  aws_key_id AKIA');
  const p = configureParams(schema, e);
  // Compile-time: ParamsOf gives required/defaulted params non-optional types.
  const bucket: string = p.s3_bucket;
  const size: number = p.chunk_limit_size;
  assert.equal(bucket, 'b');
  assert.equal(size, 8 * 1024 * 1024);
  assert.equal(p.store_as, 'gzip');
  assert.equal(p.flush_thread_count, 1);
  assert.deepEqual(p.tags, ['a']);
  assert.notEqual(p.tags, schema.tags.default, 'defaults are copied');
  assert.equal(p.path, undefined);
  assert.deepEqual([...e.usedParams].sort(), ['@id', '@type', 'aws_key_id', 's3_bucket']);
  assert.ok(e.configured);
  assert.ok(e.secretKeys.has('aws_key_id'));
  assert.ok(e.stringKeys.has('s3_bucket'));
  assert.ok(!e.stringKeys.has('store_as'));
});

test('the same schema object is reused across sections', () => {
  const a = configureParams(schema, section('s3_bucket a'));
  const b = configureParams(schema, section('s3_bucket b\nflush_thread_count 4'));
  assert.equal(a.s3_bucket, 'a');
  assert.equal(b.flush_thread_count, 4);
});

test('required param missing names the section and the fix', () => {
  assert.throws(() => configureParams(schema, section('store_as json')), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'AR_CONF_MISSING');
    assert.equal(err.message,
      "test.conf:1: 's3_bucket' parameter is required in <match x>; add a line 's3_bucket VALUE' to it [AR_CONF_MISSING]");
    return true;
  });
});

test('alias is read when the name is absent; the name wins when both are given', () => {
  assert.equal(configureParams(schema, section('s3_bucket b\nold_name o')).new_name, 'o');
  const both = section('s3_bucket b\nold_name o\nnew_name n');
  assert.equal(configureParams(schema, both).new_name, 'n');
  assert.ok(!both.usedParams.has('old_name'), 'the ignored alias stays unused, so it is reported');
});

test('deprecated param warns with its file:line', () => {
  const warnings: string[] = [];
  const p = configureParams(schema, section('s3_bucket b\nlegacy true'), (m) => warnings.push(m));
  assert.equal(p.legacy, true);
  assert.deepEqual(warnings, ["test.conf:3: 'legacy' parameter is deprecated: use new_name instead"]);
});

test('a range error names the param line', () => {
  assert.throws(() => configureParams(schema, section('s3_bucket b\nflush_thread_count 0')), {
    code: 'AR_CONF_BAD_VALUE',
    message: "test.conf:3: flush_thread_count '0' is below the minimum 1; write 1 or more [AR_CONF_BAD_VALUE]",
  });
});

test('singleSection: one, none, required, twice', () => {
  const match = section('<buffer>\n</buffer>\n<format>\n</format>\n<format>\n</format>');
  assert.equal(singleSection(match, 'buffer')?.pos.line, 2);
  assert.ok(match.elements[0].used);
  assert.equal(singleSection(match, 'inject'), undefined);
  assert.throws(() => singleSection(match, 'inject', true), { code: 'AR_CONF_MISSING' });
  assert.throws(() => singleSection(match, 'format'), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'AR_CONF_DUPLICATE_SECTION');
    assert.deepEqual(err.pos, { file: 'test.conf', line: 6 });
    return true;
  });
});
