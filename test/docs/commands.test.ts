// Every ```sh block in README.md and docs/*.md that is preceded by `<!-- test -->` runs here, so a
// documented command cannot drift from the code. Marker options: `exit=N` (default 0) and
// `expect="text"` (must appear in stdout+stderr). Blocks of one page run in order in one fresh
// temp dir holding a `bin` symlink to our bin/ (the launchers resolve symlinks), loopback only,
// 60 s each; the whole process group of a block is killed afterwards. Commands that need AWS or
// Teleport are written in ```text blocks and are not run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';

const root = join(import.meta.dirname, '..', '..');

export interface Block { readonly line: number; readonly code: string; readonly exit: number; readonly expect?: string }

/** The runnable blocks of a markdown text. */
export function runnableBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!--\s*test\b(.*?)-->\s*$/.exec(lines[i]!);
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j]!.trim() === '') j++;
    if (lines[j] !== '```sh') throw new Error(`line ${i + 1}: <!-- test --> must be followed by a \`\`\`sh block`);
    const end = lines.indexOf('```', j + 1);
    if (end < 0) throw new Error(`line ${j + 1}: unclosed \`\`\`sh block`);
    const opts = m[1]!;
    out.push({
      line: j + 1,
      code: lines.slice(j + 1, end).join('\n'),
      exit: Number(/exit=(\d+)/.exec(opts)?.[1] ?? 0),
      expect: /expect="([^"]*)"/.exec(opts)?.[1],
    });
    i = end;
  }
  return out;
}

function run(code: string, cwd: string): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', code], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TZ: 'UTC' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const kill = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } };
    const timer = setTimeout(kill, 60_000);
    child.on('close', (status) => { clearTimeout(timer); kill(); resolve({ status, output }); });
  });
}

const pages = ['README.md', ...(await readdir(join(root, 'docs'))).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
// Read the pages before the first test() call: node:test ignores tests added after one has run.
const pageBlocks = await Promise.all(pages.map(async (page) => ({ page, blocks: runnableBlocks(await readFile(join(root, page), 'utf8')) })));

test('runnableBlocks reads the marker and its options', () => {
  const md = 'x\n<!-- test exit=1 expect="is not used" -->\n```sh\necho hi\n```\n```sh\nnot run\n```\n';
  assert.deepEqual(runnableBlocks(md), [{ line: 3, code: 'echo hi', exit: 1, expect: 'is not used' }]);
  assert.throws(() => runnableBlocks('<!-- test -->\n```text\nx\n```\n'), /must be followed/);
});

for (const { page, blocks } of pageBlocks) {
  if (blocks.length === 0) continue;
  test(`${page}: its runnable commands work`, async (t) => {
    const defer = cleanup(t);
    const dir = await mkdtemp(join(tmpdir(), 'ar-docs-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    await symlink(join(root, 'bin'), join(dir, 'bin'));
    for (const b of blocks) {
      const { status, output } = await run(b.code, dir);
      assert.equal(status, b.exit, `${page}:${b.line} exited ${status}, want ${b.exit}\n${output}`);
      if (b.expect !== undefined) assert.ok(output.includes(b.expect), `${page}:${b.line}: output lacks ${JSON.stringify(b.expect)}\n${output}`);
    }
  });
}
