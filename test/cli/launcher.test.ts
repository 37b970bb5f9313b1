// bin/auditrelay and bin/auditrelay-event-handler before `npm ci` (issue 13.8):
// a copy of bin/ with no node_modules beside it says what to run and exits 127,
// instead of the shell's "exec: …/node_modules/node/bin/node: not found".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { receiverNodeEnv, receiverNodeFlags } from '../support/node-flags.ts';

const BIN = new URL('../../bin', import.meta.url).pathname;
const NODE_MODULES = new URL('../../node_modules', import.meta.url).pathname;

function copyOfBin(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-launcher-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(BIN, join(dir, 'bin'), { recursive: true });
  return dir;
}

for (const name of ['auditrelay', 'auditrelay-event-handler']) {
  test(`${name} without node_modules: "run npm ci first", exit 127`, (t) => {
    const dir = copyOfBin(t);
    const r = spawnSync(join(dir, 'bin', name), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 127, r.stderr);
    assert.equal(r.stderr, `${name}: node_modules is missing in ${dir} — run \`npm ci\` there first\n`);
    assert.equal(r.stdout, '');
  });

  test(`${name} with node_modules but no pinned Node and only an old Node on PATH: exit 127, names both`, (t) => {
    const dir = copyOfBin(t);
    mkdirSync(join(dir, 'node_modules'));
    // /usr/bin:/bin holds this machine's Node 20 (or no node): too old either way.
    const r = spawnSync(join(dir, 'bin', name), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, new RegExp(`^${name}: the pinned Node 24 \\(.*node_modules/node/bin/node\\) is missing and no Node >= 24 is on PATH( \\(found Node \\d+\\))? — run \`npm ci\` in ${dir} first\\n$`));
  });
}

test('bin/auditrelay runs the receiver with the flags of bin/node-flags (what the benchmark reads)', (t) => {
  const dir = copyOfBin(t);
  symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
  mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
  // Stands in for the receiver: says which flags Node was started with.
  writeFileSync(join(dir, 'src', 'cli', 'receiver.ts'), 'process.stdout.write(JSON.stringify(process.execArgv));\n');
  const r = spawnSync(join(dir, 'bin', 'auditrelay'), ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const flags = receiverNodeFlags();
  assert.ok(flags.includes('--max-semi-space-size=2'), `bin/node-flags: ${flags.join(' ')}`);
  assert.deepEqual(JSON.parse(r.stdout), flags);
});

for (const [name, script] of [['auditrelay', 'receiver.ts'], ['auditrelay-event-handler', 'exporter.ts']] as const) test(`bin/${name} sets the environment of bin/node-env, each variable only when it is not set`, (t) => {
  const dir = copyOfBin(t);
  symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
  mkdirSync(join(dir, 'src', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'src', 'cli', script), 'process.stdout.write(JSON.stringify(process.env));\n');
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const want = receiverNodeEnv(base, dir);
  assert.deepEqual(Object.keys(want).sort(), ['MALLOC_ARENA_MAX', 'MALLOC_MMAP_THRESHOLD_', 'NODE_COMPILE_CACHE']);
  assert.equal(want.NODE_COMPILE_CACHE, join(dir, '.cache', 'node-compile'));
  const r = spawnSync(join(dir, 'bin', name), ['--version'], { encoding: 'utf8', env: base });
  assert.equal(r.status, 0, r.stderr);
  const got = JSON.parse(r.stdout) as Record<string, string>;
  for (const [name, value] of Object.entries(want)) assert.equal(got[name], value, name);
  const mine = spawnSync(join(dir, 'bin', name), ['--version'], { encoding: 'utf8', env: { ...base, MALLOC_ARENA_MAX: '1' } });
  assert.equal((JSON.parse(mine.stdout) as Record<string, string>).MALLOC_ARENA_MAX, '1', 'a variable already set is kept');
});
