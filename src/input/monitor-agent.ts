// `<source> @type monitor_agent` (Fluentd's in_monitor_agent, lib/fluent/plugin/in_monitor_agent.rb):
// GET /api/plugins.json (and /api/plugins as LTSV) lists every plugin with its buffer and
// emit figures; /api/config.json (and /api/config) names the process. `?tag=`, `?@id=`
// (`?id=`), `?@type=` (`?type=`) pick plugins. As in Fluentd since the fix that made
// include_config / include_retry default false, the query cannot switch `config` or
// `retry` on: only the operator's params do (a query may still leave them out).
// With `tag`, the same records are emitted every emit_interval.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { EmitFn, Input, PluginContext, PluginEntry } from '../plugin-api.ts';
import { EventTime } from '../time/event-time.ts';
import type { JsonObject, JsonValue } from '../value/json-value.ts';
import { ojDump } from '../value/oj-json.ts';
import { listenError, type ListenTarget } from './listen-error.ts';
import { ltsv, pluginInfo, prettyJson, type InfoOptions } from './monitor-info.ts';

export const params = {
  bind: { type: 'string', default: '0.0.0.0', desc: 'Address to listen on (Fluentd\'s default; bind 127.0.0.1 to keep the figures on the host).' },
  port: { type: 'integer', default: 24220, desc: 'Port of /api/plugins.json and /api/config.json (plus the worker id, always 0).' },
  tag: { type: 'string', desc: 'When set, every plugin\'s record is also emitted with this tag every emit_interval.' },
  emit_interval: { type: 'time', default: 60, desc: 'How often the records are emitted when tag is set.' },
  include_config: { type: 'bool', default: false, desc: 'Add each plugin\'s params as `config` (secret params masked as xxxxxx).' },
  include_retry: { type: 'bool', default: false, desc: 'Add each output\'s retry state as `retry` (start, steps, next_time).' },
  include_debug_info: { type: 'bool', default: false, desc: 'Let `?debug=1` ask for pretty-printed JSON.' },
} as const satisfies ParamSchema;

type Answer = [code: number, contentType: string, body: string];

const NOT_FOUND: Answer = [404, 'application/json', '{"message":"Not found"}'];

export class MonitorAgentInput implements Input {
  static readonly type = 'monitor_agent';
  readonly #p;
  readonly #ctx: PluginContext;
  readonly #emit: EmitFn;
  readonly #server: Server;
  readonly #target: ListenTarget;
  #timer: NodeJS.Timeout | undefined;
  #port = 0;
  #listening = false;
  /** auditrelay's version (Fluentd reports Fluent::VERSION), read from package.json at start. */
  #version = '';

  constructor(element: ConfigElement, ctx: PluginContext, emit: EmitFn) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#p = { ...p, port: p.port === 0 ? 0 : p.port + ctx.workerId };
    this.#ctx = ctx;
    this.#emit = emit;
    this.#target = { port: this.#p.port, bind: p.bind, section: `<${element.name}>`, where: element.where('port'), explicit: element.params.has('port') };
    this.#server = createServer((req, res) => {
      let answer: Answer;
      try {
        answer = this.#answer(req);
      } catch (err) {
        ctx.log.error({ err }, 'monitor_agent request failed');
        answer = [500, 'text/plain', 'Internal Server Error'];
      }
      const [code, type, body] = answer;
      res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#listening;
  }

  async start(): Promise<void> {
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    this.#version = pkg.version;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        this.#server.listen(this.#p.port, this.#p.bind, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw await listenError(err, this.#target);
    }
    const addr = this.#server.address();
    this.#port = typeof addr === 'object' && addr ? addr.port : this.#p.port;
    this.#listening = true;
    this.#ctx.log.info({ bind: this.#p.bind, port: this.#port }, `listening monitoring http server on http://${this.#p.bind}:${this.#port}/api/plugins for worker${this.#ctx.workerId}`);
    const tag = this.#p.tag;
    if (tag !== undefined) {
      this.#timer = setInterval(() => this.#emitRecords(tag), this.#p.emit_interval * 1000);
      this.#timer.unref();
    }
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listening = false;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** One emit_interval tick: every plugin's record, without config or retry (as Fluentd). */
  #emitRecords(tag: string): void {
    const time = EventTime.now();
    const events = this.#all({ withConfig: false, withRetry: false }).map((record) => ({ time, record }));
    Promise.resolve(this.#emit(tag, events)).catch((err: unknown) => this.#ctx.log.warn({ err, tag }, 'monitor_agent could not emit the plugin records'));
  }

  #answer(req: IncomingMessage): Answer {
    if (req.method !== 'GET') return NOT_FOUND;
    const url = new URL(req.url ?? '/', 'http://monitor');
    // http_server's canonical path: a trailing `/` is the same route.
    const path = url.pathname.length >= 2 && url.pathname.endsWith('/') ? url.pathname.slice(0, -1) : url.pathname;
    const q = url.searchParams;
    const opts: InfoOptions = {
      withConfig: this.#p.include_config && boolValue(q.get('with_config')) !== false,
      withRetry: this.#p.include_retry && boolValue(q.get('with_retry')) !== false,
    };
    const pretty = this.#p.include_debug_info && q.get('debug') !== null;
    const json = (v: JsonValue): Answer => [200, 'application/json', pretty ? prettyJson(v) : ojDump(v)];
    switch (path) {
      case '/api/plugins.json': return json({ plugins: this.#select(q, opts) });
      case '/api/plugins': return [200, 'text/plain', ltsv(this.#select(q, opts))];
      case '/api/config.json': return json(this.#config());
      case '/api/config': return [200, 'text/plain', ltsv([this.#config()])];
      default: return NOT_FOUND;
    }
  }

  /** build_object: ?tag= (the output a top-level <match> gives it), else ?@id=, else ?@type=, else all. */
  #select(q: URLSearchParams, opts: InfoOptions): JsonObject[] {
    const tag = q.get('tag');
    if (tag !== null) {
      const e = this.#ctx.matchOf?.(tag);
      return e ? [pluginInfo(e, opts)] : [];
    }
    const id = q.get('@id') ?? q.get('id');
    if (id !== null) {
      const e = this.#entries().find((x) => x.pluginId === id);
      return e ? [pluginInfo(e, opts)] : [];
    }
    const type = q.get('@type') ?? q.get('type');
    if (type !== null) return this.#entries().filter((x) => x.type === type).map((e) => pluginInfo(e, opts));
    return this.#all(opts);
  }

  #all(opts: InfoOptions): JsonObject[] {
    return this.#entries().map((e) => pluginInfo(e, opts));
  }

  /** all_plugins' order: inputs, top-level outputs, top-level filters, then per label its outputs and filters. */
  #entries(): PluginEntry[] {
    const plugins = this.#ctx.plugins?.() ?? [];
    const labels: string[] = [];
    for (const e of plugins) if (e.label !== undefined && e.category !== 'input' && !labels.includes(e.label)) labels.push(e.label);
    const rank = (e: PluginEntry): number => {
      if (e.category === 'input') return 0;
      if (e.label === undefined) return e.category === 'output' ? 1 : 2;
      return 3 + labels.indexOf(e.label) * 2 + (e.category === 'output' ? 0 : 1);
    };
    return [...plugins].sort((a, b) => rank(a) - rank(b));
  }

  /** /api/config.json: pid, ppid and version (auditrelay's; Fluentd adds its supervisor's options). */
  #config(): JsonObject {
    return { pid: process.pid, ppid: process.ppid, version: this.#version };
  }
}

/** Fluent::Config.bool_value: '' / true / yes → true, false / no → false, anything else (or absent) → undefined. */
function boolValue(s: string | null): boolean | undefined {
  if (s === null) return undefined;
  if (s === '' || s === 'true' || s === 'yes') return true;
  if (s === 'false' || s === 'no') return false;
  return undefined;
}
