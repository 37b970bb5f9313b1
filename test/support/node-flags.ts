// bin/node-flags as a list: the Node flags bin/auditrelay gives the receiver; bin/node-env: its environment. Read by
// bench/receiver.bench.ts (the receiver under test runs with them) and by the test that
// checks bin/auditrelay passes exactly these.
import { readFileSync } from 'node:fs';

export const NODE_FLAGS_FILE = new URL('../../bin/node-flags', import.meta.url).pathname;
export const NODE_ENV_FILE = new URL('../../bin/node-env', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');

/** The flags, as bin/auditrelay reads them (`#` to the end of a line is a comment, split on blanks). */
export function receiverNodeFlags(): string[] {
  return readFileSync(NODE_FLAGS_FILE, 'utf8').split('\n').flatMap((line) => line.replace(/#.*/, '').split(/\s+/)).filter(Boolean);
}

/** bin/node-env as bin/auditrelay applies it: NAME → value (`@root@` = the install), for variables not set in `env`. */
export function receiverNodeEnv(env: NodeJS.ProcessEnv = process.env, root = ROOT): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(NODE_ENV_FILE, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const name = line.slice(0, line.indexOf('='));
    if (env[name] === undefined) out[name] = line.slice(name.length + 1).replaceAll('@root@', root);
  }
  return out;
}
