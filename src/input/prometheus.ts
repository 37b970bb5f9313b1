// `<source> @type prometheus` (fluent-plugin-prometheus's in_prometheus; README "Metrics
// and health"): Prometheus text on metrics_path, every worker's merged on
// aggregated_metrics_path (one worker: the same text), /healthz, /readyz, and a live
// status page at / that polls /status.json (status.ts, status-page.ts; per worker).
// With workers > 1 each worker listens on port + worker id (its own socket, not
// the cluster's shared one) and every series gets a worker_id label, as the plugin does.
// Health lives here and never on in_http's port, where every path is a tag.
// bind defaults to 127.0.0.1, as the plugin's newer releases do (older ones used
// 0.0.0.0): metrics name tags, plugin ids and error rates, which should not leave the
// host unless the operator binds an address on purpose.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { Input, PluginContext, PluginEntry } from '../plugin-api.ts';
import { listenError, type ListenTarget } from './listen-error.ts';
import { buffered, metricsRegistry } from './prometheus-metrics.ts';
import { allWorkersMetrics, workerHost } from './prometheus-aggregate.ts';
import { StatusRates, statusSnapshot } from './status.ts';
import { STATUS_PAGE, STATUS_PAGE_CSP } from './status-page.ts';

export const params = {
  bind: { type: 'string', default: '127.0.0.1', desc: 'Address to listen on (127.0.0.1: metrics stay on the host unless you choose otherwise).' },
  port: { type: 'integer', default: 24231, desc: 'Port of /metrics, /healthz, /readyz and the status page (/).' },
  metrics_path: { type: 'string', default: '/metrics', desc: 'Path of the Prometheus text.' },
  aggregated_metrics_path: { type: 'string', default: '/aggregated_metrics', desc: 'Path of all workers\' metrics (one worker: the same text).' },
  ready_failure_threshold: { type: 'time', default: 60, desc: '/readyz answers 503 once an output\'s uploads have failed for longer than this.' },
} as const satisfies ParamSchema;

/** Accepted params of prometheus_output_monitor / prometheus_monitor (their figures are always on /metrics). */
const monitorParams = {
  interval: { type: 'time', default: 5, desc: 'Accepted for compatibility (figures are read at scrape time).' },
  gauge_all: { type: 'bool', default: true, desc: 'Accepted for compatibility (the figures are gauges, its default).' },
} as const satisfies ParamSchema;

/**
 * A `<labels>` section (fluent-plugin-prometheus): constant labels, `${hostname}` and
 * `${worker_id}` expanded. Record accessors (`$.key`) have no record here: an error.
 */
export function labelsOf(element: ConfigElement, ctx: PluginContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const section of element.sections('labels')) {
    for (const key of section.params.keys()) {
      const raw = section.take(key)!;
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key) || ['plugin_id', 'type', 'plugin_category', 'le'].includes(key)) {
        throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos, `label name '${key}' is not a free Prometheus label name; use letters, digits and _ (not plugin_id, type, plugin_category or le)`);
      }
      if (raw.value.startsWith('$.') || raw.value.startsWith('$[')) {
        throw new ConfigError('AR_CONF_BAD_VALUE', raw.pos, `label ${key}: record accessor syntax is not available in <source> labels; write a constant, \${hostname} or \${worker_id}`);
      }
      out[key] = raw.value.replaceAll('${hostname}', ctx.hostname).replaceAll('${worker_id}', String(ctx.workerId));
    }
  }
  // prometheus.rb PrometheusLabelParser: with several workers every series says whose it is.
  if ((ctx.workers ?? 1) > 1) out.worker_id = String(ctx.workerId);
  return out;
}

export class PrometheusInput implements Input {
  static readonly type = 'prometheus';
  readonly #p;
  readonly #ctx: PluginContext;
  readonly #server: Server;
  readonly #target: ListenTarget;
  readonly #plugins: () => readonly PluginEntry[];
  readonly #rates: StatusRates;
  #port = 0;
  #listening = false;
  /** in_prometheus.rb: `@port += fluentd_worker_id` (port 0, tests: any free port). */
  readonly #listenPort: number;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    for (const key of ['metrics_path', 'aggregated_metrics_path'] as const) {
      const v = p[key];
      if (!v.startsWith('/') || RESERVED_PATHS.includes(v)) {
        throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get(key)?.pos ?? element.pos,
          `${key} '${v}' must be a path starting with '/' other than ${RESERVED_PATHS.join(', ')}, e.g. /metrics`);
      }
    }
    this.#p = p;
    this.#ctx = ctx;
    this.#plugins = ctx.plugins ?? (() => []);
    this.#listenPort = p.port === 0 ? 0 : p.port + ctx.workerId;
    this.#rates = new StatusRates(this.#plugins);
    this.#target = { port: this.#listenPort, bind: p.bind, section: `<${element.name}>`, where: element.where('port'), explicit: element.params.has('port') };
    const labels = labelsOf(element, ctx);
    // Built at the first scrape: every source (and its <labels>) exists by then.
    let registry: ReturnType<typeof metricsRegistry> | undefined;
    const metrics = (): Promise<string> => {
      registry ??= metricsRegistry(this.#plugins, { base: labels, ...monitorLabels(this.#plugins()) }, ctx.unmatched);
      return registry.metrics();
    };
    this.#server = createServer((req, res) => {
      this.#answer(req, res, metrics).catch((err: unknown) => {
        ctx.log.error({ err }, 'metrics request failed');
        if (!res.headersSent) send(res, 500, `${(err as Error).message}\n`);
      });
    });
  }

  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#listening;
  }

  async start(): Promise<void> {
    try {
      await new Promise<void>((resolve, reject) => {
        this.#server.once('error', reject);
        // exclusive: in a cluster worker, its own socket (the port is this worker's, not shared).
        this.#server.listen({ port: this.#listenPort, host: this.#p.bind, exclusive: true }, () => {
          this.#server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      throw await listenError(err, this.#target);
    }
    const addr = this.#server.address();
    this.#port = typeof addr === 'object' && addr ? addr.port : this.#listenPort;
    this.#listening = true;
    this.#rates.start();
    this.#ctx.log.info({ bind: this.#p.bind, port: this.#port }, 'listening prometheus http server');
  }

  async stop(): Promise<void> {
    this.#listening = false;
    this.#rates.stop();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #answer(req: IncomingMessage, res: ServerResponse, metrics: () => Promise<string>): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'use GET\n');
    if (path === this.#p.metrics_path) return send(res, 200, await metrics(), PROMETHEUS_TEXT);
    if (path === this.#p.aggregated_metrics_path) {
      const workers = this.#ctx.workers ?? 1;
      if (workers <= 1 || this.#p.port === 0) return send(res, 200, await metrics(), PROMETHEUS_TEXT);
      return send(res, 200, await allWorkersMetrics(workerHost(this.#p.bind), this.#p.port, workers, this.#p.metrics_path), PROMETHEUS_TEXT);
    }
    if (path === '/healthz') return send(res, 200, 'ok\n');
    if (path === '/readyz') {
      const why = this.notReady();
      return why.length === 0 ? send(res, 200, 'ready\n') : send(res, 503, `not ready:\n${why.map((w) => `- ${w}\n`).join('')}`);
    }
    if (path === '/status.json') {
      return send(res, 200, `${JSON.stringify(statusSnapshot(this.#plugins, this.#rates, this.notReady()))}\n`, 'application/json', { 'Cache-Control': 'no-store' });
    }
    if (path === '/') return send(res, 200, STATUS_PAGE, 'text/html; charset=utf-8', { 'Content-Security-Policy': STATUS_PAGE_CSP, 'Cache-Control': 'no-store' });
    send(res, 404, `not found; try ${this.#p.metrics_path}, /healthz, /readyz, /status.json or / (the status page)\n`);
  }

  /** Why the receiver is not ready (empty: ready): a source not listening, a full buffer, or uploads failing past the threshold. */
  notReady(now = Date.now()): string[] {
    const why: string[] = [];
    for (const e of this.#plugins()) {
      if (e.category !== 'input' || e.plugin === this) continue;
      const { listening, failure } = e.plugin as { listening?: boolean; failure?: string };
      if (listening === false) why.push(`source ${e.pluginId} (@type ${e.type}) is not listening`);
      if (failure !== undefined) why.push(`source ${e.pluginId} (@type ${e.type}): ${failure}`);
    }
    const limit = this.#p.ready_failure_threshold * 1000;
    for (const { entry, counters } of buffered(this.#plugins)) {
      const used = counters.stageBytes + counters.queueBytes;
      if (used >= counters.totalLimitBytes) {
        why.push(`output ${entry.pluginId} (@type ${entry.type}): buffer full (${used} of total_limit_size ${counters.totalLimitBytes} bytes), new events get 503`);
      }
      const since = counters.failingSince;
      if (since !== undefined && now - since > limit) {
        why.push(`output ${entry.pluginId} (@type ${entry.type}): writes failing for ${Math.round((now - since) / 1000)}s (ready_failure_threshold ${this.#p.ready_failure_threshold}s)`);
      }
    }
    return why;
  }
}

/** `@type prometheus_output_monitor`: its fluentd_output_status_* are always on /metrics. */
export class PrometheusOutputMonitorInput implements Input {
  static readonly type: string = 'prometheus_output_monitor';
  /** Its `<labels>`: added to the fluentd_output_status_* / fluentd_status_* series. */
  readonly labels: Record<string, string>;
  constructor(element: ConfigElement, ctx: PluginContext) {
    configureParams(monitorParams, element, (m) => ctx.log.warn(m));
    this.labels = labelsOf(element, ctx);
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}
}

/** `@type prometheus_monitor`: its fluentd_status_* are always on /metrics. */
export class PrometheusMonitorInput extends PrometheusOutputMonitorInput {
  static override readonly type: string = 'prometheus_monitor';
}

/** The `<labels>` of the monitor sources: output_monitor's go on fluentd_output_status_*, monitor's on fluentd_status_*. */
function monitorLabels(plugins: readonly PluginEntry[]): { output: Record<string, string>; status: Record<string, string> } {
  const output: Record<string, string> = {};
  const status: Record<string, string> = {};
  for (const e of plugins) {
    if (e.plugin instanceof PrometheusMonitorInput) Object.assign(status, e.plugin.labels);
    else if (e.plugin instanceof PrometheusOutputMonitorInput) Object.assign(output, e.plugin.labels);
  }
  return { output, status };
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
/**
 * Paths of this port that metrics_path and aggregated_metrics_path must not take. `/` may
 * be taken (Fluentd accepts it): the Prometheus text then wins and the status page is off.
 */
const RESERVED_PATHS = ['/healthz', '/readyz', '/status.json'];

function send(res: ServerResponse, code: number, body: string, contentType = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(code, { ...headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
