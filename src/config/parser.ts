// fluent.conf → ConfigElement tree: a port of lib/fluent/config/v1_parser.rb
// (docs/compatibility.md §10). Sections `<name arg>…</name>` nest freely; params are
// `key value` lines; `@include path|glob` splices other files in place, into
// the section it appears in. Synchronous fs is fine: this runs once at startup.

import { globSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ConfigElement } from '../params/element.ts';
import type { SourcePos } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import { parseLiteral, scanString } from './literal.ts';
import { looksSecret } from './secret-names.ts';
import type { LiteralContext } from './literal.ts';
import { Scanner } from './scanner.ts';

export interface ParseOptions {
  /** Parser warnings Fluentd logs at warn level (deprecated `include`, `@` params in nested sections, backup files). */
  readonly warn?: (message: string, pos: SourcePos) => void;
  /** Environment for "#{ENV['NAME']}"; default process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

// v1_parser.rb ELEM_SYMBOLS / RESERVED_PARAMS.
const TOP_LEVEL_SECTIONS: readonly string[] = ['match', 'source', 'filter', 'system'];
const RESERVED_PARAMS: readonly string[] = ['@type', '@id', '@label', '@log_level'];
// v1_parser.rb eval_include: names that suggest a backup copy picked up by `*.conf`.
const BACKUP_EXTENSIONS: readonly string[] = ['bak', 'old', 'backup', 'orig', 'prev', 'conf', 'tmp', 'temp', 'debug', 'wip'];

/** Parse a config file; the root element is named 'ROOT'. Relative @include paths start at the file's directory. */
export function parseConfigFile(path: string, options: ParseOptions = {}): ConfigElement {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('AR_CONF_READ', undefined,
      `cannot read config file ${path}: ${(err as Error).message}; pass an existing file with -c`, { cause: err });
  }
  return parseConfigString(text, path, dirname(resolve(path)), options);
}

/** Parse config text; `file` names it in positions and messages, `baseDir` anchors relative @include paths. */
export function parseConfigString(text: string, file: string, baseDir: string, options: ParseOptions = {}): ConfigElement {
  const shared: SharedState = {
    env: options.env ?? process.env,
    warn: options.warn ?? (() => {}),
    includeChain: [resolve(baseDir, basename(file))],
  };
  const root = new ConfigElement('ROOT', '', { file, line: 1 });
  new FileParser(stripBom(text), file, resolve(baseDir), shared).parseElement(true, root);
  return root;
}

interface SharedState extends LiteralContext {
  readonly warn: (message: string, pos: SourcePos) => void;
  /** Absolute paths of the files being parsed, outermost first: an include cycle is an error. */
  readonly includeChain: string[];
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

class FileParser {
  private readonly ss: Scanner;
  private readonly baseDir: string;
  private readonly shared: SharedState;

  constructor(text: string, file: string, baseDir: string, shared: SharedState) {
    this.ss = new Scanner(text, file);
    this.baseDir = baseDir;
    this.shared = shared;
  }

  /**
   * v1_parser.rb parse_element. `rootMode` is true for the top of a file
   * (the main one or an included one, even when included inside a section):
   * there the file may simply end, and a bare `include` is accepted.
   */
  parseElement(rootMode: boolean, target: ConfigElement): void {
    const ss = this.ss;
    const re = ss.re;
    const sectionName = rootMode ? null : target.name;
    for (;;) {
      ss.skip(re.spacing);
      if (ss.eof()) {
        if (rootMode) return;
        throw new ConfigError('AR_CONF_UNCLOSED', target.pos,
          `${openTag(target)} is never closed: ${ss.file} ends at line ${ss.lineAt(ss.pos)}; add </${target.name}>`);
      }
      const lineStart = ss.pos;
      if (ss.skipLiteral('</')) {
        this.closeTag(target, sectionName, lineStart);
        return;
      }
      if (ss.skipLiteral('<')) {
        target.elements.push(this.openSection(lineStart));
        continue;
      }
      if (rootMode && ss.skip(re.include) !== null) {
        if (!(ss.lastMatch ?? '').startsWith('@')) {
          this.shared.warn("'include' is deprecated. Use '@include' instead", ss.posAt(lineStart));
        }
        this.parseInclude(target, lineStart);
        continue;
      }
      this.parseParam(rootMode, target, sectionName, lineStart);
    }
  }

  private closeTag(target: ConfigElement, sectionName: string | null, lineStart: number): void {
    const ss = this.ss;
    const name = ss.scan(ss.re.elementName) ?? '';
    ss.skip(ss.re.spacing);
    if (!ss.skipLiteral('>')) {
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(lineStart), `end tag '</${name}' has no '>'; write </${name}>`);
    }
    if (ss.skip(ss.re.lineEnd) === null) {
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(lineStart),
        `text follows </${name}> on the same line; put it on the next line`);
    }
    if (name === sectionName) return;
    if (sectionName === null) {
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(lineStart), `</${name}> closes no open section; remove it`);
    }
    throw new ConfigError('AR_CONF_UNCLOSED', ss.posAt(lineStart),
      `</${name}> does not close ${openTag(target)} opened at ${target.pos.file}:${target.pos.line}; ` +
      `add </${target.name}> before it`);
  }

  private openSection(lineStart: number): ConfigElement {
    const ss = this.ss;
    const re = ss.re;
    const name = ss.scan(re.elementName);
    if (name === null) {
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(lineStart),
        "'<' must start a section name of letters, digits or '_', e.g. <match PATTERN>");
    }
    ss.skip(re.spacing);
    const arg = scanString(ss, this.shared, 'arg') ?? '';
    ss.skip(re.spacing);
    if (!ss.skipLiteral('>')) {
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(lineStart),
        `section tag <${name}${arg === '' ? '' : ' ' + arg} has no '>' on its line; write <${name} ARG>`);
    }
    if (ss.skip(re.lineEnd) === null) {
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(lineStart),
        `text follows <${name}${arg === '' ? '' : ' ' + arg}> on the same line; put it on the next line`);
    }
    const section = new ConfigElement(name, arg, ss.posAt(lineStart));
    this.parseElement(false, section);
    return section;
  }

  private parseParam(rootMode: boolean, target: ConfigElement, sectionName: string | null, lineStart: number): void {
    const ss = this.ss;
    const re = ss.re;
    const pos = ss.posAt(lineStart);
    const key = scanString(ss, this.shared, 'key') ?? '';
    ss.skip(re.spacingWithoutComment);
    // A key alone on its line has the value "" (v1_parser.rb: "tag_mapped"-style params; bool → true).
    if ((ss.lastMatch ?? '').includes('\n') || ss.eof()) {
      target.params.set(key, { key, value: '', pos });
      return;
    }
    if (key === '@include') {
      this.parseInclude(target, lineStart);
      return;
    }
    if (key.startsWith('@') && !RESERVED_PARAMS.includes(key)) {
      if (rootMode || TOP_LEVEL_SECTIONS.includes(sectionName ?? '')) {
        throw new ConfigError('AR_CONF_SYNTAX', pos,
          `'@' is the system reserved prefix, so '${key}' cannot be a param name here; ` +
          `use ${RESERVED_PARAMS.join(', ')} or drop the '@'`);
      }
      this.shared.warn("'@' is the system reserved prefix. It works in the nested configuration for now but it will be rejected: " + key, pos);
    }
    const secret = looksSecret(key);
    const value = parseLiteral(ss, secret ? { ...this.shared, secret } : this.shared) ?? '';
    if (ss.skip(re.lineEnd) === null) {
      // A secret's text is never quoted back (a passphrase may hold a quote).
      throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(ss.pos),
        `unexpected text after the value of '${key}'${secret ? '' : `: '${restOfLine(ss)}'`}; a param is one 'key value' per line ` +
        '(quote the whole value if it has quotes inside)');
    }
    // A repeated key replaces the earlier value in place (a Ruby Hash assignment; Fluentd does not warn).
    target.params.set(key, { key, value, pos });
  }

  private parseInclude(target: ConfigElement, lineStart: number): void {
    const ss = this.ss;
    const uri = scanString(ss, this.shared, 'value') ?? '';
    this.evalInclude(target, uri, ss.posAt(lineStart));
    ss.skip(ss.re.lineEnd);
  }

  // v1_parser.rb eval_include: a file path or glob relative to the including
  // file, expanded and sorted; each match is parsed into the current section.
  private evalInclude(target: ConfigElement, uri: string, pos: SourcePos): void {
    const spaced = uri.replaceAll(' ', '+');
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(spaced)?.[1];
    let rawPath = spaced;
    if (scheme !== undefined && scheme.toLowerCase() === 'file') {
      rawPath = spaced.replace(/^file:(?:\/\/[^/]*)?/i, '');
    } else if (scheme !== undefined && scheme.length > 1) {
      throw new ConfigError('AR_CONF_UNSUPPORTED', pos,
        `@include ${uri}: including over ${scheme} is not supported; download the file and @include its local path`);
    }
    let path: string;
    try {
      // URI.decode_www_form_component: '+' is a space, %XX a byte.
      path = decodeURIComponent(rawPath.replaceAll('+', ' '));
    } catch (err) {
      throw new ConfigError('AR_CONF_INCLUDE', pos, `@include ${uri}: bad %-escape in the path; write %25 for '%'`, { cause: err });
    }
    const pattern = isAbsolute(path) ? path : resolve(this.baseDir, path);
    const entries = globSync(pattern).sort();
    if (entries.length === 0 && !/[*?[{]/.test(path)) {
      // Fluentd silently includes nothing here; a typo in a plain path deserves an error.
      throw new ConfigError('AR_CONF_INCLUDE', pos, `@include ${uri}: ${pattern} does not exist; fix the path ` +
        `(a relative path starts at ${this.baseDir})`);
    }
    for (const entry of entries) {
      const fname = entry.slice(dirname(entry).length + 1);
      if (path.endsWith('*.conf') && BACKUP_EXTENSIONS.some((ext) => fname.endsWith(`.${ext}.conf`) || fname.endsWith(`_${ext}.conf`))) {
        this.shared.warn(`There is a possibility that '@include ${uri}' includes duplicated backed-up config file such as <${fname}>`, pos);
      }
      this.includeFile(target, uri, entry, pos);
    }
  }

  private includeFile(target: ConfigElement, uri: string, entry: string, pos: SourcePos): void {
    const chain = this.shared.includeChain;
    if (chain.includes(entry)) {
      throw new ConfigError('AR_CONF_INCLUDE', pos,
        `@include ${uri}: ${entry} is already being included (${[...chain, entry].join(' → ')}); remove the cycle`);
    }
    let data: string;
    try {
      data = readFileSync(entry, 'utf8');
    } catch (err) {
      throw new ConfigError('AR_CONF_INCLUDE', pos, `include error ${uri} - ${(err as Error).message}`, { cause: err });
    }
    chain.push(entry);
    new FileParser(stripBom(data), this.displayName(entry), dirname(entry), this.shared).parseElement(true, target);
    chain.pop();
  }

  /** An included file is named relative to the including file's name when it lies below its directory. */
  private displayName(entry: string): string {
    const rel = relative(this.baseDir, entry);
    if (rel.startsWith('..') || isAbsolute(rel)) return entry;
    return join(dirname(this.ss.file), rel);
  }
}

function openTag(e: ConfigElement): string {
  return e.arg === '' ? `<${e.name}>` : `<${e.name} ${e.arg}>`;
}

function restOfLine(ss: Scanner): string {
  const end = ss.text.indexOf('\n', ss.pos);
  return ss.text.slice(ss.pos, end === -1 ? undefined : end).trim();
}
