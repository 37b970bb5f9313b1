// Warnings for config nobody read, after Fluentd's (lib/fluent/engine.rb
// run_configure + Element#check_not_fetched + section.rb check_unused_section),
// but one line per section instead of Fluentd's one per param (issue 13.6/12.9:
// Fluentd prints the same warning for every line of an unused section):
//   parameter 'timekye' in <buffer> is not used; did you mean 'timekey'? (remove it or fix the spelling)
//   section <buffer> is not used in <source> of http plugin (remove it …)
// The closest known spelling comes from the schema the section was configured
// with (ConfigElement.knownKeys). Fluentd's whole-section dump is kept as
// `detail`, logged at debug (-v) only. A section with no params produces no
// warning, as in Fluentd.

import type { ConfigElement, RawParam, SourcePos } from '../params/element.ts';
import { closestSpelling } from '../value/suggest.ts';
import { renderElement } from './dump.ts';

export interface ConfigWarning {
  readonly pos: SourcePos;
  readonly message: string;
  /** The section as Fluentd dumps it (secrets masked), for -v. */
  readonly detail?: string;
}

// v1_parser.rb ELEM_SYMBOLS: top-level sections the root never reports as unused sections.
const TOP_LEVEL_SECTIONS: readonly string[] = ['match', 'source', 'filter', 'system'];

export function unusedWarnings(root: ConfigElement, secretKeys: Iterable<string> = []): ConfigWarning[] {
  const warnings: ConfigWarning[] = [];
  walk(root, [], new Set(secretKeys), warnings);
  return warnings;
}

function walk(e: ConfigElement, ancestors: ConfigElement[], secretKeys: ReadonlySet<string>, out: ConfigWarning[]): void {
  const unused = [...e.params.values()].filter((p) => !e.usedParams.has(p.key));
  const sectionMessage = unusedSectionMessage(e, ancestors);
  const detail = (): string => renderElement(e, 0, secretKeys).trim();
  if (sectionMessage !== undefined) {
    // The whole section is unread: one line for it and nothing for what it holds.
    if (unused.length > 0) {
      out.push({ pos: e.pos, message: `${sectionMessage} (remove it, or move it where it belongs)`, detail: detail() });
    }
    return;
  }
  if (unused.length > 0 && e.name !== 'system') {
    out.push({ pos: unused[0].pos, message: unusedParamsMessage(e, unused), detail: detail() });
  }
  const path = [...ancestors, e];
  for (const child of e.elements) walk(child, path, secretKeys, out);
}

/** One sentence for every unread param of a section, each with its closest known spelling. */
function unusedParamsMessage(e: ConfigElement, unused: readonly RawParam[]): string {
  const section = e.arg === '' ? `<${e.name}>` : `<${e.name} ${e.arg}>`;
  const candidates = [...e.knownKeys].filter((k) => !e.params.has(k));
  const guesses = unused.map((p) => closestSpelling(p.key, candidates));
  const fix = guesses.some((g) => g !== undefined) ? 'fix the spelling or remove' : 'remove';
  if (unused.length === 1) {
    const hint = guesses[0] === undefined ? '' : `; did you mean '${guesses[0]}'?`;
    return `parameter '${unused[0].key}' in ${section} is not used${hint} (${fix} it)`;
  }
  const names = unused.map((p, i) => (guesses[i] === undefined ? `'${p.key}'` : `'${p.key}' (did you mean '${guesses[i]}'?)`));
  return `parameters ${names.join(', ')} in ${section} are not used (${fix} them)`;
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
