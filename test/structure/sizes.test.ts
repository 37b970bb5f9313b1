// Issue 11 acceptance: no hand-written source file over 400 lines, no function
// over 80 lines. Function-like nodes are found with the TypeScript compiler API;
// generated code (src/gen) is exempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';

const SRC = resolve(import.meta.dirname, '../../src');
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;

function handWritten(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return p === join(SRC, 'gen') ? [] : handWritten(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** `name:line (n lines)` for every function-like node of `text` longer than `max` lines. */
export function longFunctions(fileName: string, text: string, max: number): string[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      const name = node.name && ts.isIdentifier(node.name) ? node.name.text : '(anonymous)';
      if (lines > max) out.push(`${name}:${first + 1} (${lines} lines)`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test(`no src file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}`, () => {
  const bad: string[] = [];
  for (const file of handWritten(SRC)) {
    const text = readFileSync(file, 'utf8');
    const rel = `src/${relative(SRC, file)}`;
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_FILE_LINES) bad.push(`${rel}: ${lines} lines`);
    for (const f of longFunctions(rel, text, MAX_FUNCTION_LINES)) bad.push(`${rel}: function ${f}`);
  }
  assert.deepEqual(bad, [], `too long:\n${bad.join('\n')}`);
});

test('the size check sees a long function', () => {
  const body = Array.from({ length: 81 }, (_, i) => `  x += ${i};`).join('\n');
  assert.deepEqual(longFunctions('t.ts', `function f() {\n  let x = 0;\n${body}\n}\n`, 80), ['f:1 (84 lines)']);
  assert.deepEqual(longFunctions('t.ts', 'const g = () => 1;\n', 80), []);
});
