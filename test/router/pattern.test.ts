// Tag patterns as Fluentd's match.rb compiles them (docs/compatibility.md §5; cases from
// fluentd's test/test_match.rb and the observed session.* behaviour, O3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePatterns } from '../../src/router/pattern.ts';

const cases: { pattern: string; yes: string[]; no: string[] }[] = [
  { pattern: 'a', yes: ['a'], no: ['b', 'aa', 'a.b'] },
  { pattern: 'a.b', yes: ['a.b'], no: ['a', 'a.b.c', 'aab'] },
  { pattern: 'a.*', yes: ['a.b', 'a.c', 'a.'], no: ['a', 'a.b.c', 'b.a'] },
  { pattern: 'session.*', yes: ['session.abc', 'session.', 'session.a%20b'], no: ['session', 'session.abc.log', 'session.a.b'] },
  { pattern: 'session.**', yes: ['session', 'session.abc', 'session.abc.log'], no: ['sessionx', 'x.session'] },
  { pattern: '**', yes: ['', 'a', 'a.b.c'], no: [] },
  { pattern: 'a.**', yes: ['a', 'a.b', 'a.b.c'], no: ['b', 'ab'] },
  { pattern: '**.c', yes: ['c', 'a.c', 'a.b.c'], no: ['a.cc', 'c.a'] },
  { pattern: 'a.**.c', yes: ['a.c', 'a.b.c', 'a.b.b.c'], no: ['a.cc', 'ac'] },
  { pattern: 'a.{b,c}', yes: ['a.b', 'a.c'], no: ['a.d', 'a.bc', 'a'] },
  { pattern: '{a,b}.x', yes: ['a.x', 'b.x'], no: ['c.x', 'a'] },
  { pattern: 'a.{b.*,c}', yes: ['a.b.x', 'a.c'], no: ['a.b', 'a.c.x'] },
  { pattern: 'a b.*', yes: ['a', 'b.x'], no: ['b', 'a.x'] },
  { pattern: '/ab+c/', yes: ['abc', 'abbc'], no: ['ac', 'xabc'] },
  { pattern: '/test\\.(log|txt)/', yes: ['test.log', 'test.txt'], no: ['test.md', 'testxlog'] },
  { pattern: 'a-b', yes: ['a-b'], no: ['a_b'] },
  { pattern: 'a\\*b', yes: ['a*b'], no: ['axb'] },
  { pattern: 'test.log', yes: ['test.log'], no: ['testxlog', 'test.log.x'] },
  { pattern: '', yes: ['anything', 'a.b'], no: [] },
];

for (const c of cases) {
  test(`<match ${c.pattern}>`, () => {
    const m = compilePatterns(c.pattern);
    for (const tag of c.yes) assert.equal(m.match(tag), true, `${c.pattern} should match '${tag}'`);
    for (const tag of c.no) assert.equal(m.match(tag), false, `${c.pattern} should not match '${tag}'`);
  });
}

test('a /regex without its closing slash is a config error', () => {
  assert.throws(() => compilePatterns('/abc'), { code: 'AR_CONF_BAD_PATTERN' });
});
