// out_stdout (docs/compatibility.md §6, O4): one line per event through the stdout
// formatter, written raw to the log stream as Fluentd's `$log.write` does, so
// event lines interleave with log lines exactly as in a fluentd container.

import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Event, Formatter, Output, PluginContext } from '../plugin-api.ts';

export const params = {
  use_logger: { type: 'bool', default: true, desc: 'Write through the log stream (true) or straight to process stdout.' },
} as const satisfies ParamSchema;

export class StdoutOutput implements Output {
  static readonly type = 'stdout';
  readonly #formatter: Formatter;
  readonly #write: (line: string) => void;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#formatter = ctx.createFormatter(element.sections('format')[0], 'stdout', element);
    this.#write = p.use_logger ? ctx.writeLogLine : (line) => process.stdout.write(line);
  }

  emit(tag: string, events: Event[]): void {
    let out = '';
    for (const e of events) out += this.#formatter.format(tag, e.time, e.record);
    this.#write(out);
  }
}
