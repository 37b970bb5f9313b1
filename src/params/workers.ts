// `<worker N>` / `<worker N-M>` sections (lib/fluent/root_agent.rb RootAgent#configure,
// config/element.rb set_target_worker_ids): their <source>/<match>/<filter>/<label>
// run only in those workers. Fluentd appends a section's contents after the
// top-level ones (`conf += e`) and skips, in a worker, whatever targets another
// one; a plugin inside such a section sees `workers` = the number of its target
// workers (base.rb system_config_override), so a file buffer in `<worker 0>`
// keeps `<path>/buffer.*` without a `worker0/` sub-directory.

import type { ConfigElement } from './element.ts';
import { ConfigError } from './errors.ts';

const SUPPORTED = ['source', 'match', 'filter', 'label'];

/** Target worker ids of the elements that came from a `<worker>` section (and their nested sections). */
const targets = new WeakMap<ConfigElement, readonly number[]>();

/** The `workers` a plugin built from `element` sees: its `<worker>` targets' count, else the system's. */
export function workersSeenBy(element: ConfigElement, systemWorkers: number): number {
  return targets.get(element)?.length ?? systemWorkers;
}

/** Ruby's String#to_i: leading digits (after an optional sign), else 0. */
function rubyToI(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  return m ? Number(m[1]) : 0;
}

function mark(element: ConfigElement, ids: readonly number[]): void {
  targets.set(element, ids);
  for (const e of element.elements) mark(e, ids);
}

/**
 * Validates every `<worker>` section as Fluentd does and flattens the ones for
 * `workerId` into `root` (after the top-level sections); the others' contents
 * are dropped from this worker's tree. `workerId` undefined (the primary):
 * validate only, keep everything out of the tree.
 */
export function applyWorkerSections(root: ConfigElement, workers: number, workerId: number | undefined): void {
  const used: number[] = [];
  const available = Array.from({ length: workers }, (_, i) => i);
  const outOfRange = (id: number, e: ConfigElement): ConfigError =>
    new ConfigError('AR_CONF_WORKERS', e.pos,
      `worker id ${id} specified by <worker> directive is not allowed. Available worker id is between 0 and ${workers - 1}`);
  const checkChildren = (e: ConfigElement): void => {
    for (const elem of e.elements) {
      if (!SUPPORTED.includes(elem.name)) throw new ConfigError('AR_CONF_WORKERS', elem.pos, `<worker> section cannot have <${elem.name}> directive`);
    }
  };
  const appended: ConfigElement[] = [];
  const kept: ConfigElement[] = [];
  for (const e of root.elements) {
    if (e.name !== 'worker') {
      kept.push(e);
      continue;
    }
    e.used = true;
    if (e.arg === '') throw new ConfigError('AR_CONF_WORKERS', e.pos, 'Missing worker id on <worker> directive');
    const parts = e.arg.split('-');
    let ids: number[];
    if (parts.length === 2) {
      const first = rubyToI(parts[0]!);
      const last = rubyToI(parts[1]!);
      if (first > last) {
        throw new ConfigError('AR_CONF_WORKERS', e.pos,
          `greater first_worker_id<${first}> than last_worker_id<${last}> specified by <worker> directive is not allowed. Available multi worker assign syntax is <smaller_worker_id>-<greater_worker_id>`);
      }
      ids = [];
      for (let id = first; id <= last; id++) {
        ids.push(id);
        if (id < 0 || id > workers - 1) throw outOfRange(id, e);
        const at = available.indexOf(id);
        if (at >= 0) available.splice(at, 1);
        if (used.includes(id)) {
          throw new ConfigError('AR_CONF_WORKERS', e.pos,
            `specified worker_id<${id}> collisions is detected on <worker> directive. Available worker id(s): [${available.join(', ')}]`);
        }
        used.push(id);
      }
    } else {
      const id = rubyToI(e.arg);
      if (id < 0 || id > workers - 1) throw outOfRange(id, e);
      ids = [id];
    }
    checkChildren(e);
    for (const child of e.elements) {
      mark(child, ids);
      if (workerId !== undefined && ids.includes(workerId)) appended.push(child);
    }
  }
  root.elements.splice(0, root.elements.length, ...kept, ...appended);
}
