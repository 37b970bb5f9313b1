// What people pass to `fluentd` (container commands, systemd units) is what
// bin/auditrelay accepts: honoured (-c, -o, -v/-q, --umask, -d), ignored with one
// note and never an exit (-p, --log-rotate-*, --workers N), or refused with one
// line saying what to do (-i).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseFluentdFlags, type FluentdOptions } from '../../src/cli/fluentd-flags.ts';
import { cleanup } from '../support/cleanup.ts';

const run = promisify(execFile);
const BIN = new URL('../../bin/auditrelay', import.meta.url).pathname;

function ok(argv: string[]): FluentdOptions {
  const r = parseFluentdFlags(argv);
  assert.ok(r.ok, r.ok ? '' : r.message);
  return r.options;
}
function refused(argv: string[]): string {
  const r = parseFluentdFlags(argv);
  assert.ok(!r.ok, `${argv.join(' ')} should be refused`);
  return r.message;
}

test('OptionParser forms: attached, =, grouped shorts, unique prefixes', () => {
  assert.equal(ok(['-c', 'a.conf']).config, 'a.conf');
  assert.equal(ok(['-ca.conf']).config, 'a.conf');
  assert.equal(ok(['--config=a.conf']).config, 'a.conf');
  assert.equal(ok(['--config', 'a.conf']).config, 'a.conf');
  assert.equal(ok(['--dry']).dryRun, true);
  assert.equal(ok(['-vv']).verbosity, 2);
  assert.equal(ok(['-v', '-v', '-q']).verbosity, 1);
  assert.equal(ok(['-qq']).verbosity, -2);
  assert.equal(ok(['-o', '/tmp/x.log']).log, '/tmp/x.log');
  assert.equal(ok(['--log=/tmp/x.log']).log, '/tmp/x.log');
  assert.deepEqual(ok(['-vc', 'a.conf']), { ...ok([]), verbosity: 1, config: 'a.conf' });
  assert.match(refused(['--conf', 'x']), /--conf is ambiguous: --config, --conf-encoding, --config-file-type/);
  assert.match(refused(['--frob']), /^unknown option --frob; auditrelay --help lists the options$/);
  assert.match(refused(['-Z']), /^unknown option -Z/);
  assert.match(refused(['stray']), /^unexpected argument stray/);
  assert.match(refused(['-c']), /^-c\/--config needs a value$/);
  assert.match(refused(['--dry-run=yes']), /--dry-run takes no value/);
});

test('honoured: --umask (octal), -d PIDFILE, --user/--group, --workers 1', () => {
  assert.equal(ok(['--umask', '027']).umask, 0o027);
  assert.equal(ok(['--umask', '0077']).umask, 0o077);
  assert.match(refused(['--umask', '9']), /^--umask 9: not an octal mask; write it like 0022 or 027$/);
  const d = ok(['-d', '/run/ar.pid']);
  assert.equal(d.pidFile, '/run/ar.pid');
  assert.match(d.notes[0] ?? '', /stays in the foreground and writes its pid to \/run\/ar\.pid/);
  assert.deepEqual([ok(['--user', 'fluent']).user, ok(['--group', '999']).group], ['fluent', '999']);
  const w = ok(['--workers', '1', '--no-supervisor', '--suppress-config-dump', '--use-v1-config', '--under-supervisor']);
  assert.deepEqual(w.notes, []);
  assert.match(refused(['--workers', 'two']), /whole number/);
});

test('ignored with one note each: -p (repeated), -I, -r, gems, log rotation; --workers N honoured', () => {
  const o = ok(['-p', '/fluentd/plugins', '--plugin', '/other', '-I', 'lib', '-r', 'x', '-g', 'Gemfile', '-G', 'gems',
    '--log-rotate-age', '5', '--log-rotate-size', '1048576', '--workers', '4', '--suppress-repeated-stacktrace', 'false',
    '--emit-error-log-interval', '30', '--log-event-verbose', '--strict-config-value', '--conf-encoding', 'utf-8']);
  assert.equal(o.notes.filter((n) => n.startsWith('-p/--plugin ')).length, 1, o.notes.join('\n'));
  assert.match(o.notes[0]!, /^-p\/--plugin \/fluentd\/plugins ignored: auditrelay has its plugins built in/);
  for (const flag of ['-I ', '-r ', '-g/--gemfile ', '-G/--gem-path ', '--log-rotate-age 5 ignored', '--log-rotate-size ', '--suppress-repeated-stacktrace false ignored', '--emit-error-log-interval ', '--log-event-verbose ', '--strict-config-value ', '--conf-encoding ']) {
    assert.ok(o.notes.some((n) => n.startsWith(flag)), `no note for ${flag}: ${o.notes.join('\n')}`);
  }
  assert.equal(o.notes.length, 12);
  assert.equal(o.workers, 4); // honoured since issue 16 §3 (src/cli/supervisor.ts)
  // an optional value is not taken from the next option
  assert.equal(ok(['--suppress-repeated-stacktrace', '-v']).verbosity, 1);
});

test('refused with what to do instead: -i, v0 syntax, yaml, --without-source, --setup', () => {
  assert.equal(refused(['-i', '<source>\n@type http\n</source>']), '-i/--inline-config is not supported: put the configuration in a file and pass it with -c FILE');
  assert.equal(refused(['--inline-config=<match **>']), '-i/--inline-config is not supported: put the configuration in a file and pass it with -c FILE');
  assert.match(refused(['--use-v0-config']), /v1 syntax only/);
  assert.match(refused(['--config-file-type', 'yaml']), /yaml is not supported: write the configuration in Fluentd's own syntax/);
  assert.equal(ok(['--config-file-type', 'guess']).config, undefined);
  assert.match(refused(['--without-source']), /no <source>/);
  assert.match(refused(['-s']), /conf\/quickstart\.conf/);
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function auditrelay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, args, { env: { PATH: '/usr/bin:/bin' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function writeConf(dir: string, port: number): string {
  const conf = join(dir, 'fluent.conf');
  writeFileSync(conf, `<source>\n  @type http\n  port ${port}\n  bind 127.0.0.1\n</source>\n<match **>\n  @type file\n  path ${dir}/out/events\n  <buffer>\n    @type file\n    path ${dir}/buffer\n  </buffer>\n</match>\n`);
  return conf;
}

test('bin/auditrelay: `fluentd -c X -p /fluentd/plugins --dry-run` passes with the note; -i exits 1 with one line', async (t) => {
  const defer = cleanup(t);
  const dir = mkdtempSync(join(tmpdir(), 'ar-flags-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const conf = writeConf(dir, 24880);
  const r = await auditrelay(['fluentd', '-c', conf, '-p', '/fluentd/plugins', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /"msg":"-p\/--plugin \/fluentd\/plugins ignored: auditrelay has its plugins built in/);
  assert.match(r.stdout, /finished dry run mode/);
  const i = await auditrelay(['-c', conf, '-i', '<source>']);
  assert.equal(i.code, 1);
  assert.equal(i.stderr, 'auditrelay: -i/--inline-config is not supported: put the configuration in a file and pass it with -c FILE\n');
  const u = await auditrelay(['-c', conf, '--umask', '8']);
  assert.equal(u.code, 1);
  assert.equal(u.stderr.split('\n').length, 2, u.stderr);
});

test('bin/auditrelay serving: -d writes (and removes) the pid file, --umask applies to the -o log and the buffer', async (t) => {
  const defer = cleanup(t);
  const dir = mkdtempSync(join(tmpdir(), 'ar-flags-'));
  defer(() => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const conf = writeConf(dir, port);
  const pidFile = join(dir, 'auditrelay.pid');
  const log = join(dir, 'auditrelay.log');
  const child = spawn(BIN, ['-c', conf, '-d', pidFile, '--umask', '077', '-o', log, '--log-rotate-age', '5', '--no-supervisor'], { env: { PATH: '/usr/bin:/bin' }, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  defer(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const deadline = Date.now() + 20_000;
  while (!existsSync(pidFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.equal(readFileSync(pidFile, 'utf8'), `${child.pid}\n`, 'the launcher execs node, so the pid is the one systemd sees');
  const res = await fetch(`http://127.0.0.1:${port}/app.log`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  assert.equal(res.status, 200);
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.equal(existsSync(pidFile), false, 'pid file removed at exit');
  assert.equal(statSync(log).mode & 0o777, 0o600, 'log file honours --umask 077');
  assert.equal(statSync(join(dir, 'buffer')).mode & 0o777, 0o700, 'buffer dir 0755 & ~077');
  assert.match(readFileSync(log, 'utf8'), /--log-rotate-age 5 ignored: auditrelay does not rotate its log/);
});
