// Runs bin/auditrelay-event-handler as a child process, as a user would.
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/auditrelay-event-handler', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** stdin: a string/Buffer is piped; 'devnull' is /dev/null (a character device, not a terminal). */
export function runCli(args: readonly string[], cwd: string, stdin: string | Buffer | 'devnull' = 'devnull'): Promise<CliResult> {
  const devnull = stdin === 'devnull' ? openSync('/dev/null', 'r') : undefined;
  const child = spawn(BIN, args, { cwd, stdio: [devnull ?? 'pipe', 'pipe', 'pipe'] });
  if (devnull !== undefined) closeSync(devnull);
  else child.stdin?.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The nine files of a v16 `configure`, in upstream's write order. */
export const NINE_FILES = [
  'ca.crt', 'ca.key', 'server.crt', 'server.key', 'client.crt', 'client.key',
  'teleport-event-handler-role.yaml', 'fluent.conf', 'teleport-event-handler.toml',
] as const;

export function expectedStdout(version: string): string {
  return `Teleport event handler ${version}

[1] mTLS Fluentd certificates generated and saved to ca.crt, ca.key, server.crt, server.key, client.crt, client.key
[2] Generated sample teleport-event-handler role and user file teleport-event-handler-role.yaml
[3] Generated sample fluentd configuration file fluent.conf
[4] Generated plugin configuration file teleport-event-handler.toml

Follow-along with our getting started guide:

https://goteleport.com/docs/management/export-audit-events/fluentd/
`;
}

/** The passphrase configure wrote into fluent.conf (bytes as a binary string). */
export function passphraseOf(fluentConf: string): string {
  const m = /private_key_passphrase "([^"]*)"/.exec(fluentConf);
  if (m === null) throw new Error('fluent.conf has no private_key_passphrase line');
  return m[1];
}
