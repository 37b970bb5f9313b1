// Shared fixtures for buffer tests: a config element from `key value` lines,
// a plugin context with a capturing logger, and a recording ChunkSink.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Writable } from 'node:stream';
import { ConfigElement } from '../../src/params/element.ts';
import type { PluginContext, Formatter, Event } from '../../src/plugin-api.ts';
import type { ChunkSink, ChunkView } from '../../src/plugin-api.ts';
import { createFormatter } from '../../src/format/registry.ts';
import { EventTime } from '../../src/time/event-time.ts';

export function section(name: string, arg: string, lines: Record<string, string | number | boolean>): ConfigElement {
  const el = new ConfigElement(name, arg, { file: 'test.conf', line: 1 });
  let line = 2;
  for (const [key, value] of Object.entries(lines)) el.params.set(key, { key, value: String(value), pos: { file: 'test.conf', line: line++ } });
  return el;
}

export interface TestContext extends PluginContext {
  readonly logs: Array<{ level: number; msg: string; [k: string]: unknown }>;
}

export function context(): TestContext {
  const logs: TestContext['logs'] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line));
      cb();
    },
  });
  const log = pino({ level: 'debug' }, stream);
  const ctx = {
    log, logs, hostname: 'test', workerId: 0,
    writeLogLine: () => {}, emitErrorEvent: () => {}, emitToLabel: async () => {},
    createFormatter: (section: ConfigElement | undefined, type: string, fallback?: ConfigElement) => createFormatter(section, ctx, type, fallback),
  };
  return ctx;
}

/** JSON line of the record only (out_s3's default json format). */
export const jsonLines: Formatter = {
  format: (_tag, _time, record) => JSON.stringify(record) + '\n',
};

export function ev(sec: number, record: Record<string, unknown>): Event {
  return { time: new EventTime(sec), record: record as Event['record'] };
}

export interface Delivery {
  idHex: string;
  metadata: ChunkView['metadata'];
  body: string;
  attr: string | undefined;
}

/** Records every chunk; fails the first `failures` writes (or throws `error` from failWith). */
export class RecordingSink implements ChunkSink {
  readonly formatter: Formatter;
  readonly delivered: Delivery[] = [];
  readonly attempts: Delivery[] = [];
  failures: number;
  failWith: (() => Error) | undefined;
  constructor(failures = 0, formatter: Formatter = jsonLines) {
    this.failures = failures;
    this.formatter = formatter;
  }
  async write(chunk: ChunkView): Promise<void> {
    if (chunk.attribute('key') === undefined) await chunk.setAttribute('key', `obj-${chunk.idHex}`);
    const d: Delivery = { idHex: chunk.idHex, metadata: chunk.metadata, body: (await chunk.read()).toString(), attr: chunk.attribute('key') };
    this.attempts.push(d);
    if (this.failWith) throw this.failWith();
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('sink down');
    }
    this.delivered.push(d);
  }
}

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ar-buffer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function until(pred: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}
