// The plugin registry: `@type X` → the class that implements it. Each plugin
// class names itself once, in its `static type`; the registry is built from
// lists of classes and reads that name, so no second spelling can drift.

import type { ConfigElement } from '../params/element.ts';
import type { EmitFn, Filter, Input, Output, PluginContext } from '../plugin-api.ts';

/** `multiWorkersReady: false` = Fluentd's `multi_workers_ready?` false: a config error with workers > 1. */
interface PluginStatics {
  readonly type: string;
  readonly multiWorkersReady?: boolean;
}
export type InputClass = (new (element: ConfigElement, ctx: PluginContext, emit: EmitFn) => Input) & PluginStatics;
export type FilterClass = (new (element: ConfigElement, ctx: PluginContext) => Filter) & PluginStatics;
/** An output class; buffered outputs are a sink wrapped by buffer/buffered-plugin.ts's buffered(). */
export type OutputClass = (new (element: ConfigElement, ctx: PluginContext) => Output) & PluginStatics;

export interface PluginRegistry {
  readonly inputs: Readonly<Record<string, InputClass>>;
  readonly filters: Readonly<Record<string, FilterClass>>;
  readonly outputs: Readonly<Record<string, OutputClass>>;
}

export interface PluginClasses {
  readonly inputs: readonly InputClass[];
  readonly filters: readonly FilterClass[];
  readonly outputs: readonly OutputClass[];
}

/** Maps every class by its static type; two classes claiming one type are a programming error. */
export function pluginRegistry(classes: PluginClasses): PluginRegistry {
  return { inputs: byType(classes.inputs, 'input'), filters: byType(classes.filters, 'filter'), outputs: byType(classes.outputs, 'output') };
}

function byType<C extends { readonly type: string }>(list: readonly C[], kind: string): Readonly<Record<string, C>> {
  const out: Record<string, C> = {};
  for (const Class of list) {
    if (Object.hasOwn(out, Class.type)) throw new Error(`two ${kind} plugins claim @type ${Class.type}`);
    out[Class.type] = Class;
  }
  return out;
}
