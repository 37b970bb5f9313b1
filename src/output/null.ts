// out_null: accepts and discards.
import type { ParamSchema } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import type { ConfigElement } from '../params/element.ts';
import type { Output, PluginContext } from '../plugin-api.ts';

export const params = {
  never_flush: { type: 'bool', default: false, desc: 'Accepted for compatibility (testing aid in Fluentd).' },
} as const satisfies ParamSchema;

export class NullOutput implements Output {
  static readonly type = 'null';
  constructor(element: ConfigElement, ctx: PluginContext) {
    configureParams(params, element, (m) => ctx.log.warn(m));
  }
  emit(): void {}
}
