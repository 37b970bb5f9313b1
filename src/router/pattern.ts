// Fluentd's tag patterns (lib/fluent/match.rb, docs/compatibility.md §5): a <match>/<filter>
// argument is split on whitespace; each part is `**`, a `/regex/`, or a glob
// compiled to an anchored regex exactly as GlobMatchPattern builds it.

import { ConfigError } from '../params/errors.ts';
import type { SourcePos } from '../params/element.ts';

export interface TagMatcher {
  readonly source: string;
  match(tag: string): boolean;
}

class RegexMatcher implements TagMatcher {
  readonly source: string;
  readonly #regex: RegExp;
  constructor(source: string, regex: RegExp) {
    this.source = source;
    this.#regex = regex;
  }
  match(tag: string): boolean {
    return this.#regex.test(tag);
  }
}

class AllMatcher implements TagMatcher {
  readonly source = '**';
  match(): boolean {
    return true;
  }
}

class OrMatcher implements TagMatcher {
  readonly source: string;
  readonly #parts: TagMatcher[];
  constructor(source: string, parts: TagMatcher[]) {
    this.source = source;
    this.#parts = parts;
  }
  match(tag: string): boolean {
    for (const p of this.#parts) if (p.match(tag)) return true;
    return false;
  }
}

/** `<match a.* b.**>` → one matcher; an empty argument means `**` as in Fluentd. */
export function compilePatterns(arg: string, pos?: SourcePos): TagMatcher {
  const parts = arg.trim() === '' ? ['**'] : arg.trim().split(/\s+/);
  const matchers = parts.map((p) => compilePattern(p, pos));
  return matchers.length === 1 ? matchers[0] : new OrMatcher(arg, matchers);
}

export function compilePattern(pattern: string, pos?: SourcePos): TagMatcher {
  if (pattern === '**') return new AllMatcher();
  return new RegexMatcher(pattern, new RegExp(globToRegexSource(pattern, pos)));
}

const WORD_CHAR = /[a-zA-Z0-9_]/;

export function globToRegexSource(pattern: string, pos?: SourcePos): string {
  if (pattern.startsWith('/')) {
    if (pattern.length > 1 && pattern.endsWith('/')) return `^(?:${pattern.slice(1, -1)})$`;
    throw new ConfigError('AR_CONF_BAD_PATTERN', pos,
      `invalid match - regex: '${pattern}' starts with / but does not end with /; write /regex/`);
  }
  const stack: string[][] = [];
  const regex: string[] = [''];
  let escape = false;
  let dot = false;
  let i = 0;
  const append = (s: string) => {
    regex[regex.length - 1] += s;
  };
  while (i < pattern.length) {
    const c = pattern[i];
    if (escape) {
      append(escapeRegex(c));
      escape = false;
      i += 1;
      continue;
    } else if (pattern.startsWith('**', i)) {
      if (dot) {
        append('(?![^\\.])');
        dot = false;
      }
      if (pattern[i + 2] === '.') {
        append('(?:.*\\.|^)');
        i += 3;
      } else {
        append('.*');
        i += 2;
      }
      continue;
    } else if (dot) {
      append('\\.');
      dot = false;
    }
    if (c === '\\') escape = true;
    else if (c === '.') dot = true;
    else if (c === '*') append('[^\\.]*');
    else if (c === '{') {
      stack.push([]);
      regex.push('');
    } else if (c === '}' && stack.length > 0) {
      stack[stack.length - 1].push(regex.pop()!);
      append(union(stack.pop()!));
    } else if (c === ',' && stack.length > 0) {
      stack[stack.length - 1].push(regex.pop()!);
      regex.push('');
    } else if (WORD_CHAR.test(c)) append(c);
    else append('\\' + c);
    i += 1;
  }
  // An unclosed `{` unions its alternatives as literal strings (Regexp.union of Strings).
  while (stack.length > 0) {
    stack[stack.length - 1].push(regex.pop()!);
    append(union(stack.pop()!.map(escapeRegex)));
  }
  // A trailing `.` is dropped, as in Fluentd (the pending dot is never written).
  return `^${regex[regex.length - 1]}$`;
}

function union(alternatives: string[]): string {
  return `(?:${alternatives.map((a) => `(?:${a})`).join('|')})`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');
}
