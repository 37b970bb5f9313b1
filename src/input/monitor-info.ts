// What Fluentd's in_monitor_agent says about one plugin (get_monitor_info), built
// from the figures the prometheus source reads too: a BufferedOutput's counters()
// and the router's emit tallies. Keys come in Fluentd's order (MONITOR_INFO first,
// then `statistics` merged in, so a key already set keeps its place), because
// tools and people diff these answers against Fluentd's.

import type { PluginEntry } from '../plugin-api.ts';
import { BufferedOutput } from '../buffer/buffered-output.ts';
import { JsonFloat, type JsonObject, type JsonValue } from '../value/json-value.ts';
import { ojDump, rubyFloatToS } from '../value/oj-json.ts';
import { Strftime } from '../time/strftime.ts';
import { localZone, type TimeZone } from '../time/zone.ts';

export interface InfoOptions {
  /** include_config: the plugin's section params (`config`). */
  readonly withConfig: boolean;
  /** include_retry: the output's retry state (`retry`). */
  readonly withRetry: boolean;
}

/** Fluentd's masked config value (Fluent::Config::Element#to_masked_element). */
const MASK = 'xxxxxx';

export function pluginInfo(e: PluginEntry, o: InfoOptions): JsonObject {
  const obj: JsonObject = { plugin_id: e.pluginId, plugin_category: e.category, type: e.type };
  if (o.withConfig) obj.config = configOf(e);
  const output = e.category === 'output';
  obj.output_plugin = output;
  const c = e.plugin instanceof BufferedOutput ? e.plugin.counters() : undefined;
  if (c) {
    obj.buffer_queue_length = c.queueLength;
    obj.buffer_timekeys = c.timekeys;
    obj.buffer_total_queued_size = c.stageBytes + c.queueBytes;
  }
  // Only outputs answer num_errors; Fluentd writes nil for the others.
  obj.retry_count = output ? c?.numErrors ?? 0 : null;
  obj.emit_records = c?.emitRecords ?? e.tally.records;
  obj.emit_size = 0; // enable_size_metrics is off by default, so Fluentd reports 0 too
  if (output) {
    Object.assign(obj, {
      retry_count: c?.numErrors ?? 0,
      emit_count: c?.emitCount ?? e.tally.calls,
      write_count: c?.writeCount ?? 0,
      write_secondary_count: c?.writeSecondaryCount ?? 0,
      rollback_count: c?.rollbackCount ?? 0,
      slow_flush_count: c?.slowFlushCount ?? 0,
      flush_time_count: c?.flushTimeMs ?? 0,
      drop_oldest_chunk_count: c?.dropOldestChunkCount ?? 0,
    });
  }
  if (c) {
    obj.buffer_stage_length = c.stageLength;
    obj.buffer_stage_byte_size = c.stageBytes;
    obj.buffer_queue_length = c.queueLength;
    obj.buffer_queue_byte_size = c.queueBytes;
    obj.buffer_available_buffer_space_ratios = rubyFloat(Math.round(c.availableSpaceRatio * 10) / 10);
    obj.buffer_total_queued_size = c.stageBytes + c.queueBytes;
    if (c.oldestTimekey !== undefined) obj.buffer_oldest_timekey = c.oldestTimekey;
    if (c.newestTimekey !== undefined) obj.buffer_newest_timekey = c.newestTimekey;
  }
  // Every Fluentd output has @retry (nil while healthy: {}); inputs and filters do not.
  if (o.withRetry && output) {
    const r = c?.retry;
    obj.retry = r ? { start: rubyTime(r.start), steps: r.steps, next_time: rubyTime(r.nextTime) } : {};
  }
  return obj;
}

/** The section's params as Fluentd's Element (a Hash) dumps them: strings, secret ones masked. */
function configOf(e: PluginEntry): JsonObject {
  const out: JsonObject = {};
  for (const [key, p] of e.element.params) out[key] = e.element.secretKeys.has(key) ? MASK : p.value;
  return out;
}

function rubyFloat(x: number): JsonValue {
  return Number.isInteger(x) ? new JsonFloat(x) : x;
}

const TIME_TO_S = new Strftime('%Y-%m-%d %H:%M:%S %z');
let zone: TimeZone | undefined;

/** Ruby Time#to_s (what Time#to_json writes): local time, `2026-12-04 14:40:35 +0000`. */
function rubyTime(unixSeconds: number): string {
  zone ??= localZone();
  return TIME_TO_S.format(Math.floor(unixSeconds), 0, zone);
}

/** JSON.pretty_generate: two-space indent, `"key": value`, empty containers as `{}` / `[]`. */
export function prettyJson(v: JsonValue, indent = ''): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${v.map((x) => inner + prettyJson(x, inner)).join(',\n')}\n${indent}]`;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof JsonFloat) && !(v instanceof Map)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    const inner = indent + '  ';
    return `{\n${keys.map((k) => `${inner}${ojDump(k)}: ${prettyJson(v[k]!, inner)}`).join(',\n')}\n${indent}}`;
  }
  return ojDump(v);
}

/** render_ltsv: one line per hash, `key:value` joined by tabs; arrays joined by `,`, hashes left out. */
export function ltsv(rows: readonly JsonObject[]): string {
  let text = '';
  for (const row of rows) {
    const cells: string[] = [];
    for (const [k, v] of Object.entries(row)) {
      if (Array.isArray(v)) cells.push(`${k}:${v.map(scalarToS).join(',')}`);
      else if (v !== null && typeof v === 'object' && !(v instanceof JsonFloat)) continue;
      else cells.push(`${k}:${scalarToS(v)}`);
    }
    text += cells.join('\t') + '\n';
  }
  return text;
}

/** Ruby to_s of a JSON scalar (nil → ''). */
function scalarToS(v: JsonValue): string {
  if (v === null) return '';
  if (v instanceof JsonFloat) return rubyFloatToS(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : rubyFloatToS(v);
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return ojDump(v);
  return String(v);
}
