// Removing a chunk's files. A failed unlink used to vanish in `.catch(() => {})`; a chunk file
// that cannot be removed (EACCES, EROFS, EBUSY) stays on disk and is uploaded again at the next
// start, so it deserves a warning. ENOENT is expected (a crash between the two unlinks, or a
// purge racing a close) and only shows at debug.
import { unlink } from 'node:fs/promises';

export interface RemoveLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export async function removeFile(path: string, log: RemoveLog | undefined, why: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') log?.debug({ path }, `${why}: already gone`);
    else (log ?? consoleLog).warn({ path, code, error: (err as Error).message }, `${why}: could not remove the file; it stays on disk and is read again at the next start`);
  }
}

const consoleLog: RemoveLog = {
  debug: () => {},
  warn: (obj, msg) => process.emitWarning(`${msg} ${JSON.stringify(obj)}`),
};
