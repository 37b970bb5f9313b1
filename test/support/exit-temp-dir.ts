// Temp directories for helpers that have no test context to hang a cleanup on (fixtures made at
// module level, defaults of shared helpers): removed when the test process exits, whether its
// tests passed or failed, so no run leaves private keys behind in /tmp (issue 13.9).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
let hooked = false;

export function exitTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
