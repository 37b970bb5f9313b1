// The supervisor's dry run (src/cli/supervisor.ts), in a short-lived process of its
// own: it builds the pipeline of every worker id without opening anything, logs what
// worker 0's build logs (unused-param warnings) once, and answers on fd 3 with one
// JSON line. Done here, not in the primary, so that the primary never loads the
// plugins (S3 client, TLS, parsers): the pages they take would stay in a process that
// only forks and forwards signals (bench/receiver.bench.ts, issue 16: the primary
// held 142 MB RSS of the 478 MB `workers 2` used).
// Args: one JSON text, a ValidateRequest.

import { writeSync } from 'node:fs';
import type { Level } from 'pino';
import { loadReceiver } from '../receiver.ts';
import { AuditrelayError } from '../errors.ts';
import { createProcessLog } from '../log.ts';
import { ANSWER_FD } from './supervisor.ts';

export interface ValidateRequest {
  readonly configPath: string;
  readonly workers: number;
  readonly level: Level;
  readonly destination: string | undefined;
}

/** The line on fd 3: the values the primary needs, or why the config is refused. */
export type ValidateAnswer =
  | { readonly ok: true; readonly restartWorkerInterval: number }
  | { readonly ok: false; readonly code: string | undefined; readonly message: string; readonly stack: string | undefined };

export async function validateWorkers(r: ValidateRequest): Promise<ValidateAnswer> {
  const processLog = createProcessLog({ level: r.level, destination: r.destination });
  const quiet = createProcessLog({ level: 'silent' });
  try {
    let restartWorkerInterval = 0;
    for (let id = 0; id < r.workers; id++) {
      const loaded = await loadReceiver({ configPath: r.configPath, processLog: id === 0 ? processLog : quiet, workers: r.workers, workerId: id });
      restartWorkerInterval = loaded.restartWorkerInterval;
    }
    return { ok: true, restartWorkerInterval };
  } catch (err) {
    const e = err as Error;
    return { ok: false, code: err instanceof AuditrelayError ? err.code : undefined, message: e?.message ?? String(err), stack: e?.stack };
  } finally {
    processLog.flush();
  }
}

if (import.meta.main) {
  const answer = await validateWorkers(JSON.parse(process.argv[2]!) as ValidateRequest);
  writeSync(ANSWER_FD, `${JSON.stringify(answer)}\n`);
  process.exit(0);
}
