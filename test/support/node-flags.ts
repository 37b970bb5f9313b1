// bin/node-flags as a list: the Node flags bin/auditrelay gives the receiver. Read by
// bench/receiver.bench.ts (the receiver under test runs with them) and by the test that
// checks bin/auditrelay passes exactly these.
import { readFileSync } from 'node:fs';

export const NODE_FLAGS_FILE = new URL('../../bin/node-flags', import.meta.url).pathname;

/** The flags, as bin/auditrelay reads them (`#` to the end of a line is a comment, split on blanks). */
export function receiverNodeFlags(): string[] {
  return readFileSync(NODE_FLAGS_FILE, 'utf8').split('\n').flatMap((line) => line.replace(/#.*/, '').split(/\s+/)).filter(Boolean);
}
