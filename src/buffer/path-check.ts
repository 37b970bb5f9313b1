// Can this process keep chunks under the buffer `path`? (issue 13.3) Checked
// when the file buffer is built, so both the start and --dry-run say it, and
// again when start() creates the directory: one line naming the path, the
// user, why (in words) and the config line, instead of a raw EACCES/ENOTDIR
// stack later. Sync calls: this runs at configure time.

import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { SourcePos } from '../params/element.ts';
import { BufferPathError } from './errors.ts';

export interface BufferPathTarget {
  /** `path` as configured. */
  readonly path: string;
  /** The directory the chunk files go in (dirname of the resolved pattern). */
  readonly dir: string;
  /** The `path` line (or the section when the path is a default). */
  readonly where: SourcePos | undefined;
}

/** "user nobody (uid 65534, gid 65534)", or "uid 1234 …" when the uid has no passwd entry. */
export function currentUser(): string {
  const uid = process.getuid?.() ?? -1;
  const gid = process.getgid?.() ?? -1;
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = undefined;
  }
  return name !== undefined && name !== '' ? `user ${name} (uid ${uid}, gid ${gid})` : `uid ${uid} (gid ${gid})`;
}

/** Throws BufferPathError when the chunk directory cannot be created or written. */
export function checkBufferPath(target: BufferPathTarget): void {
  const dir = resolve(target.dir);
  let at = dir;
  let st: Stats | undefined;
  // The nearest part of the path that exists: start() creates the rest.
  for (;;) {
    try {
      st = statSync(at);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES') || dirname(at) === at) throw pathError(target, at, err);
      at = dirname(at);
    }
  }
  if (!st.isDirectory()) throw pathError(target, at, Object.assign(new Error('not a directory'), { code: 'ENOTDIR' }), st);
  // An existing chunk directory is also read (resume); a new one only needs its parent writable.
  const mode = at === dir ? constants.R_OK | constants.W_OK | constants.X_OK : constants.W_OK | constants.X_OK;
  try {
    accessSync(at, mode);
  } catch (err) {
    throw pathError(target, at, err, st);
  }
}

/** The same one line for an errno error raised while using the path (start's mkdir/readdir). */
export function bufferPathError(target: BufferPathTarget, at: string, err: unknown): BufferPathError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code !== 'EACCES' && code !== 'EPERM' && code !== 'ENOTDIR' && code !== 'EROFS' && code !== 'ENOENT' && code !== 'EEXIST') return undefined;
  // The check walks the path, so it names the part in the way (a file, a 0700 parent).
  try {
    checkBufferPath(target);
  } catch (found) {
    if (found instanceof BufferPathError) return found;
  }
  let st: Stats | undefined;
  try {
    st = statSync(at);
  } catch {
    st = undefined;
  }
  return pathError(target, at, err, st);
}

function pathError(target: BufferPathTarget, at: string, err: unknown, st?: Stats): BufferPathError {
  const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
  const where = target.where ? `${target.where.file}:${target.where.line}: ` : '';
  const shown = at === resolve(target.dir) || at === resolve(target.path) ? at : `${at} (on the way to ${target.dir})`;
  const [why, fix] = reason(code, shown, at, st);
  const msg = `${where}buffer path ${target.path} cannot be used by ${currentUser()}: ${why}; ${fix}, or set \`path\` to a writable directory`;
  return new BufferPathError(msg, target.path, code, err);
}

function reason(code: string, shown: string, at: string, st: Stats | undefined): [string, string] {
  const owner = st ? ` (owner uid ${st.uid}, gid ${st.gid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})` : '';
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return [`${shown} is a file, not a directory (ENOTDIR)`, `move that file away`];
    case 'EACCES':
    case 'EPERM':
      return [`${shown} is not writable by this user: permission denied (${code})${owner}`,
        `make it writable for uid ${process.getuid?.() ?? '?'} (e.g. chown ${process.getuid?.() ?? '?'} ${at}), run as its owner (--user)`];
    case 'EROFS':
      return [`${shown} is on a read-only file system (EROFS)`, `mount a writable volume there`];
    case 'ENOENT':
      return [`${shown} does not exist (ENOENT)`, `create it`];
    default:
      return [`${shown}: ${code}`, `check the directory`];
  }
}
