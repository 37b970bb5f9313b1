// Config nobody reads (issue 13.6 / 12.9): bin/auditrelay --dry-run on small
// confs. A misspelt parameter names the closest known one ("did you mean
// 'timekey'?"); an unused section or parameter is warned once per section, not
// once per line; Fluentd's whole-section dump appears only at -v.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanup } from '../support/cleanup.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/auditrelay', import.meta.url).pathname;

interface LogLine { level: number; msg: string; config?: string }
interface Result { code: number; lines: LogLine[]; stderr: string }

async function dryRun(t: { after(fn: () => unknown): void }, conf: (dir: string) => string, extra: string[] = []): Promise<Result & { file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ar-mistakes-'));
  cleanup(t)(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'fluent.conf');
  writeFileSync(file, conf(dir));
  let stdout: string;
  let stderr: string;
  let code = 0;
  try {
    ({ stdout, stderr } = await run(BIN, ['--dry-run', '-c', file, ...extra], { env: { PATH: '/usr/bin:/bin' } }));
  } catch (err) {
    ({ stdout, stderr, code } = err as { stdout: string; stderr: string; code: number });
  }
  const lines = stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogLine);
  return { code, lines, stderr, file };
}

const warnings = (r: Result) => r.lines.filter((l) => l.level === 40 && /is not used|are not used/.test(l.msg));

const fileMatch = (dir: string, bufferLines: string[]) => [
  '<source>', '  @type http', '  port 0', '</source>',
  '<match **>', '  @type file', `  path ${dir}/out`,
  '  <buffer>', '    @type file', `    path ${dir}/buf`, ...bufferLines.map((l) => `    ${l}`), '  </buffer>',
  '</match>', '',
].join('\n');

test("a misspelt `timekye 10` → one warning at its line: did you mean 'timekey'?", async (t) => {
  const r = await dryRun(t, (dir) => fileMatch(dir, ['timekye 10']));
  assert.equal(r.code, 0, r.stderr);
  const w = warnings(r);
  assert.deepEqual(w.map((l) => [l.config, l.msg]), [
    [`${r.file}:11`, "parameter 'timekye' in <buffer> is not used; did you mean 'timekey'? (fix the spelling or remove it)"],
  ]);
  // The section dump is not printed at the default level.
  assert.ok(!r.lines.some((l) => l.msg.includes('the section as read')), JSON.stringify(r.lines));
});

test('two unknown params in one section → one line naming both, each with its guess', async (t) => {
  const r = await dryRun(t, (dir) => fileMatch(dir, ['timekye 10', 'flush_intervl 5s', 'zzz 1']));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(warnings(r).map((l) => [l.config, l.msg]), [[
    `${r.file}:11`,
    "parameters 'timekye' (did you mean 'timekey'?), 'flush_intervl' (did you mean 'flush_interval'?), 'zzz' in <buffer> are not used (fix the spelling or remove them)",
  ]]);
});

test('a name far from every known one gets no guess', async (t) => {
  const r = await dryRun(t, (dir) => fileMatch(dir, ['completely_unrelated yes']));
  assert.deepEqual(warnings(r).map((l) => l.msg), ["parameter 'completely_unrelated' in <buffer> is not used (remove it)"]);
});

test('an unused <buffer> of 7 lines inside <source> → warned once, at the section line (Fluentd: 7 times)', async (t) => {
  const r = await dryRun(t, (dir) => [
    '<source>', '  @type http', '  port 0',
    '  <buffer>', '    @type file', `    path ${dir}/srcbuf`, '    flush_thread_count 8', '    flush_interval 1s',
    '    chunk_limit_size 1m', '    total_limit_size 10m', '    retry_forever true', '  </buffer>',
    '</source>', '<match **>', '  @type null', '</match>', '',
  ].join('\n'));
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(warnings(r).map((l) => [l.config, l.msg]), [
    [`${r.file}:4`, 'section <buffer> is not used in <source> of http plugin (remove it, or move it where it belongs)'],
  ]);
});

test('-v adds the whole section as read, once per warning, secrets masked', async (t) => {
  const r = await dryRun(t, (dir) => fileMatch(dir, ['timekye 10']), ['-v']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(warnings(r).length, 1);
  const dumps = r.lines.filter((l) => l.level === 20 && l.msg.startsWith('the section as read'));
  assert.equal(dumps.length, 1, JSON.stringify(r.lines));
  assert.match(dumps[0].msg, /^the section as read:\n<buffer>\n {2}@type "?file"?\n {2}path "?[^\n]+\/buf"?\n {2}timekye 10\n<\/buffer>$/);
  assert.equal(dumps[0].config, `${r.file}:11`);
});
