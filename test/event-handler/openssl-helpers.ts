// openssl is a hard requirement of these tests: a missing binary fails them, it never skips.
import { execFile } from 'node:child_process';

export interface OpensslResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function openssl(args: readonly string[], cwd: string): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile('openssl', args, { cwd }, (err, stdout, stderr) => {
      if (err !== null && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('openssl is not on PATH: these tests need it (install the openssl package)'));
        return;
      }
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
