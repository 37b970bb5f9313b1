// Ruby String methods of the `${...}` subset whose semantics differ from the
// JavaScript ones: sub/gsub (replacement escapes `\1`, `\0`, `\k<n>`), strip
// (Ruby's whitespace set, NUL stripped at the end), length (characters, not
// UTF-16 units), and Ruby → JavaScript regexp translation (done at configure).

import { RubyRegexp } from './value.ts';
import type { RubyValue } from './value.ts';
import { className, noMethod } from './value.ts';
import { rubyError } from '../errors.ts';

/** Why a regexp literal cannot be used; the parser reports it as a ConfigError. */
export class RegexpFailure {
  readonly why: string;
  constructor(why: string) {
    this.why = why;
  }
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: '\\s',
  xdigit: '0-9a-fA-F', punct: '!-\\/:-@\\[-`{-~', word: '\\w', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f',
};

/**
 * Compiles a Ruby regexp literal. Ruby's `^`/`$` are line anchors (JS flag `m`),
 * Ruby's `/m` is JS `s`, and `\A`, `\z`, `\Z`, `\h` have no JS spelling.
 */
export function compileRegexp(source: string, rubyFlags: string): RubyRegexp {
  let flags = 'm';
  for (const f of rubyFlags) {
    if (f === 'i') flags += 'i';
    else if (f === 'm') flags += 's';
    else if (f === 'x') throw new RegexpFailure('the extended (/x) regexp flag is not supported');
    else if (!'ounse'.includes(f)) throw new RegexpFailure(`unknown regexp flag '${f}'`);
  }
  let js = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      i++;
      if (n === 'A' && !inClass) js += '(?<![\\s\\S])';
      else if (n === 'z' && !inClass) js += '(?![\\s\\S])';
      else if (n === 'Z' && !inClass) js += '(?=\\n?(?![\\s\\S]))';
      else if (n === 'h') js += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]';
      else if (n === 'H' && !inClass) js += '[^0-9a-fA-F]';
      else if (n === 'G' || n === 'K' || n === 'R' || n === 'X') throw new RegexpFailure(`\\${n} has no JavaScript equivalent`);
      else js += '\\' + n;
      continue;
    }
    if (inClass && c === '[' && source[i + 1] === ':') {
      const end = source.indexOf(':]', i + 2);
      const name = end < 0 ? '' : source.slice(i + 2, end);
      const cls = POSIX_CLASSES[name];
      if (cls === undefined) throw new RegexpFailure(`POSIX class [:${name}:] is not supported`);
      js += cls;
      i = end + 1;
      continue;
    }
    if (!inClass && c === '(' && source.startsWith('(?#', i)) throw new RegexpFailure('regexp comments are not supported');
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    js += c;
  }
  // Ruby matches characters, not UTF-16 units: prefer the `u` flag, fall back
  // when the pattern uses escapes `u` rejects (e.g. `\-` outside a class).
  for (const extra of ['u', '']) {
    try {
      return new RubyRegexp(source, new RegExp(js, flags + extra), new RegExp(js, flags + extra + 'g'));
    } catch {
      // try the next flag set
    }
  }
  throw new RegexpFailure(`/${source}/ is not a regexp JavaScript can run`);
}

// Ruby's replacement-string escapes (String#sub docs): \0 \& whole match,
// \1..\9 groups, \k<name>, \` prematch, \' postmatch, \\ a backslash.
function expandReplacement(repl: string, m: RegExpExecArray, input: string): string {
  if (!repl.includes('\\')) return repl;
  let out = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '\\' || i + 1 >= repl.length) {
      out += c;
      continue;
    }
    const n = repl[++i];
    if (n === '0' || n === '&') out += m[0];
    else if (n >= '1' && n <= '9') out += m[Number(n)] ?? '';
    else if (n === '`') out += input.slice(0, m.index);
    else if (n === "'") out += input.slice(m.index + m[0].length);
    else if (n === '\\') out += '\\';
    else if (n === 'k' && repl[i + 1] === '<') {
      const end = repl.indexOf('>', i);
      const name = end < 0 ? '' : repl.slice(i + 2, end);
      if (end < 0 || m.groups === undefined || !(name in m.groups)) {
        throw rubyError('IndexError', `undefined group name reference: ${name}`);
      }
      out += m.groups[name] ?? '';
      i = end;
    } else out += '\\' + n;
  }
  return out;
}

// A literal (String) pattern match shaped like a RegExp match, so one
// replacement routine serves both pattern kinds.
function literalMatch(text: string, index: number): RegExpExecArray {
  const m = [text] as unknown as RegExpExecArray;
  m.index = index;
  return m;
}

/** Ruby `String#sub` / `#gsub` with a String or Regexp pattern and a String replacement. */
export function substitute(input: string, pattern: RubyValue, repl: RubyValue, all: boolean): string {
  if (typeof repl !== 'string') throw rubyError('TypeError', `no implicit conversion of ${className(repl)} into String`);
  if (pattern instanceof RubyRegexp) {
    const re = all ? pattern.global : pattern.once;
    re.lastIndex = 0;
    let out = '';
    let last = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(input)) !== null) {
      out += input.slice(last, m.index) + expandReplacement(repl, m, input);
      last = m.index + m[0].length;
      if (!all) break;
      if (m[0].length === 0) {
        // step over one character so an empty match cannot loop forever
        const cp = input.codePointAt(last);
        const step = cp !== undefined && cp > 0xffff && re.unicode ? 2 : 1;
        if (last < input.length) out += input.slice(last, last + step);
        last += step;
        re.lastIndex = last;
        if (last > input.length) break;
      }
    }
    return last >= input.length ? out : out + input.slice(last);
  }
  if (typeof pattern !== 'string') {
    throw rubyError('TypeError', `wrong argument type ${className(pattern)} (expected Regexp)`);
  }
  let out = '';
  let last = 0;
  for (;;) {
    const at = input.indexOf(pattern, last);
    if (at < 0 || (pattern === '' && at > input.length)) break;
    out += input.slice(last, at) + expandReplacement(repl, literalMatch(pattern, at), input);
    last = at + pattern.length;
    if (!all) break;
    if (pattern === '') {
      if (last >= input.length) return out;
      const step = (input.codePointAt(last) ?? 0) > 0xffff ? 2 : 1;
      out += input.slice(last, last + step);
      last += step;
    }
  }
  return out + input.slice(last);
}

function isRubySpace(c: number, allowNul: boolean): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || (allowNul && c === 0);
}

/** Ruby `String#strip`: ASCII whitespace both ends, plus NUL at the end. */
export function strip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isRubySpace(s.charCodeAt(start), false)) start++;
  while (end > start && isRubySpace(s.charCodeAt(end - 1), true)) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/** Ruby `String#length`: characters (code points). */
export function charLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) i++;
    n++;
  }
  return n;
}

/** Ruby `String#[]` with an Integer: one character, or nil past the end. */
export function charAt(s: string, index: number): string | null {
  const chars = Array.from(s);
  const i = index < 0 ? chars.length + index : index;
  return i >= 0 && i < chars.length ? chars[i] : null;
}

export function requireString(v: RubyValue, method: string): string {
  if (typeof v !== 'string') throw noMethod(method, v);
  return v;
}
