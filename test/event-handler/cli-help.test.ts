// `start --help` and `configure --help` print that command's own flags, defaults and env vars
// (issue 14 §4), not the global text; the global --help points at them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { START_FLAGS } from '../../src/event-handler/start/start-config.ts';
import { runCli } from './cli-helpers.ts';

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'ar-help-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('start --help: every start flag with its default and env var; not the global command list', async (t) => {
  const cwd = dir(t);
  for (const args of [['start', '--help'], ['start', '-h'], ['--help', 'start']]) {
    const r = await runCli(args, cwd);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Usage: auditrelay-event-handler start /);
    assert.doesNotMatch(r.stdout, /configure <out>/);
    for (const [name, spec] of Object.entries(START_FLAGS)) {
      const line = r.stdout.split('\n').find((l) => new RegExp(`^\\s+(-d, )?--${name}[= ]`).test(l));
      assert.ok(line !== undefined, `--${name} missing from start --help`);
      if ('env' in spec) assert.ok(line.includes(`($${spec.env})`), `--${name}: no $${spec.env}: ${line}`);
      if ('default' in spec && spec.type !== 'bool') assert.ok(line.includes(`(default: ${spec.default})`), `--${name}: no default: ${line}`);
    }
    assert.match(r.stdout, /--teleport-addr=STRING\s+.*\(default: localhost:3025\) \(\$FDFWD_TELEPORT_ADDR\)/);
    assert.match(r.stdout, /--fluentd-cert=FILE\s+.*\(\$FDWRD_FLUENTD_CERT\)/);
    assert.match(r.stdout, /--storage=STRING\s+.*\(required\) \(\$FDFWD_STORAGE\)/);
  }
});

test('configure --help: its arguments and flags with defaults; global --help lists the commands', async (t) => {
  const cwd = dir(t);
  const r = await runCli(['configure', '--help'], cwd);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: auditrelay-event-handler configure <out> \[<addr>\]/);
  assert.doesNotMatch(r.stdout, /--fluentd-url/);
  for (const re of [/--ttl=DURATION\s+.*\(default: 87600h\)/, /--length=INT\s+.*\(default: 4096\)/, /--cn=STRING\s+.*\(default: localhost\)/, /--force\s/, /--dns-names=/, /--ip=/, /--output=STRING\s+.*\(default: fluentd\)/, /\[<addr>\]\s+.*\(default: localhost:3025\)/]) {
    assert.match(r.stdout, re);
  }
  const g = await runCli(['--help'], cwd);
  assert.equal(g.code, 0);
  assert.match(g.stdout, /Commands:\n\s+version\n[\s\S]*configure <out>[\s\S]*start\n/);
  assert.doesNotMatch(g.stdout, /--fluentd-url/);
});
