// Issue 11 acceptance: no module imports from a folder above it in the data
// path. Reads every import line of src/**/*.ts and names each offending file:line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { BASE, DATA_PATH, OUTSIDE, ROOF_FILES } from './layers.ts';

const SRC = resolve(import.meta.dirname, '../../src');

export function sourceFiles(dir: string = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sourceFiles(p);
    return d.name.endsWith('.ts') ? [p] : [];
  });
}

/** The unit a module belongs to: its first folder under src/, or the file name for a top-level module. */
function unitOf(file: string): string {
  return relative(SRC, file).split(sep)[0]!;
}

const SPEC = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

export function importsOf(file: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
    for (const m of text.matchAll(SPEC)) out.push({ line: i + 1, target: resolve(dirname(file), m[1]!) });
  });
  return out;
}

/** Why `from` may not import `to` (both units), or undefined when it may. */
export function violation(from: string, to: string): string | undefined {
  // errors.ts is the roof over everything and imports nothing of ours: anyone may import it.
  if (from === to || to === 'errors.ts') return undefined;
  const baseFrom = (BASE as readonly string[]).indexOf(from);
  const baseTo = (BASE as readonly string[]).indexOf(to);
  const roof = (ROOF_FILES as readonly string[]).includes(to);
  if (baseFrom >= 0) return baseTo >= 0 && baseTo < baseFrom ? undefined : `base ${from}/ may import only ${BASE.slice(0, baseFrom).join(', ') || 'node builtins'} and errors.ts`;
  if ((ROOF_FILES as readonly string[]).includes(from)) return baseTo >= 0 ? undefined : `${from} may import only base folders`;
  if (baseTo >= 0 || roof) return undefined;
  const rule = OUTSIDE[from];
  if (rule === '*') return undefined;
  if (rule) return rule.includes(to) ? undefined : `${from} may import only ${[...rule, ...BASE].join(', ')}`;
  if (OUTSIDE[to]) return `${to} is off the data path`;
  const a = (DATA_PATH as readonly string[]).indexOf(from);
  const b = (DATA_PATH as readonly string[]).indexOf(to);
  if (a < 0 || b < 0) return `${a < 0 ? from : to} is in no layer of test/structure/layers.ts`;
  return b > a ? undefined : `${to}/ is above ${from}/ in the data path`;
}

test('no module imports from a folder above it (test/structure/layers.ts)', () => {
  const bad: string[] = [];
  for (const file of sourceFiles()) {
    const from = unitOf(file);
    for (const { line, target } of importsOf(file)) {
      const why = violation(from, unitOf(target));
      if (why) bad.push(`src/${relative(SRC, file)}:${line} → src/${relative(SRC, target)}: ${why}`);
    }
  }
  assert.deepEqual(bad, [], `upward imports:\n${bad.join('\n')}`);
});

test('the rule catches an upward import', () => {
  assert.match(violation('format', 'config') ?? '', /above/);
  assert.match(violation('value', 'time') ?? '', /base value/);
  assert.equal(violation('config', 'output'), undefined);
  assert.equal(violation('output', 'value'), undefined);
  assert.match(violation('output', 'cli') ?? '', /off the data path/);
});

/** Barrel files (`index.ts`) under src/, outside the generated src/gen: there must be none. */
export function barrels(files: readonly string[] = sourceFiles()): string[] {
  return files
    .map((f) => relative(SRC, f).split(sep).join('/'))
    .filter((p) => (p === 'index.ts' || p.endsWith('/index.ts')) && !p.startsWith('gen/'))
    .map((p) => `src/${p}`);
}

test('no index.ts barrels under src/ (import the concrete module; registries live in registry.ts)', () => {
  assert.deepEqual(barrels(), [], 'delete these barrels and import the module that defines each name');
});

test('the barrel rule catches a new index.ts and spares src/gen', () => {
  assert.deepEqual(barrels([join(SRC, 'output/index.ts'), join(SRC, 'index.ts'), join(SRC, 'gen/x/index.ts'), join(SRC, 'output/s3.ts')]),
    ['src/output/index.ts', 'src/index.ts']);
});
