// The config as Fluentd prints it at startup, `using configuration file:
// <ROOT>…</ROOT>` (docs/compatibility.md §13): Element#to_s in lib/fluent/config/element.rb.
// Two-space indent per level, params before subsections, secret params as
// `xxxxxx`, params a plugin declared as strings double-quoted and escaped.

import type { ConfigElement } from '../params/element.ts';
import { looksSecret } from './secret-names.ts';

/** Render the tree like Fluentd's `conf.to_s.rstrip`; `secretKeys` are masked in every section. */
export function dumpConfig(root: ConfigElement, secretKeys: Iterable<string> = []): string {
  return renderElement(root, 0, new Set(secretKeys)).trimEnd();
}

/** Element#to_s for one section and everything below it. */
export function renderElement(e: ConfigElement, nest: number, secretKeys: ReadonlySet<string>): string {
  const indent = '  '.repeat(nest);
  const nindent = '  '.repeat(nest + 1);
  let out = e.arg === '' ? `${indent}<${e.name}>\n` : `${indent}<${e.name} ${e.arg}>\n`;
  for (const p of e.params.values()) {
    // A param the section's plugin does not know (misplaced, misspelt) is masked when its name looks secret.
    const secret = e.secretKeys.has(p.key) || secretKeys.has(p.key) || (!e.knownKeys.has(p.key) && looksSecret(p.key));
    if (secret) out += `${nindent}${p.key} xxxxxx\n`;
    else if (e.stringKeys.has(p.key)) out += `${nindent}${p.key} "${escapeString(p.value)}"\n`;
    else out += `${nindent}${p.key} ${p.value}\n`;
  }
  for (const child of e.elements) out += renderElement(child, nest + 1, secretKeys);
  return `${out}${indent}</${e.name}>\n`;
}

// literal_parser.rb unescape_char: the dump reads back as the same value.
function escapeString(v: string): string {
  let out = '';
  for (const c of v) {
    switch (c) {
      case '"': out += '\\"'; break;
      case "'": out += "\\'"; break;
      case '\\': out += '\\\\'; break;
      case '\r': out += '\\r'; break;
      case '\n': out += '\\n'; break;
      case '\t': out += '\\t'; break;
      case '\f': out += '\\f'; break;
      case '\b': out += '\\b'; break;
      default: out += c;
    }
  }
  return out;
}
