// The formatter registry: `<format> @type X </format>` → a Formatter. Types are
// resolved when the plugin is configured, never per event.

import { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { Formatter, PluginContext } from '../plugin-api.ts';
import { JsonFormatter } from './json.ts';
import { OutFileFormatter } from './out-file.ts';
import { LtsvFormatter } from './ltsv.ts';
import { SingleValueFormatter } from './single-value.ts';
import { CsvFormatter } from './csv.ts';
import { StdoutFormatter } from './stdout.ts';

const simpleFormatters = {
  json: JsonFormatter,
  out_file: OutFileFormatter,
  ltsv: LtsvFormatter,
  single_value: SingleValueFormatter,
  csv: CsvFormatter,
} as const;

export const formatterTypes: readonly string[] = [...Object.keys(simpleFormatters), 'stdout'];

/**
 * Builds the formatter for a plugin. `section` is its <format> (absent → the
 * plugin's default type, configured from `fallback`, usually the plugin's own
 * element, as Fluentd's formatter_create does for legacy flat params).
 */
export function createFormatter(
  section: ConfigElement | undefined,
  ctx: PluginContext,
  defaultType: string,
  fallback?: ConfigElement,
): Formatter {
  const element = section ?? fallback;
  const typeParam = section?.take('@type');
  const type = typeParam?.value ?? defaultType;
  return build(type, element, ctx, typeParam?.pos ?? element?.pos);
}

function build(type: string, element: ConfigElement | undefined, ctx: PluginContext, pos?: { file: string; line: number }): Formatter {
  const el = element ?? emptyElement();
  if (type === 'stdout') return new StdoutFormatter(el, ctx, (inner) => build(inner, el, ctx, pos));
  const Class = (simpleFormatters as Record<string, new (e: ConfigElement, c: PluginContext) => Formatter>)[type];
  if (!Class) {
    throw new ConfigError('AR_CONF_UNKNOWN_TYPE', pos,
      `unknown format type '${type}'; supported: ${formatterTypes.join(', ')}`);
  }
  return new Class(el, ctx);
}

function emptyElement(): ConfigElement {
  return new ConfigElement('format', '', { file: '(default)', line: 0 });
}
