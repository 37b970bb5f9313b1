// Fluentd's warnings for config nobody read (lib/fluent/engine.rb
// run_configure + Element#check_not_fetched + section.rb check_unused_section).
// One warning per unread param, worded exactly as Fluentd does:
//   parameter 'foo' in <match x>\n  @type stdout\n  foo bar\n</match> is not used.
// and, when the section itself was never read by the plugin that owns it,
//   section <buffer> is not used in <source> of http plugin
// (once per param of that section, as Fluentd logs it). A section with no
// params produces no warning in Fluentd either.

import type { ConfigElement, SourcePos } from '../params/element.ts';
import { renderElement } from './dump.ts';

export interface ConfigWarning {
  readonly pos: SourcePos;
  readonly message: string;
}

// v1_parser.rb ELEM_SYMBOLS: top-level sections the root never reports as unused sections.
const TOP_LEVEL_SECTIONS: readonly string[] = ['match', 'source', 'filter', 'system'];

export function unusedWarnings(root: ConfigElement, secretKeys: Iterable<string> = []): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  walk(root, [], new Set(secretKeys), warnings);
  return warnings;
}

function walk(e: ConfigElement, ancestors: ConfigElement[], secretKeys: ReadonlySet<string>, out: ConfigWarning[]): void {
  const sectionMessage = unusedSectionMessage(e, ancestors);
  for (const p of e.params.values()) {
    if (e.usedParams.has(p.key)) continue;
    if (sectionMessage !== undefined) {
      out.push({ pos: p.pos, message: sectionMessage });
    } else if (e.name !== 'system') {
      const dumped = renderElement(e, 0, secretKeys).trim();
      out.push({ pos: p.pos, message: `parameter '${p.key}' in ${dumped} is not used.` });
    }
  }
  const path = [...ancestors, e];
  for (const child of e.elements) walk(child, path, secretKeys, out);
}

/** The "section <x> is not used in <parent>" wording applies when the parent was configured but never read x. */
function unusedSectionMessage(e: ConfigElement, ancestors: ConfigElement[]): string | undefined {
  const parent = ancestors[ancestors.length - 1];
  if (parent === undefined || e.used) return undefined;
  const isRoot = ancestors.length === 1;
  if (isRoot) {
    // The root agent reads its known sections itself and has no plugin name.
    return TOP_LEVEL_SECTIONS.includes(e.name) ? undefined : `section <${e.name}> is not used in <${parent.name}>`;
  }
  if (!parent.configured) return undefined;
  const parentName = parent.arg === '' ? parent.name : `${parent.name} ${parent.arg}`;
  // Fluentd names the plugin type that owns the parent section (Plugin.lookup_type_from_class).
  let plugin: string | undefined;
  for (let i = ancestors.length - 1; i >= 1 && plugin === undefined; i--) plugin = ancestors[i].params.get('@type')?.value;
  return plugin === undefined
    ? `section <${e.name}> is not used in <${parentName}>`
    : `section <${e.name}> is not used in <${parentName}> of ${plugin} plugin`;
}
