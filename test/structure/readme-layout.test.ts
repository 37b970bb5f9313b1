// The README's "Layout" section is true: every folder under src/ (src/gen's
// subfolders excepted) has its line, and every folder it lists exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** The folders named at the start of each line of the Layout section's code block. */
export function layoutFolders(readme: string): string[] {
  const section = readme.split(/^## Layout\s*$/m)[1]?.split(/^## /m)[0] ?? '';
  const block = section.split(/^```.*$/m)[1] ?? '';
  return block.split('\n').map((l) => l.trim().split(/\s+/)[0] ?? '').filter((w) => w.endsWith('/')).map((w) => w.replace(/\/$/, ''));
}

function srcFolders(dir = 'src'): string[] {
  return [dir, ...readdirSync(join(ROOT, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory() && !(dir === 'src/gen'))
    .flatMap((d) => srcFolders(`${dir}/${d.name}`))];
}

const listed = layoutFolders(readFileSync(join(ROOT, 'README.md'), 'utf8'));

test('every src folder has a line in the README Layout section', () => {
  assert.deepEqual(srcFolders().filter((f) => !listed.includes(f)), []);
});

test('every folder the Layout section lists exists', () => {
  assert.deepEqual(listed.filter((f) => !existsSync(join(ROOT, f)) || !statSync(join(ROOT, f)).isDirectory()), []);
  for (const top of ['proto', 'conf', 'test', 'bench', 'docs', 'bin', 'scripts']) assert.ok(listed.includes(top), `${top}/ is listed`);
});

test('the section parser reads folder names and ignores prose', () => {
  assert.deepEqual(layoutFolders('## Layout\ntext src/x/\n```\nsrc/a/   holds a\n  src/a/b/  b\n```\n## Next\n```\nsrc/z/\n```'), ['src/a', 'src/a/b']);
});
