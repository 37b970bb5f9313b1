// A buffer path the process cannot use (issue 13.3): at start and in --dry-run,
// one line naming the path, the user, why in words and the fluent.conf line of
// `path`, exit 1, instead of a raw EACCES/ENOTDIR stack (or a dry run that passes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, type Defer } from '../support/cleanup.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/auditrelay');
const IS_ROOT = process.getuid?.() === 0;

interface Exit { code: number | null; stdout: string; stderr: string; ms: number }
function run(args: string[], defer: Defer, as: { uid?: number; gid?: number } = {}): Promise<Exit> {
  const started = Date.now();
  const child = spawn(BIN, args, { cwd: ROOT, env: { PATH: '/usr/bin:/bin' }, ...as, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Exit>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
  defer(async () => { if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await done; } });
  return done;
}

function tempDir(defer: Defer): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-bufpath-'));
  chmodSync(dir, 0o755); // the config must be readable by `nobody` below
  defer(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** fluent.conf with the buffer `path` on line 10. */
function writeConf(dir: string, bufferPath: string): string {
  const file = join(dir, 'fluent.conf');
  writeFileSync(file, [
    '<source>', '  @type http', '  port 0', '</source>',
    '<match **>', '  @type file', `  path ${join(dir, 'out')}`,
    '  <buffer time>', '    @type file', `    path ${bufferPath}`, '    timekey 1d', '  </buffer>', '</match>', '',
  ].join('\n'), { mode: 0o644 });
  return file;
}

/** Both `--dry-run` and a real start must fail with exactly `line`. */
async function assertBothFail(t: { diagnostic: (m: string) => void }, defer: Defer, conf: string, line: RegExp, as?: { uid?: number; gid?: number }): Promise<void> {
  for (const args of [['--dry-run', '-c', conf], ['-c', conf]]) {
    const r = await run(args, defer, as);
    t.diagnostic(`${args.join(' ')}: exit ${r.code} after ${r.ms} ms`);
    assert.equal(r.code, 1, `${args.join(' ')}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
    assert.match(lines[0], line);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
    assert.ok(r.ms < 10_000, `exits promptly (${r.ms} ms)`);
  }
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('ENOTDIR: a file where the buffer directory should be → path, user, "is a file, not a directory", fluent.conf:10, exit 1', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer);
  writeFileSync(join(dir, 'in-the-way'), 'x');
  const bufferPath = join(dir, 'in-the-way', 'buffer');
  const conf = writeConf(dir, bufferPath);
  const user = execFileSync('id', ['-un']).toString().trim();
  await assertBothFail(t, defer, conf, new RegExp(
    `^auditrelay: ${esc(conf)}:10: buffer path ${esc(bufferPath)} cannot be used by user ${esc(user)} \\(uid ${process.getuid!()}, gid ${process.getgid!()}\\): ` +
    `${esc(join(dir, 'in-the-way'))} \\(on the way to ${esc(bufferPath)}\\) is a file, not a directory \\(ENOTDIR\\); move that file away, or set \`path\` to a writable directory \\[AR_BUFFER_PATH\\]$`));
  assert.ok(!existsSync(join(dir, 'out')), 'nothing written');
});

test('EACCES: a 0700 directory of another user → "permission denied (EACCES)", owner and mode, the uid to chown to, exit 1', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer);
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  // As root, run the receiver as nobody (65534) against root's 0700 dir; otherwise take our own write bit away.
  chmodSync(locked, IS_ROOT ? 0o700 : 0o500);
  defer(() => chmodSync(locked, 0o700));
  const as = IS_ROOT ? { uid: 65534, gid: 65534 } : {};
  const uid = IS_ROOT ? 65534 : process.getuid!();
  const conf = writeConf(dir, locked);
  await assertBothFail(t, defer, conf, new RegExp(
    `^auditrelay: ${esc(conf)}:10: buffer path ${esc(locked)} cannot be used by (user \\S+ \\()?uid ${uid}, gid \\d+\\)?: ` +
    `${esc(locked)} is not writable by this user: permission denied \\(EACCES\\) \\(owner uid \\d+, gid \\d+, mode 0[57]00\\); ` +
    `make it writable for uid ${uid} \\(e\\.g\\. chown ${uid} ${esc(locked)}\\), run as its owner \\(--user\\), or set \`path\` to a writable directory \\[AR_BUFFER_PATH\\]$`), as);
  // A buffer directory still to be created under it fails the same way, naming the directory in the way.
  const deeper = join(locked, 'a', 'b');
  writeConf(dir, deeper);
  await assertBothFail(t, defer, conf, new RegExp(`: ${esc(locked)} \\(on the way to ${esc(deeper)}\\) is not writable by this user: permission denied \\(EACCES\\)`), as);
});

test('EROFS: the buffer path on a read-only mount → "read-only file system (EROFS)", exit 1', async (t) => {
  if (!IS_ROOT) {
    t.skip('EROFS needs root to mount a read-only tmpfs (run the suite as root to cover it)');
    return;
  }
  const defer = cleanup(t);
  const dir = tempDir(defer);
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', ro], { stdio: 'pipe' });
  } catch (err) {
    t.skip(`cannot mount a read-only tmpfs here (${(err as Error).message.split('\n')[0]}); EROFS not covered`);
    return;
  }
  defer(() => execFileSync('umount', [ro]));
  const conf = writeConf(dir, join(ro, 'buffer'));
  await assertBothFail(t, defer, conf, new RegExp(
    `^auditrelay: ${esc(conf)}:10: buffer path ${esc(join(ro, 'buffer'))} cannot be used by user \\S+ \\(uid 0, gid 0\\): ` +
    `${esc(ro)} \\(on the way to ${esc(join(ro, 'buffer'))}\\) is on a read-only file system \\(EROFS\\); mount a writable volume there, or set \`path\` to a writable directory \\[AR_BUFFER_PATH\\]$`));
});

test('a writable buffer path still passes --dry-run (exit 0)', async (t) => {
  const defer = cleanup(t);
  const dir = tempDir(defer);
  const conf = writeConf(dir, join(dir, 'buffer'));
  const r = await run(['--dry-run', '-c', conf], defer);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(dir, 'buffer')), 'dry run creates nothing');
});

test('--dry-run --user nobody: the path is checked as that user (root would pass it)', async (t) => {
  if (!IS_ROOT) {
    t.skip('--user needs root');
    return;
  }
  const defer = cleanup(t);
  const dir = tempDir(defer);
  const locked = join(dir, 'locked');
  mkdirSync(locked, { mode: 0o700 });
  const conf = writeConf(dir, locked);
  const asRoot = await run(['--dry-run', '-c', conf], defer);
  assert.equal(asRoot.code, 0, asRoot.stderr);
  const r = await run(['--dry-run', '--user', 'nobody', '--group', '65534', '-c', conf], defer);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^auditrelay: ${esc(conf)}:10: buffer path ${esc(locked)} cannot be used by user nobody \\(uid 65534, gid 65534\\): .*permission denied \\(EACCES\\)`));
});
