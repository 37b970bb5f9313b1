// The plugin registry: `@type X` → the class that implements it. The catalog
// knows every type by name and holds, per type, a loader (`() => import(...)`):
// a plugin's module (and the packages it pulls in: the AWS SDK, gRPC, prom-client)
// is imported only when the config names its type, so a receiver's memory is
// what its config uses (issue 12.8). Each class still names itself in its
// `static type`; loading checks that the catalog's key says the same.

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

export type PluginKind = 'inputs' | 'filters' | 'outputs';

/** Every type auditrelay implements, each with the loader of its class. */
export interface PluginCatalog {
  readonly inputs: Readonly<Record<string, () => Promise<InputClass>>>;
  readonly filters: Readonly<Record<string, () => Promise<FilterClass>>>;
  readonly outputs: Readonly<Record<string, () => Promise<OutputClass>>>;
}

/** The classes one config needs (loaded), and every type name (the "supported: …" lists). */
export interface PluginRegistry {
  readonly known: Readonly<Record<PluginKind, readonly string[]>>;
  readonly inputs: Readonly<Record<string, InputClass>>;
  readonly filters: Readonly<Record<string, FilterClass>>;
  readonly outputs: Readonly<Record<string, OutputClass>>;
}

/** The `@type`s a config names: sources, and the filters and matches at the top level and in every <label>. */
export function pluginTypes(root: ConfigElement): Record<PluginKind, Set<string>> {
  const types = { inputs: new Set<string>(), filters: new Set<string>(), outputs: new Set<string>() };
  const typeOf = (e: ConfigElement): string | undefined => e.params.get('@type')?.value;
  for (const source of root.sections('source')) add(types.inputs, typeOf(source));
  for (const parent of [root, ...root.sections('label')]) {
    for (const e of parent.elements) {
      if (e.name === 'filter') add(types.filters, typeOf(e));
      else if (e.name === 'match') add(types.outputs, typeOf(e));
    }
  }
  return types;
}

function add(set: Set<string>, type: string | undefined): void {
  if (type !== undefined) set.add(type);
}

/**
 * Imports the classes of `wanted` (all types when omitted). A name the catalog does not
 * know is skipped: the pipeline refuses it with the config position and the supported list.
 */
export async function loadPlugins(catalog: PluginCatalog, wanted?: Readonly<Record<PluginKind, ReadonlySet<string>>>): Promise<PluginRegistry> {
  const [inputs, filters, outputs] = await Promise.all([
    loadKind(catalog.inputs, 'inputs', wanted?.inputs),
    loadKind(catalog.filters, 'filters', wanted?.filters),
    loadKind(catalog.outputs, 'outputs', wanted?.outputs),
  ]);
  const known = { inputs: Object.keys(catalog.inputs), filters: Object.keys(catalog.filters), outputs: Object.keys(catalog.outputs) };
  return { known, inputs, filters, outputs };
}

async function loadKind<C extends PluginStatics>(loaders: Readonly<Record<string, () => Promise<C>>>, kind: PluginKind,
  wanted: ReadonlySet<string> | undefined): Promise<Record<string, C>> {
  const types = Object.keys(loaders).filter((type) => wanted === undefined || wanted.has(type));
  const classes = await Promise.all(types.map((type) => loaders[type]!()));
  const out: Record<string, C> = {};
  types.forEach((type, i) => {
    const Class = classes[i]!;
    if (Class.type !== type) throw new Error(`the ${kind} catalog loads @type ${type} as a class whose static type is ${Class.type}`);
    out[type] = Class;
  });
  return out;
}

/** The loaded class of `type` (one the pipeline checked against `known`). */
export function loadedClass<C>(loaded: Readonly<Record<string, C>>, kind: PluginKind, type: string): C {
  const Class = loaded[type];
  if (Class === undefined) throw new Error(`${kind} @type ${type} was not loaded: pluginTypes() missed where the config names it`);
  return Class;
}
