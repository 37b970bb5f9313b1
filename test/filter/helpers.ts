// Shared set-up for the filter tests: a real pino logger writing into an
// array, a PluginContext that records emitErrorEvent calls, and <filter>
// elements built the way the config parser builds them.

import { createFormatter } from '../../src/format/registry.ts';
import pino from 'pino';
import { ConfigElement } from '../../src/params/element.ts';
import type { SourcePos } from '../../src/params/element.ts';
import type { Event, PluginContext } from '../../src/plugin-api.ts';
import type { JsonRecord } from '../../src/value/json-value.ts';
import { EventTime } from '../../src/time/event-time.ts';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface ErrorEvent {
  tag: string;
  time: EventTime;
  record: JsonRecord;
  error: Error;
}

export interface TestContext {
  ctx: PluginContext;
  logs: LogLine[];
  errors: ErrorEvent[];
}

export function makeContext(hostname = 'relay-host', workerId = 0): TestContext {
  const logs: LogLine[] = [];
  const errors: ErrorEvent[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const ctx: PluginContext = {
    log,
    hostname,
    workerId,
    writeLogLine: () => {},
    emitErrorEvent: (tag, time, record, error) => void errors.push({ tag, time, record, error }),
    emitToLabel: async () => {},
    createFormatter: (section, type, fallback) => createFormatter(section, ctx, type, fallback),
  };
  return { ctx, logs, errors };
}

const POS: SourcePos = { file: 'fluent.conf', line: 1 };

/** `<filter>` with params and a `<record>` section, as the config parser would hand it over. */
export function filterElement(params: Record<string, string>, record: Record<string, string> | [string, string][] = {}): ConfigElement {
  const el = new ConfigElement('filter', 'test.log', POS);
  let line = 2;
  for (const [key, value] of Object.entries(params)) el.params.set(key, { key, value, pos: { file: 'fluent.conf', line: line++ } });
  const rec = new ConfigElement('record', '', { file: 'fluent.conf', line: line++ });
  for (const [key, value] of Array.isArray(record) ? record : Object.entries(record)) {
    rec.params.set(key, { key, value, pos: { file: 'fluent.conf', line: line++ } });
  }
  el.elements.push(rec);
  return el;
}

export function event(record: JsonRecord, sec = 1663786264, nsec = 0): Event {
  return { time: new EventTime(sec, nsec), record };
}
