// Syntax rules of lib/fluent/config/v1_parser.rb + literal_parser.rb, case by
// case, many taken from Fluentd's own test/config/test_config_parser.rb.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { parseConfigString } from '../../src/config/parser.ts';
import { ConfigError } from '../../src/params/errors.ts';
import type { ConfigElement, SourcePos } from '../../src/params/element.ts';

const ENV = { AR_T: 'v', AR_SPACE: 'a b' };

function parse(text: string, warnings: string[] = []): ConfigElement {
  return parseConfigString(text, 'test.conf', tmpdir(), { env: ENV, warn: (m) => warnings.push(m) });
}

function params(e: ConfigElement): Record<string, string> {
  return Object.fromEntries([...e.params.values()].map((p) => [p.key, p.value]));
}

for (const c of [
  { name: 'unquoted value', conf: 'k1 a', want: { k1: 'a' } },
  { name: 'spaces around the value are dropped', conf: '  k1     a    ', want: { k1: 'a' } },
  { name: 'spaces inside the value are kept', conf: 'k1 a  b  c', want: { k1: 'a  b  c' } },
  { name: '# right after a value char is kept', conf: 'k1 a#not_comment', want: { k1: 'a#not_comment' } },
  { name: '` #` after a value starts a comment', conf: 'k1 a #comment', want: { k1: 'a' } },
  { name: 'a value starting with # is the value (Fluentd quirk)', conf: 'k1 #not_comment', want: { k1: '#not_comment' } },
  { name: 'symbols in a value', conf: 'k /=~-~@`:?()*{}.[]', want: { k: '/=~-~@`:?()*{}.[]' } },
  { name: 'key without value, newline', conf: 'k1\nk2 v2', want: { k1: '', k2: 'v2' } },
  { name: 'key without value at EOF', conf: 'k1', want: { k1: '' } },
  { name: 'numeric key stays a string', conf: '1 1', want: { '1': '1' } },
  { name: 'key containing #', conf: 'a#b v', want: { 'a#b': 'v' } },
  { name: 'comment lines', conf: '# c1\n   # c2\nk v # c3\n#c4', want: { k: 'v' } },
  { name: 'embedded Ruby in an unquoted value is literal', conf: "k #{ENV['AR_T']}", want: { k: "#{ENV['AR_T']}" } },
  { name: 'double-quoted escapes', conf: String.raw`k "a\tb\n\"q\" \'s\' \\ \0 \r\f\b"`, want: { k: 'a\tb\n"q" \'s\' \\ \0 \r\f\b' } },
  { name: 'double-quoted \\<symbol> is the symbol', conf: String.raw`k "\#{x} \$ \/"`, want: { k: '#{x} $ /' } },
  { name: 'double-quoted keeps #', conf: 'k1 "a#comment"', want: { k1: 'a#comment' } },
  { name: 'comment after a quoted value', conf: 'k "a b" # c', want: { k: 'a b' } },
  { name: 'double-quoted spans lines, keeping the newline', conf: 'k "line1\nline2"', want: { k: 'line1\nline2' } },
  { name: 'backslash-newline joins lines', conf: 'k "line1\\\nline2"', want: { k: 'line1line2' } },
  { name: 'single-quoted: only \\\' and \\\\', conf: String.raw`k 'a\'b\\c\nd"e'`, want: { k: "a'b\\c\\nd\"e" } },
  { name: 'single-quoted keeps # and #{}', conf: `k1 'a#c' \nk2 '#{ENV["AR_T"]}'`, want: { k1: 'a#c', k2: '#{ENV["AR_T"]}' } },
  { name: "ENV['X'] interpolation", conf: `k "#{ENV['AR_T']}"`, want: { k: 'v' } },
  { name: 'ENV["X"] interpolation', conf: 'k "x-#{ENV["AR_T"]}-#{ENV["AR_SPACE"]}"', want: { k: 'x-v-a b' } },
  { name: 'missing ENV var is "" (Ruby nil in a string)', conf: `k "[#{ENV['AR_NOT_SET_123']}]"`, want: { k: '[]' } },
  { name: 'JSON array is re-dumped compact', conf: 'k [1, 2.0, "a", true, null, 1e3]', want: { k: '[1,2.0,"a",true,null,1000.0]' } },
  {
    name: 'multi-line JSON object with comments',
    conf: 'k {\n  "a": 1, # one\n  "b": "x#y",\n  "c": {"d": [ ]}\n}\nnext v',
    want: { k: '{"a":1,"b":"x#y","c":{"d":[]}}', next: 'v' },
  },
  {
    name: 'JSON numbers print as Ruby prints them',
    conf: 'k [1e16, 1e-5, 0.0001, 1e15, -0.0, 12345678901234567890, 2.50]',
    want: { k: '[1.0e+16,1.0e-05,0.0001,1.0e+15,-0.0,12345678901234567890,2.5]' },
  },
  { name: 'JSON duplicate keys: last wins', conf: 'k {"a":1,"b":2,"a":3}', want: { k: '{"a":3,"b":2}' } },
  { name: 'JSON with ENV interpolation', conf: `k ["#{ENV['AR_T']}"]`, want: { k: '["v"]' } },
  { name: 'JSON then comment', conf: 'k [1, 2] # two', want: { k: '[1,2]' } },
  { name: 'duplicate key: last value wins', conf: 'k 1\nj x\nk 2', want: { k: '2', j: 'x' } },
  { name: 'CRLF line endings', conf: 'k v\r\nj "q"\r\n', want: { k: 'v', j: 'q' } },
  { name: 'UTF-8 BOM is ignored', conf: '\ufeffk v', want: { k: 'v' } },
]) {
  test(`value: ${c.name}`, () => {
    assert.deepEqual(params(parse(c.conf)), c.want);
  });
}

test('duplicate key keeps its first position and takes the last line', () => {
  const root = parse('k 1\nj x\nk 2');
  assert.deepEqual([...root.params.keys()], ['k', 'j']);
  assert.deepEqual(root.params.get('k')?.pos, { file: 'test.conf', line: 3 });
});

for (const c of [
  { conf: '<source>\n</source>', name: 'source', arg: '' },
  { conf: '<match a.** b.*>\n</match>', name: 'match', arg: 'a.** b.*' },
  { conf: '<match   **   >\n</match>', name: 'match', arg: '**' },
  { conf: '<match "quoted arg">\n</match>', name: 'match', arg: 'quoted arg' },
  { conf: '<filter test.log> # comment\n</filter> # comment', name: 'filter', arg: 'test.log' },
  { conf: '<label @NAME>\n</label>', name: 'label', arg: '@NAME' },
  { conf: '<system>\n</system>', name: 'system', arg: '' },
  { conf: '<test _.%$!>\n</test>', name: 'test', arg: '_.%$!' },
]) {
  test(`section: ${JSON.stringify(c.conf)}`, () => {
    const root = parse(c.conf);
    assert.equal(root.name, 'ROOT');
    assert.equal(root.elements.length, 1);
    assert.equal(root.elements[0].name, c.name);
    assert.equal(root.elements[0].arg, c.arg);
  });
}

test('nested sections, reserved params and positions', () => {
  const root = parse([
    '<source>',
    '  @type http',
    '  @id in_http',
    '  @label @RAW',
    '  @log_level debug',
    '  <transport tls>',
    '    <deeper x>',
    '      k v',
    '    </deeper>',
    '  </transport>',
    '</source>',
  ].join('\n'));
  const source = root.elements[0];
  assert.deepEqual(params(source), { '@type': 'http', '@id': 'in_http', '@label': '@RAW', '@log_level': 'debug' });
  assert.deepEqual(source.pos, { file: 'test.conf', line: 1 });
  const deeper = source.elements[0].elements[0];
  assert.equal(deeper.name, 'deeper');
  assert.deepEqual(deeper.pos, { file: 'test.conf', line: 7 });
  assert.deepEqual(deeper.params.get('k')?.pos, { file: 'test.conf', line: 8 });
});

test("'@' params in a nested section only warn (v1_parser.rb)", () => {
  const warnings: string[] = [];
  const root = parse('<match x>\n  <buffer>\n    @custom 1\n  </buffer>\n</match>', warnings);
  assert.equal(root.elements[0].elements[0].params.get('@custom')?.value, '1');
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /'@' is the system reserved prefix/);
});

function expectError(conf: string, code: string, line: number, text?: RegExp): void {
  assert.throws(() => parse(conf), (err: unknown) => {
    assert.ok(err instanceof ConfigError, `not a ConfigError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.deepEqual(err.pos, { file: 'test.conf', line } satisfies SourcePos, err.message);
    assert.ok(err.message.startsWith(`test.conf:${line}: `), err.message);
    assert.ok(err.message.endsWith(` [${code}]`), err.message);
    if (text) assert.match(err.message, text);
    return true;
  });
}

for (const c of [
  { name: 'section never closed', conf: 'k v\n<source>\n  @type http\n', code: 'AR_CONF_UNCLOSED', line: 2, text: /<source> is never closed.*add <\/source>/ },
  { name: 'wrong end tag names the open section and its line', conf: '<source>\n  <parse>\n  </source>\n</source>', code: 'AR_CONF_UNCLOSED', line: 3, text: /<\/source> does not close <parse> opened at test\.conf:2/ },
  { name: 'end tag with nothing open', conf: 'k v\n</source>', code: 'AR_CONF_SYNTAX', line: 2 },
  { name: 'end tag on the start tag line', conf: '<source></source>', code: 'AR_CONF_SYNTAX', line: 1 },
  { name: 'text after an end tag', conf: '<a>\n</a><b>\n</b>', code: 'AR_CONF_SYNTAX', line: 2 },
  { name: 'start tag without > at EOF', conf: 'k v\n<source', code: 'AR_CONF_SYNTAX', line: 2 },
  // Fluentd reads the next line as the argument ("</source") and then misses the end tag.
  { name: 'start tag without > before its end tag', conf: '<source\n</source>', code: 'AR_CONF_UNCLOSED', line: 1 },
  { name: '< without a name', conf: '< match>\n</match>', code: 'AR_CONF_SYNTAX', line: 1 },
  { name: 'comment as section argument (Fluentd rejects it too)', conf: '<test #a>\n</test>', code: 'AR_CONF_UNCLOSED', line: 1 },
  { name: 'unclosed double quote at EOF', conf: 'a b\nk "abc', code: 'AR_CONF_UNCLOSED', line: 2 },
  { name: 'blank line inside a double-quoted string', conf: 'k "abc\n\ndef"', code: 'AR_CONF_UNCLOSED', line: 1 },
  { name: 'single quote across lines', conf: "k 'abc\ndef'", code: 'AR_CONF_UNCLOSED', line: 1 },
  { name: 'unknown escape', conf: 'k "\\d"', code: 'AR_CONF_SYNTAX', line: 1, text: /unknown escape '\\d'/ },
  { name: 'incomplete JSON', conf: 'x y\nk [1, 2\nz 1', code: 'AR_CONF_UNCLOSED', line: 2 },
  { name: 'value that merely starts with [', conf: 'k [not json', code: 'AR_CONF_UNCLOSED', line: 1 },
  { name: 'text after a quoted value', conf: 'k "a" b', code: 'AR_CONF_SYNTAX', line: 1, text: /unexpected text after the value of 'k': 'b'/ },
  { name: 'Socket.gethostname', conf: 'k "#{Socket.gethostname}"', code: 'AR_CONF_EMBEDDED_RUBY', line: 1, text: /'#\{Socket\.gethostname\}'.*ENV\['NAME'\]/ },
  { name: 'Ruby around ENV', conf: "a 1\nk \"#{ENV['A'] + 'x'}\"", code: 'AR_CONF_EMBEDDED_RUBY', line: 2 },
  { name: 'use_default helper', conf: 'k "#{use_default}"', code: 'AR_CONF_EMBEDDED_RUBY', line: 1 },
  { name: 'Ruby inside JSON', conf: 'k ["#{1+1}"]', code: 'AR_CONF_EMBEDDED_RUBY', line: 1 },
  // A secret's value is never quoted back in an error (issue 12, "Secrets").
  { name: 'Ruby in a secret is not quoted back', conf: 'aws_sec_key "ab#{S3CR3T}cd"', code: 'AR_CONF_EMBEDDED_RUBY', line: 1, text: /^(?![\s\S]*S3CR3T)[\s\S]*embedded Ruby "#\{\.\.\.\}"/ },
  { name: 'text after a secret is not quoted back', conf: 'private_key_passphrase "pa"S3CR3T', code: 'AR_CONF_SYNTAX', line: 1, text: /^(?![\s\S]*S3CR3T)[\s\S]*after the value of 'private_key_passphrase'/ },
  { name: 'unclosed #{', conf: `k "#{ENV['X']"`, code: 'AR_CONF_UNCLOSED', line: 1 },
  { name: "'@' param at root", conf: '@foo bar', code: 'AR_CONF_SYNTAX', line: 1, text: /'@foo'/ },
  { name: "'@' param in <source>", conf: '<source>\n  @foo bar\n</source>', code: 'AR_CONF_SYNTAX', line: 2 },
]) {
  test(`error: ${c.name}`, () => expectError(c.conf, c.code, c.line, c.text));
}
