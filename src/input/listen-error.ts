// A listener that cannot bind (issue 13.2): one line naming the port, the
// address, who holds it when /proc tells (Linux), and the config line to
// change — instead of a raw EADDRINUSE stack and a process that stays up.

import { readFile, readdir, readlink } from 'node:fs/promises';
import { AuditrelayError } from '../errors.ts';

export type ListenErrorCode = 'AR_LISTEN_IN_USE' | 'AR_LISTEN_DENIED' | 'AR_LISTEN_BAD_ADDRESS' | 'AR_LISTEN_FAILED';

export interface ListenTarget {
  readonly port: number;
  readonly bind: string;
  /** The section, e.g. `<source>`. */
  readonly section: string;
  /** `file:line` of the `port` line, or of the section when port is defaulted. */
  readonly where: string;
  /** Whether `port` is written in the section (else: the default). */
  readonly explicit: boolean;
}

export class ListenError extends AuditrelayError<ListenErrorCode> {
  readonly port: number;
  readonly bind: string;
  readonly pid: number | undefined;
  /** What went wrong, without the fix (callers that own the port, like `npm start`, add their own). */
  readonly problem: string;
  constructor(code: ListenErrorCode, problem: string, fix: string, target: ListenTarget, pid: number | undefined, cause: unknown) {
    super(code, `${problem}; ${fix} [${code}]`, { cause });
    this.name = 'ListenError';
    this.port = target.port;
    this.bind = target.bind;
    this.pid = pid;
    this.problem = problem;
  }
}

/** Turns listen()'s errno error into a ListenError (other errors pass through). */
export async function listenError(err: unknown, target: ListenTarget): Promise<unknown> {
  const code = (err as NodeJS.ErrnoException)?.code;
  const { port, bind, section, where } = target;
  const change = target.explicit ? `change ${section} port at ${where}` : `add a line 'port N' to ${section} at ${where}`;
  switch (code) {
    case 'EADDRINUSE': {
      const holder = await listeningPid(port);
      const by = holder === undefined ? '' : ` (by pid ${holder.pid}${holder.comm ? ` ${holder.comm}` : ''})`;
      return new ListenError('AR_LISTEN_IN_USE', `port ${port} on ${bind} is in use${by}`, `stop that process or ${change}`, target, holder?.pid, err);
    }
    case 'EACCES':
      return new ListenError('AR_LISTEN_DENIED', `port ${port} on ${bind} needs privileges (ports below 1024 need root or CAP_NET_BIND_SERVICE)`,
        `use a port >= 1024: ${change}`, target, undefined, err);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError('AR_LISTEN_BAD_ADDRESS', `cannot listen on ${bind}:${port}: ${bind} is not an address of this machine (${code})`,
        `change ${section} bind (0.0.0.0 listens on every address)`, target, undefined, err);
    default:
      if (typeof code === 'string' && code.startsWith('E')) {
        return new ListenError('AR_LISTEN_FAILED', `cannot listen on ${bind}:${port}: ${(err as Error).message}`, change, target, undefined, err);
      }
      return err;
  }
}

/** The process listening on TCP `port` (Linux /proc; undefined elsewhere or when it is not ours to see). */
export async function listeningPid(port: number): Promise<{ pid: number; comm: string } | undefined> {
  const inodes = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; st 0A = LISTEN; inode is the 10th field.
      if (f.length > 9 && f[1].endsWith(`:${hex}`) && f[3] === '0A') inodes.add(`socket:[${f[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  const pids = await readdir('/proc').catch(() => [] as string[]);
  for (const pid of pids) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (inodes.has(target)) {
        // argv[0]'s base name (comm is a thread name: Node's says "MainThread").
        const argv0 = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0')[0];
        return { pid: Number(pid), comm: argv0.slice(argv0.lastIndexOf('/') + 1) };
      }
    }
  }
  return undefined;
}
