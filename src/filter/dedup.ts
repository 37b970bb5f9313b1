// filter_dedup (auditrelay's own; fluent-plugin-dedup has the name and `key`
// but only drops consecutive repeats and saves its state at shutdown): an event
// whose key (one or more record fields) was already accepted within `window`
// is dropped and counted; the input still answers 200.
//
// A key is remembered iff its event's buffer append was acknowledged: `begin`
// only reserves the keys of the events it passes on; the router calls `commit`
// once the output's emit resolved (and before the input answers), which
// journals them (src/filter/dedup-journal.ts), or `abort` when the emit failed,
// which forgets them. An event whose key is reserved by an emit still in flight
// waits for that emit's outcome: dropped if it was stored, accepted if not.
// Events lacking a key field pass through untouched.

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Event, Filter, FilterStep, Output, PluginContext, StoredReader } from '../plugin-api.ts';
import type { JsonRecord, JsonValue } from '../value/json-value.ts';
import { fieldOf } from '../value/record-field.ts';
import { KeyJournal } from './dedup-journal.ts';

export const params = {
  key: { type: 'array', required: true, desc: 'Record field(s) whose values identify an event, comma separated (uid; sid,ei).' },
  path: { type: 'string', required: true, desc: 'Directory holding the journal of accepted keys (keys.log); one per dedup filter.' },
  window: { type: 'time', default: 3600, desc: 'How long an accepted key is remembered.' },
  max_keys: { type: 'integer', default: 1_000_000, minimum: 1, desc: 'Most keys remembered; the oldest is forgotten first.' },
  fsync: { type: 'bool', desc: 'fsync the journal before answering; default: on when a file buffer after this filter has fsync on.' },
} as const satisfies ParamSchema;

export interface DedupCounters {
  accepted: number;
  dropped: number;
  /** Events lacking a key field, passed on without deduplication. */
  unkeyed: number;
}

export class DedupFilter implements Filter {
  static readonly type = 'dedup';
  /** Its journal of seen keys is one process's: a client's retry landing on another worker would pass. */
  static readonly multiWorkersReady = false;

  readonly #ctx: PluginContext;
  readonly #fields: readonly string[];
  readonly #journal: KeyJournal;
  readonly #pending = new Map<string, Promise<void>>();
  readonly #counters: DedupCounters = { accepted: 0, dropped: 0, unkeyed: 0 };
  #open = false;
  readonly #fsyncSet: boolean;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m: string) => ctx.log.warn(m));
    this.#ctx = ctx;
    const fields = p.key.map((k) => k.trim()).filter((k) => k !== '');
    if (fields.length === 0) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('key')?.pos ?? element.pos,
        'dedup `key` names no field; write e.g. `key uid` or `key sid,ei`');
    }
    if (p.window <= 0) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('window')?.pos ?? element.pos,
        `dedup \`window\` must be positive (got ${p.window}); write e.g. \`window 1h\``);
    }
    this.#fields = fields;
    this.#fsyncSet = p.fsync !== undefined;
    this.#journal = new KeyJournal({ dir: p.path, windowMs: p.window * 1000, maxKeys: p.max_keys, fsync: p.fsync ?? false });
  }

  /** Reads what `output` resumed at start, and journals with fsync when its buffer does (unless `fsync` is set). */
  precedes(output: Output): void {
    output.readStored?.(this.recover);
    if (!this.#fsyncSet && output.durability?.fsync === true) this.#journal.fsync = true;
  }

  get fsync(): boolean {
    return this.#journal.fsync;
  }

  async start(): Promise<void> {
    const r = this.#journal.open(Date.now());
    this.#open = true;
    this.#ctx.log.info({ keys: r.live, expired: r.expired, torn: r.torn }, 'dedup journal replayed');
  }

  async stop(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await Promise.all(this.#pending.values());
    await this.#journal.close();
  }

  /**
   * The records the output still buffers at start: an event stored right before
   * a kill, whose commit step (journal line) never ran, is remembered too, so
   * the client's retry of it is dropped. Its key is journaled before the
   * receiver accepts anything.
   */
  readonly recover: StoredReader = async (lines) => {
    const now = Date.now();
    const found = new Set<string>();
    let unreadable = 0;
    for await (const line of lines) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch {
        unreadable += 1;
        continue;
      }
      if (record === null || typeof record !== 'object' || Array.isArray(record)) {
        unreadable += 1;
        continue;
      }
      const k = this.#keyOf(record as JsonRecord);
      if (k !== undefined && !this.#journal.has(k, now)) found.add(k);
    }
    await this.#journal.record([...found], now);
    if (found.size > 0 || unreadable > 0) {
      this.#ctx.log.info({ keys: found.size, unreadable }, 'dedup remembered keys of buffered events missing from its journal');
    }
  };

  counters(): DedupCounters {
    return { ...this.#counters };
  }

  /** Live keys in memory (tests). */
  get size(): number {
    return this.#journal.size;
  }

  /** Without the router's commit protocol: decides and remembers at once. */
  filter(tag: string, events: Event[]): Event[] {
    const step = this.#decide(events, events.map((e) => this.#keyOf(e.record)));
    void Promise.resolve(step.commit()).catch((err: unknown) => this.#ctx.log.error({ err, tag }, 'dedup journal write failed'));
    return step.events;
  }

  begin(tag: string, events: Event[]): FilterStep | Promise<FilterStep> {
    const keys = events.map((e) => this.#keyOf(e.record));
    if (keys.some((k) => k !== undefined && this.#pending.has(k))) return this.#waitThenDecide(events, keys);
    return this.#decide(events, keys);
  }

  async #waitThenDecide(events: Event[], keys: readonly (string | undefined)[]): Promise<FilterStep> {
    for (;;) {
      const waits: Promise<void>[] = [];
      for (const k of keys) {
        const w = k === undefined ? undefined : this.#pending.get(k);
        if (w) waits.push(w);
      }
      if (waits.length === 0) return this.#decide(events, keys);
      await Promise.all(waits);
    }
  }

  #decide(events: Event[], keys: readonly (string | undefined)[]): FilterStep {
    const now = Date.now();
    const kept: Event[] = [];
    const reserved: string[] = [];
    let dropped = 0;
    const { promise, resolve } = Promise.withResolvers<void>();
    for (let i = 0; i < events.length; i++) {
      const k = keys[i];
      if (k === undefined) {
        this.#counters.unkeyed += 1;
        kept.push(events[i]);
      } else if (this.#pending.has(k) || this.#journal.has(k, now)) {
        dropped += 1; // a repeat inside this batch, or an accepted key
      } else {
        this.#pending.set(k, promise);
        reserved.push(k);
        kept.push(events[i]);
      }
    }
    if (dropped > 0) {
      this.#counters.dropped += dropped;
      this.#ctx.log.debug({ dropped, total: this.#counters.dropped }, 'dedup dropped repeated events');
    }
    let settled = false;
    const release = (): void => {
      if (settled) return;
      settled = true;
      for (const k of reserved) this.#pending.delete(k);
      resolve();
    };
    return {
      events: kept,
      commit: async () => {
        try {
          await this.#journal.record(reserved, Date.now());
          this.#counters.accepted += reserved.length;
        } finally {
          release();
        }
      },
      abort: release,
    };
  }

  #keyOf(record: JsonRecord): string | undefined {
    if (this.#fields.length === 1) return scalarOf(fieldOf(record, this.#fields[0]));
    const parts: string[] = [];
    for (const f of this.#fields) {
      const v = scalarOf(fieldOf(record, f));
      if (v === undefined) return undefined;
      parts.push(v);
    }
    return JSON.stringify(parts);
  }
}

/** A key field's value as text; absent, null and empty fields give no key. */
function scalarOf(v: JsonValue | undefined): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}
