// SIGHUP / SIGUSR2 on bin/auditrelay: a new <match> takes effect in the same
// pid; a broken file is refused with file:line and the old config keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';

const BIN = new URL('../../bin/auditrelay', import.meta.url).pathname;

function conf(dir: string, port: number, extra = ''): string {
  return `<source>\n  @type http\n  bind 127.0.0.1\n  port ${port}\n</source>\n` +
    `<match a.**>\n  @type file\n  path ${dir}/a\n  append true\n  <buffer>\n    flush_mode immediate\n  </buffer>\n</match>\n${extra}`;
}
const NEW_MATCH = (dir: string) => `<match b.**>\n  @type file\n  path ${dir}/b\n  append true\n  <buffer>\n    flush_mode immediate\n  </buffer>\n</match>\n`;

async function post(port: number, tag: string, n: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/${tag}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) });
  await res.text();
  return res.status;
}

async function lines(dir: string, prefix: string): Promise<string> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((f) => f.isFile() && f.name.startsWith(prefix)).map((f) => f.name).sort();
  return (await Promise.all(names.map((f) => readFile(join(dir, f), 'utf8')))).join('');
}

for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
  test(`${signal}: a new <match> takes effect in the same pid; a broken config keeps the old one serving`, async (t) => {
    const defer = cleanup(t);
    const dir = await mkdtemp(join(tmpdir(), 'ar-reload-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const file = join(dir, 'fluent.conf');
    await writeFile(file, conf(dir, port));
    const child = spawn(BIN, ['-c', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    defer(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
    const waitFor = async (re: RegExp, from: number) => {
      while (!re.test(out.slice(from))) {
        if (child.exitCode !== null) assert.fail(`exited ${child.exitCode}: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    await waitFor(/worker is now running/, 0);
    assert.equal(await post(port, 'a.x', 1), 200);
    assert.equal(await post(port, 'b.x', 1), 200); // no match yet: dropped with a warning
    await writeFile(file, conf(dir, port, NEW_MATCH(dir)));
    let mark = out.length;
    child.kill(signal);
    await waitFor(/config reloaded/, mark);
    assert.match(out.slice(mark), /<match b\.\*\*> @type file/);
    assert.equal(await post(port, 'b.x', 2), 200);
    assert.equal(await post(port, 'a.x', 2), 200);
    // a broken file: error with file:line, the running config keeps serving
    await writeFile(file, conf(dir, port, NEW_MATCH(dir)) + '<match c.**>\n  @type nosuch\n</match>\n');
    mark = out.length;
    child.kill(signal);
    await waitFor(/config reload failed/, mark);
    assert.match(out.slice(mark), new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+`));
    assert.equal(await post(port, 'b.x', 3), 200);
    assert.equal(child.exitCode, null, 'same process still running');
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    assert.equal(child.exitCode, 0, out);
    const b = await lines(dir, 'b');
    assert.match(b, /"n":2/);
    assert.match(b, /"n":3/);
    assert.doesNotMatch(b, /"n":1/);
    assert.match(await lines(dir, 'a'), /"n":2/);
  });
}
