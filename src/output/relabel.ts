// out_relabel: hands the events to another <label> (its `@label`).
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { Event, Output, PluginContext } from '../plugin-api.ts';

export class RelabelOutput implements Output {
  static readonly type = 'relabel';
  readonly #label: string;
  readonly #ctx: PluginContext;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const label = element.take('@label');
    if (!label) {
      throw new ConfigError('AR_CONF_MISSING', element.pos,
        `<match ${element.arg}> with @type relabel needs @label; add e.g. '@label @OUTPUT'`);
    }
    this.#label = label.value;
    this.#ctx = ctx;
  }

  emit(tag: string, events: Event[]): Promise<void> {
    return this.#ctx.emitToLabel(this.#label, tag, events);
  }
}
