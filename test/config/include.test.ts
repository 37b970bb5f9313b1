// @include: relative to the including file, sorted glob expansion, spliced
// into the section it appears in, positions naming the included file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseConfigFile } from '../../src/config/parser.ts';
import { ConfigError } from '../../src/params/errors.ts';
import type { ConfigElement } from '../../src/params/element.ts';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-include-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function load(dir: string, warnings: string[] = []): ConfigElement {
  return parseConfigFile(join(dir, 'main.conf'), { warn: (m) => warnings.push(m) });
}

test('relative include is spliced in place, positions name the included file', (t) => {
  const dir = tree({
    'main.conf': '<source>\n</source>\n@include sub/a.conf\n<match last>\n</match>\n',
    'sub/a.conf': '# a\n<match a>\n  k v\n</match>\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const root = load(dir);
  assert.deepEqual(root.elements.map((e) => [e.name, e.arg, e.pos]), [
    ['source', '', { file: join(dir, 'main.conf'), line: 1 }],
    ['match', 'a', { file: join(dir, 'sub/a.conf'), line: 2 }],
    ['match', 'last', { file: join(dir, 'main.conf'), line: 4 }],
  ]);
  assert.deepEqual(root.elements[1].params.get('k')?.pos, { file: join(dir, 'sub/a.conf'), line: 3 });
});

test('glob include expands sorted; a glob with no match includes nothing', (t) => {
  const dir = tree({
    'main.conf': '@include conf.d/*.conf\n@include none.d/*.conf\n',
    'conf.d/10-b.conf': '<match b>\n</match>\n',
    'conf.d/02-a.conf': '<match a>\n</match>\n',
    'conf.d/ignored.txt': '<match txt>\n</match>\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.deepEqual(load(dir).elements.map((e) => e.arg), ['a', 'b']);
});

test('nested include resolves relative to the included file and errors name it', (t) => {
  const dir = tree({
    'main.conf': '@include sub/a.conf\n',
    'sub/a.conf': '@include b.conf\n',
    'sub/b.conf': '<match b>\n  k "unclosed\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.throws(() => load(dir), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'AR_CONF_UNCLOSED');
    assert.deepEqual(err.pos, { file: join(dir, 'sub/b.conf'), line: 2 });
    assert.ok(err.message.startsWith(`${join(dir, 'sub/b.conf')}:2: `), err.message);
    return true;
  });
});

test('@include inside a section adds params and sections to that section', (t) => {
  const dir = tree({
    'main.conf': '<match x>\n  @type s3\n  @include s3-params.conf\n</match>\n',
    's3-params.conf': 's3_bucket b\n<buffer>\n  timekey 60\n</buffer>\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const match = load(dir).elements[0];
  assert.deepEqual([...match.params.keys()], ['@type', 's3_bucket']);
  assert.equal(match.elements[0].name, 'buffer');
  assert.equal(match.elements[0].params.get('timekey')?.value, '60');
});

test('bare `include`, file:// URLs, quoted paths with spaces and %-escapes', (t) => {
  const dir = tree({
    'main.conf': '',
    'a.conf': 'a 1\n',
    'b c.conf': 'b 2\n',
    'd e.conf': 'd 4\n',
    'f.conf': 'f 5\n',
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'main.conf'), `include a.conf\n@include "b c.conf"\n@include d%20e.conf\n@include file://${dir}/f.conf\n`);
  const warnings: string[] = [];
  const root = load(dir, warnings);
  assert.deepEqual(Object.fromEntries([...root.params.values()].map((p) => [p.key, p.value])), { a: '1', b: '2', d: '4', f: '5' });
  assert.deepEqual(warnings, ["'include' is deprecated. Use '@include' instead"]);
});

test('a *.conf glob that picks up a backup copy warns', (t) => {
  const dir = tree({ 'main.conf': '@include conf.d/*.conf\n', 'conf.d/a.conf': '', 'conf.d/a.bak.conf': '' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const warnings: string[] = [];
  load(dir, warnings);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /includes duplicated backed-up config file such as <a\.bak\.conf>/);
});

const includeErrors: { name: string; main: string; files: Record<string, string>; code: string; line: number }[] = [
  { name: 'missing plain file', main: 'k v\n@include nope.conf\n', files: {}, code: 'AR_CONF_INCLUDE', line: 2 },
  { name: 'http include', main: '@include http://example.com/fluent.conf\n', files: {}, code: 'AR_CONF_UNSUPPORTED', line: 1 },
  { name: 'include of a directory', main: '@include sub\n', files: { 'sub/x.conf': '' }, code: 'AR_CONF_INCLUDE', line: 1 },
  { name: 'include cycle', main: '@include a.conf\n', files: { 'a.conf': '@include main.conf\n' }, code: 'AR_CONF_INCLUDE', line: 1 },
];
for (const c of includeErrors) {
  test(`include error: ${c.name}`, (t) => {
    const dir = tree({ 'main.conf': c.main, ...c.files });
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    assert.throws(() => load(dir), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, c.code, err.message);
      assert.equal(err.pos?.line, c.line);
      return true;
    });
  });
}

test('a config file that cannot be read', () => {
  assert.throws(() => parseConfigFile(join(tmpdir(), 'ar-no-such-dir', 'fluent.conf')), { code: 'AR_CONF_READ' });
});

test('a relative config path gives relative names to included files', (t) => {
  const dir = tree({ 'main.conf': '@include sub/a.conf\n', 'sub/a.conf': '<match a>\n</match>\n' });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const mainRel = relative(process.cwd(), join(dir, 'main.conf'));
  const root = parseConfigFile(mainRel);
  assert.equal(root.pos.file, mainRel);
  assert.deepEqual(root.elements[0].pos, { file: join(dirname(mainRel), 'sub/a.conf'), line: 1 });
});
