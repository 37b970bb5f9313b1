// `<source> @type teleport` (issue 14 §3): the exporter inside the receiver. The engine is
// `auditrelay-event-handler start`'s (event-handler/start, audit, state, teleport) with its
// TOML keys as params in Fluentd spelling; instead of POSTing over HTTPS to in_http, each event
// body goes through in_http's own parse and tag rules into the router, and
// the cursor moves only past events whose emit the buffer acknowledged. The state directory
// is `start`'s (and the Go handler's): either can take over from the other.

import type { Logger } from 'pino';
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { EmitFn, Event, Input, Parser, PluginContext } from '../plugin-api.ts';
import { EventTime } from '../time/event-time.ts';
import { bodyParser, parseDefault, parseWithParser } from './http-body.ts';
import { splitTarget, tagFromPath } from './http-request.ts';

/**
 * The exporter engine (event-handler/start/embedded.ts), handed in by receiver.ts: the data
 * path may not import the event handler. `configure` takes start's flags and throws an
 * AR_EXPORTER_* error naming the flag; `run` exports until `signal`, calling `deliver` once per
 * event (it retries a rejected delivery and moves the cursor only past resolved ones).
 */
export interface ExporterEngine {
  configure(flags: Readonly<Record<string, string>>): {
    run(opts: { readonly log: Logger; readonly signal: AbortSignal; readonly deliver: (url: string, body: string) => Promise<void> }): Promise<unknown>;
  };
}

export const params = {
  tag: { type: 'string', default: 'test.log', desc: 'Tag of the audit events (the path of `[forward.fluentd] url`).' },
  session_tag: { type: 'string', default: 'session', desc: 'Session recording events are tagged <session_tag>.<sid>.log (the path of session-url).' },
  addr: { type: 'string', default: 'localhost:3025', desc: 'Teleport auth or proxy address (teleport.addr).' },
  identity: { type: 'string', desc: 'Identity file from `tctl auth sign --format=file` (teleport.identity).' },
  refresh_enabled: { type: 'bool', default: false, desc: 'Reload the identity file every refresh_interval (teleport.refresh.enabled).' },
  refresh_interval: { type: 'time', default: 60, desc: 'How often the identity file is reloaded.' },
  ca: { type: 'string', desc: 'Teleport CA file, with cert and key instead of identity (teleport.ca).' },
  cert: { type: 'string', desc: 'Client certificate file (teleport.cert).' },
  key: { type: 'string', desc: 'Client key file (teleport.key).' },
  storage: { type: 'string', required: true, desc: 'State directory; the same layout as the event handler\'s `storage`.' },
  start_time: { type: 'string', desc: 'RFC 3339 time to export from on the first run, e.g. 2024-11-20T00:00:00Z.' },
  batch: { type: 'integer', default: 20, desc: 'Events fetched per search page (window/page path).' },
  window_size: { type: 'time', default: 86400, desc: 'Search window of the window/page path.' },
  types: { type: 'array', default: [], desc: 'Only these audit event types (empty: all).' },
  skip_event_types: { type: 'array', default: [], desc: 'Audit event types not emitted.' },
  skip_session_types: { type: 'array', default: ['print'], desc: 'Session event types not emitted.' },
  concurrency: { type: 'integer', default: 5, desc: 'Session recordings streamed at once.' },
  timeout: { type: 'time', default: 5, desc: 'Polling timeout of the window/page path.' },
  dry_run: { type: 'bool', default: false, desc: 'Fetch but emit nothing and save no state.' },
  lock_enabled: { type: 'bool', default: false, desc: 'Lock users after lock_failed_attempts_count failed logins within lock_period.' },
  lock_failed_attempts_count: { type: 'integer', default: 3, desc: 'Failed logins that lock a user.' },
  lock_period: { type: 'time', default: 60, desc: 'Window in which failed logins count.' },
  lock_for: { type: 'time', default: 0, desc: 'Lock duration (0: until removed).' },
  max_in_flight: { type: 'integer', default: 1, minimum: 1, desc: 'Audit emits awaiting the buffer at once (in order; 1 = one at a time).' },
} as const satisfies ParamSchema;

/** Each param's event-handler flag, for the values and for the messages of start's checks. */
const FLAG_OF = {
  addr: 'teleport-addr',
  identity: 'teleport-identity',
  refresh_enabled: 'teleport-refresh-enabled',
  refresh_interval: 'teleport-refresh-interval',
  ca: 'teleport-ca',
  cert: 'teleport-cert',
  key: 'teleport-key',
  storage: 'storage',
  start_time: 'start-time',
  batch: 'batch',
  window_size: 'window-size',
  types: 'types',
  skip_event_types: 'skip-event-types',
  skip_session_types: 'skip-session-types',
  concurrency: 'concurrency',
  timeout: 'timeout',
  dry_run: 'dry-run',
  lock_enabled: 'lock-enabled',
  lock_failed_attempts_count: 'lock-failed-attempts-count',
  lock_period: 'lock-period',
  lock_for: 'lock-for',
  max_in_flight: 'fluentd-max-in-flight',
} as const satisfies Partial<Record<keyof typeof params, string>>;

/** `<source> @type teleport`, bound to the exporter engine (registered by receiver.ts). */
export function teleportInput(engine: ExporterEngine) {
  return class TeleportInput extends TeleportSource {
    static readonly type = 'teleport';
    constructor(element: ConfigElement, ctx: PluginContext, emit: EmitFn) {
      super(element, ctx, emit, engine);
    }
  };
}

export class TeleportSource implements Input {
  readonly #ctx: PluginContext;
  readonly #emit: EmitFn;
  readonly #exporter: ReturnType<ExporterEngine['configure']>;
  readonly #parser: Parser | undefined;
  /** in_http's tag per target URL: one for audit events, one per recording. */
  readonly #tags = new Map<string, string>();
  #stop: AbortController | undefined;
  #run: Promise<void> | undefined;
  /** Why the export ended by itself (/readyz and the status page say so); undefined while it runs. */
  #failure: string | undefined;

  constructor(element: ConfigElement, ctx: PluginContext, emit: EmitFn, engine: ExporterEngine) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#ctx = ctx;
    this.#emit = emit;
    this.#parser = bodyParser(element, ctx);
    for (const key of ['tag', 'session_tag'] as const) {
      if (!/^[A-Za-z0-9_.-]+$/.test(p[key]) || p[key].startsWith('.') || p[key].endsWith('.')) {
        throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get(key)?.pos ?? element.pos, `${key} '${p[key]}' is not a tag; use letters, digits, _, - and inner dots, e.g. test.log`);
      }
    }
    const flags: Record<string, string> = {
      // The paths in_http would see: /test.log, /session.<sid>.log.
      'fluentd-url': `emit:///${p.tag}`,
      'fluentd-session-url': `emit:///${p.session_tag}`,
      'fluentd-max-connections': '1',
    };
    const durationMs = (s: number) => `${Math.round(s * 1000)}ms`;
    for (const [name, flag] of Object.entries(FLAG_OF) as [keyof typeof FLAG_OF, string][]) {
      const v: unknown = p[name];
      if (v === undefined) continue;
      flags[flag] = Array.isArray(v) ? v.join(',') : params[name].type === 'time' ? durationMs(v as number) : String(v);
    }
    try {
      this.#exporter = engine.configure(flags);
    } catch (err) {
      const message = (err as Error).message;
      if ((err as { code?: string }).code?.startsWith('AR_EXPORTER') !== true) throw err;
      throw new ConfigError('AR_CONF_BAD_VALUE', posOf(element, message), `<source @type teleport>: ${paramSpelling(message)}`, { cause: err });
    }
  }

  /** Starts the export in the background: Teleport may be down for a while, the receiver still serves. */
  async start(): Promise<void> {
    const stop = new AbortController();
    this.#stop = stop;
    const log = this.#ctx.log;
    this.#run = this.#exporter.run({ log, signal: stop.signal, deliver: (url, body) => this.#deliver(url, body) }).then(
      (r) => log.info(r as object, 'teleport source stopped'),
      (err: unknown) => {
        this.#failure = `export stopped: ${(err as Error).message}; fix it and reload (SIGHUP) or restart`;
        log.error({ code: (err as { code?: string }).code, error: (err as Error).message }, `teleport source failed: ${(err as Error).message}`);
      },
    );
  }

  /** Set once the export failed for good (the receiver keeps serving its other sources). */
  get failure(): string | undefined {
    return this.#failure;
  }

  /** Stops fetching, lets the emits in flight land (≤ 5 s), saves the cursor, closes the client. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#run;
  }

  /**
   * One delivery of a body start would POST to `url`: in_http's tag and parse, then the emit,
   * which resolves once the buffer acknowledged. The emit is called before any await, so
   * events reach the router in the order the exporter delivers them (an async function runs
   * synchronously up to its first await).
   */
  async #deliver(url: string, body: string): Promise<void> {
    const events = this.#events(body);
    if (events.length > 0) await this.#emit(this.#tagOf(url), events);
  }

  #tagOf(url: string): string {
    let tag = this.#tags.get(url);
    if (tag === undefined) {
      tag = tagFromPath(splitTarget(url).path, undefined);
      if (this.#tags.size > 1024) this.#tags.clear();
      this.#tags.set(url, tag);
    }
    return tag;
  }

  /** What in_http hands the router for this body (fresh records each call: filters change them). */
  #events(body: string): Event[] {
    const input = { body: Buffer.from(body), contentType: 'application/json', params: new Map<string, string>() };
    const parsed = this.#parser !== undefined ? parseWithParser(this.#parser, input) : parseDefault(input);
    const events: Event[] = new Array(parsed.records.length);
    for (let i = 0; i < events.length; i++) events[i] = { time: parsed.times[i] ?? EventTime.now(), record: parsed.records[i] };
    return events;
  }
}

const PARAM_OF = new Map<string, string>(Object.entries(FLAG_OF).map(([param, flag]) => [flag, param]));
const FLAG_WORD = new RegExp(`(?:--)?\\b(${[...PARAM_OF.keys()].sort((a, b) => b.length - a.length).join('|')})\\b`, 'g');

/** start's messages name flags (`--teleport-identity`, `start-time =`) and TOML keys; say the param instead. */
function paramSpelling(message: string): string {
  return message.replace(FLAG_WORD, (_m, flag: string) => PARAM_OF.get(flag) ?? flag).replace(/`teleport\.(ca|cert|key)`/g, '`$1`');
}

/** The line of the param a message of start's starts with (`--identity: ...`), else the <source>'s. */
function posOf(element: ConfigElement, message: string): ConfigElement['pos'] {
  const flag = /^--([a-z-]+)/.exec(message)?.[1];
  const param = flag !== undefined ? PARAM_OF.get(flag) : undefined;
  return (param !== undefined ? element.params.get(param)?.pos : undefined) ?? element.pos;
}
