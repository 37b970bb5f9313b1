// The parser registry: `<parse> @type X` → a Parser.
import type { ConfigElement } from '../params/element.ts';
import type { Parser, PluginContext } from '../plugin-api.ts';
import { JsonParser } from './json.ts';


const parsers = { json: JsonParser } as const;

/** `in_http` (the input's built-in content-type rules) is handled by the input itself. */
export const parserTypes: readonly string[] = ['in_http', ...Object.keys(parsers)];

export function createParser(type: string, element: ConfigElement, ctx: PluginContext): Parser | undefined {
  const Class = (parsers as Record<string, new (e: ConfigElement, c: PluginContext) => Parser>)[type];
  return Class ? new Class(element, ctx) : undefined;
}
