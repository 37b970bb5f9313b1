// SIGHUP / SIGUSR2: reload fluent.conf in the same process (Fluentd's signals:
// SIGHUP restarts the worker with the new file, SIGUSR2 rebuilds the pipeline;
// one process here, so both rebuild it). The new file is parsed and every
// plugin built first; if that fails the error (file:line) is logged and the
// running pipeline keeps serving. Otherwise the old pipeline stops (in-flight
// requests finish, file buffers stay on disk) and the new one starts, resuming
// those chunks by buffer path.

import { parseConfigFile } from '../config/parser.ts';
import type { ConfigElement } from '../params/element.ts';
import { loadReceiver, runLoaded, type Receiver, type ReceiverOptions } from '../receiver.ts';
import { AuditrelayError } from '../errors.ts';

/** One line per top-level section, to log what a reload added and removed. */
export function sectionKeys(root: ConfigElement): string[] {
  const keys: string[] = [];
  const walk = (parent: ConfigElement, prefix: string) => {
    for (const e of parent.elements) {
      if (e.name === 'label') {
        walk(e, `${prefix}<label ${e.arg}> `);
        continue;
      }
      const type = e.params.get('@type')?.value;
      const where = e.params.get('path')?.value ?? e.params.get('port')?.value;
      keys.push(`${prefix}<${e.name}${e.arg ? ' ' + e.arg : ''}>${type ? ' @type ' + type : ''}${where ? ' ' + where : ''}`);
    }
  };
  walk(root, '');
  return keys;
}

export class ReloadableReceiver {
  readonly #configPath: string;
  #current: Receiver;
  #sections: string[];
  #queue: Promise<unknown> = Promise.resolve();
  readonly #worker: Pick<ReceiverOptions, 'workers' | 'workerId'>;

  /** `worker`: the --workers override and this worker's id, kept across reloads. */
  constructor(receiver: Receiver, configPath: string, worker: Pick<ReceiverOptions, 'workers' | 'workerId'> = {}) {
    this.#current = receiver;
    this.#configPath = configPath;
    this.#worker = worker;
    this.#sections = safeSections(configPath);
  }

  get current(): Receiver {
    return this.#current;
  }

  /** Reloads (one at a time); resolves true when the new config runs, false when the old one was kept. */
  reload(signal: string): Promise<boolean> {
    const run = this.#queue.then(() => this.#reload(signal));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(signal: string): Promise<boolean> {
    const old = this.#current;
    const log = old.log;
    log.info({ signal, path: this.#configPath }, 'reloading config');
    let loaded;
    try {
      loaded = await loadReceiver({ ...this.#worker, configPath: this.#configPath, processLog: old.processLog });
    } catch (err) {
      const message = err instanceof AuditrelayError ? err.message : (err as Error)?.message ?? String(err);
      log.error({ signal, error: message }, `config reload failed, keeping the running configuration: ${message}`);
      return false;
    }
    const next = sectionKeys(loaded.root);
    const added = next.filter((k) => !this.#sections.includes(k));
    const removed = this.#sections.filter((k) => !next.includes(k));
    await old.agent.stop();
    this.#current = await runLoaded(loaded);
    this.#sections = next;
    log.info({ signal, added, removed, kept: next.length - added.length }, 'config reloaded');
    return true;
  }
}

function safeSections(path: string): string[] {
  try {
    return sectionKeys(parseConfigFile(path));
  } catch {
    return [];
  }
}
