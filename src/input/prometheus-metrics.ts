// The metrics a `<source> @type prometheus` serves (README "Metrics and health"). Names
// and labels of fluent-plugin-prometheus's prometheus_output_monitor (plugin_id, type;
// gauges, as its default gauge_all true) and prometheus_monitor, read from each
// BufferedOutput's counters() at scrape time; then in_http's own figures.

import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PluginEntry } from '../plugin-api.ts';
import { BufferedOutput, type BufferCounters } from '../buffer/buffered-output.ts';
import { HttpInput } from './http.ts';
import { LATENCY_BUCKETS, type LatencyBuckets } from '../buffer/latency.ts';

type Plugins = () => readonly PluginEntry[];
type Pick = (c: BufferCounters) => number | undefined;

/** fluentd_output_status_<name>: help, and how to read it from counters(). */
const OUTPUT_STATUS: readonly [string, string, Pick][] = [
  ['buffer_total_bytes', 'Current total size of stage and queue buffers.', (c) => c.stageBytes + c.queueBytes],
  ['buffer_stage_length', 'Current length of stage buffers.', (c) => c.stageLength],
  ['buffer_stage_byte_size', 'Current total size of stage buffers.', (c) => c.stageBytes],
  ['buffer_queue_length', 'Current length of queue buffers.', (c) => c.queueLength],
  ['buffer_queue_byte_size', 'Current total size of queue buffers.', (c) => c.queueBytes],
  ['buffer_available_space_ratio', 'Ratio of available space in buffer.', (c) => c.availableSpaceRatio],
  ['buffer_newest_timekey', 'Newest timekey in buffer.', (c) => c.newestTimekey],
  ['buffer_oldest_timekey', 'Oldest timekey in buffer.', (c) => c.oldestTimekey],
  // Fluentd's monitor_agent reports num_errors as retry_count; the plugin sets both from it.
  ['retry_count', 'Current retry counts.', (c) => c.numErrors],
  ['num_errors', 'Current number of errors.', (c) => c.numErrors],
  ['emit_count', 'Current emit counts.', (c) => c.emitCount],
  ['emit_records', 'Current emit records.', (c) => c.emitRecords],
  ['write_count', 'Current write counts.', (c) => c.writeCount],
  ['rollback_count', 'Current rollback counts.', (c) => c.rollbackCount],
  ['flush_time_count', 'Total flush time.', (c) => c.flushTimeMs],
  ['slow_flush_count', 'Current slow flush counts.', (c) => c.slowFlushCount],
  ['retry_wait', 'Current retry wait', (c) => c.retryWaitSeconds],
];

/** prometheus_monitor's fluentd_status_* (labels plugin_id, plugin_category, type). */
const STATUS: readonly [string, string, Pick][] = [
  ['buffer_queue_length', 'Current buffer queue length.', (c) => c.queueLength],
  ['buffer_total_bytes', 'Current total size of queued buffers.', (c) => c.stageBytes + c.queueBytes],
  ['retry_count', 'Current retry counts.', (c) => c.numErrors],
];

export function buffered(plugins: Plugins): { entry: PluginEntry; output: BufferedOutput; counters: BufferCounters }[] {
  const out: { entry: PluginEntry; output: BufferedOutput; counters: BufferCounters }[] = [];
  for (const entry of plugins()) if (entry.plugin instanceof BufferedOutput) out.push({ entry, output: entry.plugin, counters: entry.plugin.counters() });
  return out;
}

/** The in_http sources (their request counts), for /metrics and the status page. */
export function https(plugins: Plugins): { pluginId: string; input: HttpInput }[] {
  const out: { pluginId: string; input: HttpInput }[] = [];
  for (const e of plugins()) if (e.plugin instanceof HttpInput) out.push({ pluginId: e.pluginId, input: e.plugin });
  return out;
}

export interface SourceLabels {
  /** The prometheus source's `<labels>`: on every series. */
  readonly base: Record<string, string>;
  /** prometheus_output_monitor's: on fluentd_output_status_*. */
  readonly output: Record<string, string>;
  /** prometheus_monitor's: on fluentd_status_*. */
  readonly status: Record<string, string>;
}

export function metricsRegistry(plugins: Plugins, labels: SourceLabels = { base: {}, output: {}, status: {} }, unmatched?: () => ReadonlyMap<string, number>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels.base);
  const outKeys = Object.keys(labels.output);
  const statusKeys = Object.keys(labels.status);
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge) => void): void => {
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); fill(this); } });
  };
  for (const [name, help, pick] of OUTPUT_STATUS) {
    gauge(`fluentd_output_status_${name}`, help, [...outKeys, 'plugin_id', 'type'], (g) => {
      for (const { entry, counters } of buffered(plugins)) {
        const v = pick(counters);
        if (v !== undefined) g.set({ ...labels.output, plugin_id: entry.pluginId, type: entry.type }, v);
      }
    });
  }
  for (const [name, help, pick] of STATUS) {
    gauge(`fluentd_status_${name}`, help, [...statusKeys, 'plugin_id', 'plugin_category', 'type'], (g) => {
      for (const { entry, counters } of buffered(plugins)) {
        g.set({ ...labels.status, plugin_id: entry.pluginId, plugin_category: 'output', type: entry.type }, pick(counters) ?? 0);
      }
    });
  }
  gauge('auditrelay_buffer_oldest_chunk_age_seconds', 'Age of the oldest unflushed chunk (0 when the buffer is empty).', ['plugin_id', 'type'], (g) => {
    const now = Date.now() / 1000;
    for (const { entry, counters } of buffered(plugins)) {
      g.set({ plugin_id: entry.pluginId, type: entry.type }, counters.oldestChunkCreatedAt === undefined ? 0 : Math.max(0, now - counters.oldestChunkCreatedAt));
    }
  });
  gauge('auditrelay_output_failing_seconds', 'How long writes of this output have been failing (0 while they succeed).', ['plugin_id', 'type'], (g) => {
    for (const { entry, counters } of buffered(plugins)) {
      g.set({ plugin_id: entry.pluginId, type: entry.type }, counters.failingSince === undefined ? 0 : (Date.now() - counters.failingSince) / 1000);
    }
  });
  registry.registerMetric(new SnapshotHistogram('auditrelay_output_write_duration_seconds', 'Time per chunk write of a buffered output (an S3 upload), failed writes included.',
    () => buffered(plugins).map(({ entry, counters }) => ({ labels: { plugin_id: entry.pluginId, type: entry.type }, buckets: counters.writeLatency }))));
  httpMetrics(registry, plugins);
  new Counter({
    name: 'auditrelay_unmatched_events_total', help: 'Events dropped because no <match> takes their tag (Fluentd logs a sampled "no patterns matched").', labelNames: ['tag'], registers: [registry],
    collect() {
      this.reset();
      for (const [tag, n] of unmatched?.() ?? []) this.inc({ tag }, n);
    },
  });
  return registry;
}

function httpMetrics(registry: Registry, plugins: Plugins): void {
  new Counter({
    name: 'auditrelay_http_requests_total', help: 'in_http requests answered, by tag and HTTP status code.', labelNames: ['plugin_id', 'tag', 'code'], registers: [registry],
    collect() {
      this.reset();
      for (const { pluginId, input } of https(plugins)) {
        for (const [tag, byCode] of input.stats.requests) {
          for (const [code, n] of byCode) this.inc({ plugin_id: pluginId, tag, code: String(code) }, n);
        }
      }
    },
  });
  new Counter({
    name: 'auditrelay_http_received_bytes_total', help: 'in_http request body bytes received (before Content-Encoding is undone).', labelNames: ['plugin_id'], registers: [registry],
    collect() {
      this.reset();
      for (const { pluginId, input } of https(plugins)) this.inc({ plugin_id: pluginId }, input.stats.bytesIn);
    },
  });
  new Counter({
    name: 'auditrelay_http_tls_handshake_failures_total', help: 'TLS handshakes in_http refused, by OpenSSL reason.', labelNames: ['plugin_id', 'reason'], registers: [registry],
    collect() {
      this.reset();
      for (const { pluginId, input } of https(plugins)) for (const [reason, n] of input.stats.tlsFailures) this.inc({ plugin_id: pluginId, reason }, n);
    },
  });
  registry.registerMetric(new SnapshotHistogram('auditrelay_http_request_duration_seconds', 'in_http time from request headers to the answer written.',
    () => https(plugins).map(({ pluginId, input }) => ({ labels: { plugin_id: pluginId }, buckets: input.stats.latency }))));
}

type SeriesLabels = Record<string, string>;
type Series = () => { labels: SeriesLabels; buckets: LatencyBuckets }[];

/** A histogram whose buckets are LatencyBuckets counts, read at scrape time (hot paths never touch prom-client). */
class SnapshotHistogram extends Histogram<string> {
  readonly #series: Series;
  readonly #name: string;
  /** Never observed: gives name, help, type and aggregator in prom-client's own shape. */
  readonly #shape: Histogram<string>;
  constructor(name: string, help: string, series: Series) {
    const config = { name, help, buckets: [...LATENCY_BUCKETS], registers: [] };
    super(config);
    this.#shape = new Histogram<string>(config);
    this.#series = series;
    this.#name = name;
  }

  override get(): ReturnType<Histogram<string>['get']> {
    return this.getForPromString();
  }

  /** What prom-client's Registry reads when it writes the text (Histogram's own would read its observations). */
  async getForPromString(): ReturnType<Histogram<string>['get']> {
    const base = await this.#shape.get();
    const values: typeof base.values = [];
    const name = this.#name;
    for (const { labels, buckets } of this.#series()) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += buckets.counts[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: buckets.count });
      values.push({ metricName: `${name}_sum`, labels, value: buckets.sum });
      values.push({ metricName: `${name}_count`, labels, value: buckets.count });
    }
    return { ...base, values };
  }
}
