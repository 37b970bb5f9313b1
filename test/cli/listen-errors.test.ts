// A listener that cannot bind (issue 13.2): bin/auditrelay and `npm start`
// print one line (port, address, holder's pid, the line to change) and exit 1
// at once, instead of a raw EADDRINUSE stack and a process left running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/auditrelay');

interface Exit { code: number | null; stderr: string; ms: number }
function runToExit(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}): Promise<Exit> {
  const started = Date.now();
  const child = spawn(cmd, args, { cwd: ROOT, env: { PATH: '/usr/bin:/bin', ...opts.env }, uid: opts.uid, gid: opts.gid, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stderr, ms: Date.now() - started })));
}

async function occupy(t: { after: (fn: () => Promise<void>) => void }, host: string): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((res) => server.listen(0, host, res));
  t.after(() => new Promise<void>((res) => server.close(() => res())));
  return (server.address() as AddressInfo).port;
}

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'ar-listen-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const conf = (port: number) => `<source>\n  @type http\n  port ${port}\n  bind 0.0.0.0\n</source>\n<match **>\n  @type null\n</match>\n`;

test('bin/auditrelay: port in use → one line with the holder pid and fluent.conf:3, exit 1', async (t) => {
  const port = await occupy(t, '0.0.0.0');
  const dir = tempDir(t);
  const file = join(dir, 'fluent.conf');
  writeFileSync(file, conf(port));
  const r = await runToExit(BIN, ['-c', file]);
  t.diagnostic(`exited after ${r.ms} ms`);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `auditrelay: port ${port} on 0.0.0.0 is in use (by pid ${process.pid} node); stop that process or change <source> port at ${file}:3 [AR_LISTEN_IN_USE]\n`);
});

test('bin/auditrelay: a port below 1024 without privileges → EACCES in words, exit 1', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755); // readable by the unprivileged user below
  const file = join(dir, 'fluent.conf');
  writeFileSync(file, conf(81), { mode: 0o644 });
  // As root, run the receiver as nobody (65534): root may bind any port.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = await runToExit(BIN, ['-c', file], asNobody);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `auditrelay: port 81 on 0.0.0.0 needs privileges (ports below 1024 need root or CAP_NET_BIND_SERVICE); use a port >= 1024: change <source> port at ${file}:3 [AR_LISTEN_DENIED]\n`);
});

test('npm start with AUDITRELAY_PORT taken → one line naming AUDITRELAY_PORT, exit 1', async (t) => {
  const port = await occupy(t, '127.0.0.1');
  const dev = tempDir(t);
  const r = await runToExit(join(ROOT, 'node_modules/.bin/node'), ['scripts/quickstart.ts'], { env: { AUDITRELAY_DEV: dev, AUDITRELAY_PORT: String(port) } });
  t.diagnostic(`exited after ${r.ms} ms (includes generating the dev certificates)`);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `npm start: port ${port} on 127.0.0.1 is in use (by pid ${process.pid} node); set AUDITRELAY_PORT to a free port (AUDITRELAY_PORT=${port + 1} npm start) [AR_LISTEN_IN_USE]\n`);
});

test('npm start with AUDITRELAY_S3_PORT taken → one line naming AUDITRELAY_S3_PORT, exit 1', async (t) => {
  const port = await occupy(t, '127.0.0.1');
  const dev = tempDir(t);
  const r = await runToExit(join(ROOT, 'node_modules/.bin/node'), ['scripts/quickstart.ts'], { env: { AUDITRELAY_DEV: dev, AUDITRELAY_PORT: '0', AUDITRELAY_S3_PORT: String(port) } });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `npm start: port ${port} on 127.0.0.1 is in use (by pid ${process.pid} node); set AUDITRELAY_S3_PORT to a free port (AUDITRELAY_S3_PORT=${port + 1} npm start) [AR_LISTEN_IN_USE]\n`);
});
