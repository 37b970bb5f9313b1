// removeFile: ENOENT is expected (debug), anything else is a warning naming the path and code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeFile } from '../../src/buffer/remove-file.ts';
import { cleanup } from '../support/cleanup.ts';

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  return {
    lines,
    debug: (obj: object, msg: string) => lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
    warn: (obj: object, msg: string) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
}

test('removeFile: a present file is removed, nothing logged', async (t) => {
  const defer = cleanup(t);
  const dir = await mkdtemp(join(tmpdir(), 'ar-remove-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  const f = join(dir, 'buffer.b1.log');
  await writeFile(f, 'x\n');
  const log = recorder();
  await removeFile(f, log, 'purging');
  await assert.rejects(stat(f), { code: 'ENOENT' });
  assert.deepEqual(log.lines, []);
});

test('removeFile: a missing file is a debug line only', async () => {
  const log = recorder();
  await removeFile(join(tmpdir(), 'ar-remove-does-not-exist', 'x.log'), log, 'purging');
  assert.equal(log.lines.length, 1);
  assert.equal(log.lines[0].level, 'debug');
});

test('removeFile: a file that cannot be removed is a warning with path and code, and no throw', async (t) => {
  const defer = cleanup(t);
  const dir = await mkdtemp(join(tmpdir(), 'ar-remove-'));
  defer(() => rm(dir, { recursive: true, force: true }));
  // A directory in place of the file: unlink fails with EISDIR (Linux: EISDIR or EPERM) for any user.
  const d = join(dir, 'buffer.b2.log');
  await mkdir(d);
  await chmod(d, 0o755);
  const log = recorder();
  await removeFile(d, log, 'purging a flushed chunk');
  assert.equal(log.lines.length, 1);
  assert.equal(log.lines[0].level, 'warn');
  assert.equal(log.lines[0].obj.path, d);
  assert.match(String(log.lines[0].obj.code), /^(EISDIR|EPERM)$/);
  assert.match(log.lines[0].msg, /purging a flushed chunk: could not remove the file/);
  assert.ok((await stat(d)).isDirectory());
});
