// /status.json of `<source> @type prometheus` (README "Metrics and health"): what the
// status page at / shows, read from the same counters() /metrics reads, plus rates
// from a 1 s sampler and each output's last warn/error lines.

import type { PluginEntry } from '../plugin-api.ts';
import { buffered, https } from './prometheus-metrics.ts';

type Plugins = () => readonly PluginEntry[];

export interface OutputStatus {
  readonly plugin_id: string;
  readonly type: string;
  readonly events_in_total: number;
  readonly events_out_total: number;
  /** Over the last RATE_WINDOW seconds; null until one sample is a second old. */
  readonly events_in_per_second: number | null;
  readonly events_out_per_second: number | null;
  readonly buffer_bytes: number;
  readonly buffer_limit_bytes: number;
  /** buffer_bytes / total_limit_size, 0..1. */
  readonly buffer_fill_ratio: number;
  readonly queued_chunks: number;
  readonly staged_chunks: number;
  /** null while the buffer is empty. */
  readonly oldest_chunk_age_seconds: number | null;
  readonly last_upload: { readonly at: string; readonly key: string | null } | null;
  /** null while writes succeed. */
  readonly retry: { readonly retry_times: number; readonly next_retry_at: string | null; readonly failing_seconds: number } | null;
  readonly recent_errors: readonly { readonly at: string; readonly level: string; readonly line: string }[];
}

export interface StatusSnapshot {
  readonly now: string;
  readonly ready: boolean;
  readonly not_ready: readonly string[];
  readonly http_requests_total: number;
  readonly http_received_bytes_total: number;
  readonly outputs: readonly OutputStatus[];
}

/** Seconds of samples a rate spans (shorter right after start). */
const RATE_WINDOW = 5;

interface Sample { readonly at: number; readonly in: number; readonly out: number }

/** Samples each output's emit/flush record counts once a second, while started. */
export class StatusRates {
  readonly #plugins: Plugins;
  readonly #samples = new Map<string, Sample[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(plugins: Plugins) {
    this.#plugins = plugins;
  }

  start(): void {
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), 1000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sample(): void {
    const at = Date.now();
    for (const { entry, counters } of buffered(this.#plugins)) {
      let ring = this.#samples.get(entry.pluginId);
      if (ring === undefined) this.#samples.set(entry.pluginId, ring = []);
      ring.push({ at, in: counters.emitRecords, out: counters.flushedRecords });
      while (ring.length > 1 && at - ring[0]!.at > RATE_WINDOW * 1000) ring.shift();
    }
  }

  /** Events per second in and out since the oldest kept sample. */
  rates(pluginId: string, now: number, eventsIn: number, eventsOut: number): { in: number | null; out: number | null } {
    const first = this.#samples.get(pluginId)?.[0];
    if (first === undefined || now - first.at < 1000) return { in: null, out: null };
    const seconds = (now - first.at) / 1000;
    return { in: round((eventsIn - first.in) / seconds), out: round((eventsOut - first.out) / seconds) };
  }
}

export function statusSnapshot(plugins: Plugins, rates: StatusRates, notReady: readonly string[], now = Date.now()): StatusSnapshot {
  const outputs: OutputStatus[] = [];
  for (const { entry, output, counters: c } of buffered(plugins)) {
    const bytes = c.stageBytes + c.queueBytes;
    const rate = rates.rates(entry.pluginId, now, c.emitRecords, c.flushedRecords);
    outputs.push({
      plugin_id: entry.pluginId,
      type: entry.type,
      events_in_total: c.emitRecords,
      events_out_total: c.flushedRecords,
      events_in_per_second: rate.in,
      events_out_per_second: rate.out,
      buffer_bytes: bytes,
      buffer_limit_bytes: c.totalLimitBytes,
      buffer_fill_ratio: c.totalLimitBytes > 0 ? bytes / c.totalLimitBytes : 0,
      queued_chunks: c.queueLength,
      staged_chunks: c.stageLength,
      oldest_chunk_age_seconds: c.oldestChunkCreatedAt === undefined ? null : round(Math.max(0, now / 1000 - c.oldestChunkCreatedAt)),
      last_upload: c.lastSuccessAt === undefined ? null : { at: iso(c.lastSuccessAt), key: c.lastWritten ?? null },
      retry: c.failingSince === undefined && !c.retrying ? null : {
        retry_times: c.retry?.steps ?? 0,
        next_retry_at: c.retry === undefined ? null : iso(c.retry.nextTime * 1000),
        failing_seconds: c.failingSince === undefined ? 0 : round((now - c.failingSince) / 1000),
      },
      recent_errors: output.recentLog().map((l) => ({ at: iso(l.at), level: l.level, line: l.line })),
    });
  }
  let requests = 0;
  let bytesIn = 0;
  for (const { input } of https(plugins)) {
    for (const byCode of input.stats.requests.values()) for (const n of byCode.values()) requests += n;
    bytesIn += input.stats.bytesIn;
  }
  return { now: iso(now), ready: notReady.length === 0, not_ready: notReady, http_requests_total: requests, http_received_bytes_total: bytesIn, outputs };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
