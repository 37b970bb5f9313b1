// Values of a fluent.conf: a port of lib/fluent/config/literal_parser.rb.
// Double-quoted strings take Fluentd's escapes and "#{...}" interpolation,
// single-quoted strings only \' and \\, unquoted strings run to the end of
// the line minus trailing spaces and ` #comment`, and a value starting with
// `[` or `{` is read as (multi-line) JSON and re-dumped compact (docs/compatibility.md §10).
//
// Fluentd evaluates "#{...}" as Ruby at parse time. auditrelay evaluates only
// ENV['NAME'] / ENV["NAME"] (a missing variable interpolates nil, i.e. "", as
// Ruby does) and refuses any other code rather than silently dropping it.

import { ConfigError } from '../params/errors.ts';
import { dumpJsonAsRuby } from './ruby-json.ts';
import type { Scanner } from './scanner.ts';
import type { SourcePos } from '../params/element.ts';

export interface LiteralContext {
  /** Where ENV['NAME'] looks names up. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Told when ENV['NAME'] names an unset variable (Fluentd interpolates '' silently). */
  readonly warn?: (message: string, pos: SourcePos) => void;
  /** The value may be a secret (looksSecret(key)): error messages never quote it. */
  readonly secret?: boolean;
}

/** Which text ends an unquoted string: a value (line end), a key (spacing) or a section argument (`>`). */
export type Boundary = 'value' | 'key' | 'arg';

/** literal_parser.rb parse_literal: JSON array/object, or a (quoted) string. */
export function parseLiteral(ss: Scanner, ctx: LiteralContext): string | null {
  ss.skip(ss.re.spacingWithoutComment);
  const start = ss.pos;
  if (ss.skipLiteral('[')) return scanJson(ss, ctx, true, start);
  if (ss.skipLiteral('{')) return scanJson(ss, ctx, false, start);
  return scanString(ss, ctx, 'value');
}

/** literal_parser.rb scan_string. Returns null for an empty unquoted string, as Fluentd does. */
export function scanString(ss: Scanner, ctx: LiteralContext, boundary: Boundary): string | null {
  const start = ss.pos;
  if (ss.skipLiteral('"')) return scanDoubleQuoted(ss, ctx, start);
  if (ss.skipLiteral("'")) return scanSingleQuoted(ss, start);
  return scanNonquoted(ss, boundary);
}

function scanDoubleQuoted(ss: Scanner, ctx: LiteralContext, start: number): string {
  const re = ss.re;
  let out = '';
  for (;;) {
    if (ss.skipLiteral('"')) return out;
    if (ss.check(re.charBeforeLineEnd) !== null) {
      // A line break inside the string is kept; a backslash before it joins the lines.
      const kept = ss.check(re.nonBackslashBeforeLineEnd);
      if (kept !== null) out += kept;
      ss.skip(re.charBeforeLineEnd);
      continue;
    }
    const escape = ss.scan(re.escape);
    if (escape !== null) {
      out += escapeChar(ss, escape[1]);
      continue;
    }
    if (ss.skipLiteral('#{')) {
      out += evalEmbeddedCode(ss, ctx);
      ss.skipLiteral('}');
      continue;
    }
    const ch = ss.scan(re.anyChar);
    if (ch !== null) {
      out += ch;
      continue;
    }
    throw new ConfigError('AR_CONF_UNCLOSED', ss.posAt(start),
      'double-quoted string is not closed (a blank line or the end of the file came first); add the closing "');
  }
}

// literal_parser.rb eval_escape_char.
function escapeChar(ss: Scanner, c: string): string {
  switch (c) {
    case '"': return '"';
    case "'": return "'";
    case 'r': return '\r';
    case 'n': return '\n';
    case 't': return '\t';
    case 'f': return '\f';
    case 'b': return '\b';
    case '0': return '\0';
  }
  if (/^[a-zA-Z0-9]$/.test(c)) {
    throw new ConfigError('AR_CONF_SYNTAX', ss.posAt(ss.pos - 1),
      `unknown escape '\\${c}' in a double-quoted string; write '\\\\${c}' for a backslash, or use single quotes`);
  }
  return c; // `\<symbol>` is the symbol itself, e.g. \# or \$
}

function scanSingleQuoted(ss: Scanner, start: number): string {
  let out = '';
  for (;;) {
    if (ss.skipLiteral("'")) return out;
    if (ss.skipLiteral("\\'")) out += "'";
    else if (ss.skipLiteral('\\\\')) out += '\\';
    else {
      const ch = ss.scan(ss.re.anyChar);
      if (ch === null) {
        throw new ConfigError('AR_CONF_UNCLOSED', ss.posAt(start),
          "single-quoted string is not closed on its line; add the closing ' (single-quoted strings cannot span lines)");
      }
      out += ch;
    }
  }
}

// A `#` is always part of an unquoted string; only whitespace followed by
// `#...` up to the line end is a comment (test_config_parser.rb:
// "k1 #not_comment" → "#not_comment", "k1 a#b" → "a#b", "k1 a #c" → "a").
function scanNonquoted(ss: Scanner, boundary: Boundary): string | null {
  const re = ss.re;
  const charRe = boundary === 'value' ? re.valueChar : boundary === 'key' ? re.keyChar : re.argChar;
  let out = '';
  for (;;) {
    const ch = ss.scan(re.hash) ?? ss.scan(charRe);
    if (ch === null) break;
    out += ch;
  }
  return out === '' ? null : out;
}

/**
 * Fluentd finds the end of "#{...}" by asking Ruby where the expression ends;
 * here: the first `}` outside quotes and nested braces. Leaves ss before the `}`.
 */
function evalEmbeddedCode(ss: Scanner, ctx: LiteralContext): string {
  const text = ss.text;
  const start = ss.pos;
  let depth = 0;
  let quote = '';
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote !== '') {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      if (depth === 0) break;
      depth--;
    }
  }
  if (i >= text.length) {
    throw new ConfigError('AR_CONF_UNCLOSED', ss.posAt(start - 2), "'#{' is not closed; write \"#{ENV['NAME']}\"");
  }
  const code = text.slice(start, i);
  ss.pos = i;
  // literal_parser.rb prepends `worker_id = ENV['SERVERENGINE_WORKER_ID'] || ''` (the supervisor sets it per worker).
  if (/^\s*worker_id\s*$/.test(code)) return ctx.env.SERVERENGINE_WORKER_ID ?? '';
  const env = /^\s*ENV\[\s*(?:'([^'\\]*)'|"([^"\\#]*)")\s*\]\s*$/.exec(code);
  if (env === null) {
    // In a secret's value the code is not quoted back (it may be part of the
    // secret, e.g. a passphrase holding "#{"); file:line points at it.
    const shown = ctx.secret ? '"#{...}"' : `'#{${code}}'`;
    throw new ConfigError('AR_CONF_EMBEDDED_RUBY', ss.posAt(start),
      `embedded Ruby ${shown} is not supported: only "#{ENV['NAME']}" and "#{worker_id}" are evaluated; ` +
      'set the value in an environment variable, or write it literally with the # escaped as \\#');
  }
  const name = env[1] ?? env[2]!;
  const value = ctx.env[name];
  if (value === undefined) {
    ctx.warn?.(`"#{ENV['${name}']}" is empty: environment variable ${name} is not set; export ${name}=… before starting, or write the value literally`, ss.posAt(start));
  }
  return value ?? '';
}

/**
 * literal_parser.rb scan_json: read character by character until the text
 * so far parses as JSON; `#` starts a comment only where cutting the line
 * there still leaves valid JSON, and `#{...}` is interpolated raw.
 */
function scanJson(ss: Scanner, ctx: LiteralContext, isArray: boolean, start: number): string {
  const closer = isArray ? ']' : '}';
  let buffer = isArray ? '[' : '{';
  let lineBuffer = '';
  for (;;) {
    const ch = ss.getch();
    if (ch === undefined) break;
    if (ch === '#') {
      const cut = buffer + lineBuffer.trimEnd().replace(/,$/, '') + closer;
      if (parsesAsJson(cut)) {
        while (ss.getch() !== '\n' && !ss.eof()) { /* the comment */ }
        buffer += lineBuffer + '\n';
        lineBuffer = '';
      } else if (ss.check(ss.re.interpolationAhead) !== null) {
        ss.skipLiteral('{');
        lineBuffer += evalEmbeddedCode(ss, ctx);
        ss.skipLiteral('}');
      } else {
        lineBuffer += '#';
      }
      continue;
    }
    if (ch === '\n') {
      buffer += lineBuffer + '\n';
      lineBuffer = '';
      continue;
    }
    lineBuffer += ch;
    // Only a closing bracket can complete the top-level value.
    if ((ch === ']' || ch === '}') && parsesAsJson(buffer + lineBuffer)) {
      return dumpJsonAsRuby(buffer + lineBuffer, ss.posAt(start));
    }
  }
  throw new ConfigError('AR_CONF_UNCLOSED', ss.posAt(start),
    `JSON ${isArray ? 'array' : 'object'} value never becomes complete JSON before the end of the file; ` +
    `close it with '${closer}', or quote the value if it is not JSON`);
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
