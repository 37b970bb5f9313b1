// Tokenizer for the Ruby subset record_transformer accepts inside `${...}`
// with `enable_ruby true` (docs/compatibility.md §4). Runs once per <record> value at
// configure time; nothing here is on the per-event path.
//
// Anything the subset does not cover is still tokenized (as `op` or `other`)
// so the parser can name it in the configure-time error instead of failing
// with a vague "unexpected character".

export type StringPart = string | Token[];

export type Token =
  | { readonly t: 'int'; readonly v: number | bigint; readonly at: number; readonly text: string }
  | { readonly t: 'float'; readonly v: number; readonly at: number; readonly text: string }
  /** A string literal; `parts` alternates literal text and `#{...}` token lists. */
  | { readonly t: 'str'; readonly parts: StringPart[]; readonly at: number; readonly text: string }
  | { readonly t: 'regex'; readonly source: string; readonly flags: string; readonly at: number; readonly text: string }
  | { readonly t: 'ident'; readonly v: string; readonly at: number; readonly text: string; readonly spaceAfter: boolean }
  | { readonly t: 'const'; readonly v: string; readonly at: number; readonly text: string }
  | { readonly t: 'op'; readonly v: string; readonly at: number; readonly text: string }
  | { readonly t: 'end'; readonly at: number; readonly text: string };

/** Lexing failures carry the offending text; the parser turns them into ConfigErrors. */
export class LexFailure {
  readonly part: string;
  readonly why: string;
  constructor(part: string, why: string) {
    this.part = part;
    this.why = why;
  }
}

// Longest first. Operators outside the subset are listed so the error names them.
const OPERATORS = [
  '**=', '<=>', '===', '...', '||=', '&&=', '<<=', '>>=',
  '==', '!=', '&&', '||', '&.', '::', '=~', '!~', '<=', '>=', '<<', '>>', '..', '+=', '-=', '*=', '/=', '**', '->', '=>',
  '.', '(', ')', '[', ']', ',', '?', ':', '!', '+', '-', '*', '/', '%', '<', '>', '=', '{', '}', '|', '&', '^', '~', ';', '`',
];

const PAIRS: Record<string, string> = { '[': ']', '(': ')', '{': '}', '<': '>' };

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || c === '_';
}
function isIdentChar(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c === '_';
}
function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export class Lexer {
  readonly #src: string;
  #i = 0;

  constructor(source: string) {
    this.#src = source;
  }

  /** All tokens of the source, ending with an `end` token. */
  static tokenize(source: string): Token[] {
    const lx = new Lexer(source);
    const tokens = lx.#lexUntil(false);
    return tokens;
  }

  // Lexes until the end of input, or (inside `#{`) until the matching `}`.
  #lexUntil(inInterpolation: boolean): Token[] {
    const out: Token[] = [];
    let depth = 0;
    const src = this.#src;
    for (;;) {
      while (this.#i < src.length && ' \t\r\n'.includes(src[this.#i])) this.#i++;
      const at = this.#i;
      if (at >= src.length) {
        if (inInterpolation) throw new LexFailure(src.slice(Math.max(0, at - 20)), 'the `#{` interpolation is never closed');
        out.push({ t: 'end', at, text: '' });
        return out;
      }
      const c = src[at];
      if (inInterpolation && c === '}' && depth === 0) {
        this.#i++;
        out.push({ t: 'end', at, text: '}' });
        return out;
      }
      if (c === '#') throw new LexFailure(src.slice(at), 'comments are not allowed in an expression');
      if (isDigit(c) || (c === '-' && isDigit(src[at + 1] ?? '') && valuePosition(out))) {
        out.push(this.#number());
        continue;
      }
      if (isIdentStart(c)) {
        let j = at + 1;
        while (j < src.length && isIdentChar(src[j])) j++;
        // `nil?` / `empty?` are method names only after `.`/`&.`; elsewhere `?` is the ternary.
        const prev = out[out.length - 1];
        const afterDot = prev?.t === 'op' && (prev.v === '.' || prev.v === '&.');
        if (afterDot && (src[j] === '?' || src[j] === '!') && src[j + 1] !== '=') j++;
        const v = src.slice(at, j);
        this.#i = j;
        out.push({ t: 'ident', v, at, text: v, spaceAfter: j < src.length && ' \t'.includes(src[j]) });
        continue;
      }
      if (c >= 'A' && c <= 'Z') {
        let j = at + 1;
        while (j < src.length && isIdentChar(src[j])) j++;
        this.#i = j;
        out.push({ t: 'const', v: src.slice(at, j), at, text: src.slice(at, j) });
        continue;
      }
      if (c === '"') {
        this.#i++;
        out.push(this.#interpolated(at, '"', ''));
        continue;
      }
      if (c === "'") {
        out.push(this.#singleQuoted());
        continue;
      }
      if (c === '%' && src[at + 1] === 'Q' && PAIRS[src[at + 2]] !== undefined && valuePosition(out)) {
        this.#i += 3;
        out.push(this.#interpolated(at, PAIRS[src[at + 2]], src[at + 2]));
        continue;
      }
      if (c === '/' && valuePosition(out)) {
        out.push(this.#regex());
        continue;
      }
      if (c === '$' || c === '@') {
        let j = at + 1;
        while (j < src.length && isIdentChar(src[j])) j++;
        this.#i = Math.max(j, at + 1);
        out.push({ t: 'op', v: c, at, text: src.slice(at, this.#i) });
        continue;
      }
      const op = OPERATORS.find((o) => src.startsWith(o, at));
      if (op === undefined) {
        this.#i++;
        out.push({ t: 'op', v: c, at, text: c });
        continue;
      }
      if (op === '{') depth++;
      if (op === '}') depth--;
      this.#i += op.length;
      out.push({ t: 'op', v: op, at, text: op });
    }
  }

  #number(): Token {
    const src = this.#src;
    const at = this.#i;
    let j = at;
    if (src[j] === '-') j++;
    if (src[j] === '0' && /[xXbBoO]/.test(src[j + 1] ?? '')) {
      throw new LexFailure(src.slice(at, j + 2), 'only decimal number literals are supported');
    }
    while (j < src.length && (isDigit(src[j]) || (src[j] === '_' && isDigit(src[j + 1] ?? '')))) j++;
    let isFloat = false;
    if (src[j] === '.' && isDigit(src[j + 1] ?? '')) {
      isFloat = true;
      j++;
      while (j < src.length && (isDigit(src[j]) || (src[j] === '_' && isDigit(src[j + 1] ?? '')))) j++;
    }
    if ((src[j] === 'e' || src[j] === 'E') && /^[+-]?\d/.test(src.slice(j + 1, j + 3))) {
      isFloat = true;
      j += 2;
      while (j < src.length && isDigit(src[j])) j++;
    }
    const text = src.slice(at, j);
    this.#i = j;
    const clean = text.replaceAll('_', '');
    if (isFloat) return { t: 'float', v: Number(clean), at, text };
    const big = BigInt(clean);
    const v = big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    return { t: 'int', v, at, text };
  }

  #singleQuoted(): Token {
    const src = this.#src;
    const at = this.#i;
    let j = at + 1;
    let value = '';
    for (;;) {
      if (j >= src.length) throw new LexFailure(src.slice(at), 'the string is never closed');
      const c = src[j];
      if (c === "'") break;
      if (c === '\\' && (src[j + 1] === '\\' || src[j + 1] === "'")) {
        value += src[j + 1];
        j += 2;
        continue;
      }
      value += c;
      j++;
    }
    this.#i = j + 1;
    return { t: 'str', parts: [value], at, text: src.slice(at, j + 1) };
  }

  // Double-quoted and %Q strings: Ruby escapes plus `#{...}` interpolation.
  // `open` is set for %Q with bracket delimiters, which nest (`%Q[a[b]c]`).
  #interpolated(at: number, close: string, open: string): Token {
    const src = this.#src;
    const parts: StringPart[] = [];
    let text = '';
    let depth = 0;
    for (;;) {
      if (this.#i >= src.length) throw new LexFailure(src.slice(at), 'the string is never closed');
      const c = src[this.#i];
      if (c === close && depth === 0) {
        this.#i++;
        break;
      }
      if (open !== '' && c === open) depth++;
      if (open !== '' && c === close) depth--;
      if (c === '\\') {
        text += this.#escape();
        continue;
      }
      if (c === '#' && src[this.#i + 1] === '{') {
        if (text !== '') parts.push(text);
        text = '';
        this.#i += 2;
        parts.push(this.#lexUntil(true));
        continue;
      }
      if (c === '#' && (src[this.#i + 1] === '@' || src[this.#i + 1] === '$')) {
        throw new LexFailure(src.slice(this.#i, this.#i + 8), 'instance/global variable interpolation is not supported');
      }
      text += c;
      this.#i++;
    }
    if (text !== '' || parts.length === 0) parts.push(text);
    return { t: 'str', parts, at, text: src.slice(at, this.#i) };
  }

  // Ruby double-quote escapes (doc/syntax/literals.rdoc "Strings").
  #escape(): string {
    const src = this.#src;
    const c = src[this.#i + 1] ?? '';
    this.#i += 2;
    switch (c) {
      case 'n': return '\n';
      case 't': return '\t';
      case 'r': return '\r';
      case 's': return ' ';
      case 'e': return '\x1b';
      case 'a': return '\x07';
      case 'b': return '\b';
      case 'f': return '\f';
      case 'v': return '\v';
      case '\n': return '';
      case 'u': {
        if (src[this.#i] === '{') {
          const end = src.indexOf('}', this.#i);
          if (end < 0) throw new LexFailure(src.slice(this.#i - 2), 'bad \\u{} escape');
          const cps = src.slice(this.#i + 1, end).trim().split(/\s+/);
          this.#i = end + 1;
          return String.fromCodePoint(...cps.map((h) => parseInt(h, 16)));
        }
        const hex = src.slice(this.#i, this.#i + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new LexFailure(src.slice(this.#i - 2, this.#i + 4), 'bad \\u escape');
        this.#i += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case 'x': {
        const m = /^[0-9a-fA-F]{1,2}/.exec(src.slice(this.#i, this.#i + 2));
        if (!m) throw new LexFailure(src.slice(this.#i - 2, this.#i + 2), 'bad \\x escape');
        this.#i += m[0].length;
        return String.fromCharCode(parseInt(m[0], 16));
      }
      default: {
        if (c >= '0' && c <= '7') {
          const m = /^[0-7]{1,3}/.exec(src.slice(this.#i - 1, this.#i + 2))!;
          this.#i += m[0].length - 1;
          return String.fromCharCode(parseInt(m[0], 8) & 0xff);
        }
        return c; // unknown escape → the character itself, as Ruby does
      }
    }
  }

  #regex(): Token {
    const src = this.#src;
    const at = this.#i;
    let j = at + 1;
    let inClass = false;
    let source = '';
    for (;;) {
      if (j >= src.length) throw new LexFailure(src.slice(at), 'the regexp is never closed');
      const c = src[j];
      if (c === '\\') {
        source += src.slice(j, j + 2);
        j += 2;
        continue;
      }
      if (c === '#' && src[j + 1] === '{') throw new LexFailure(src.slice(j, j + 10), 'interpolation inside a regexp is not supported');
      if (c === '[') inClass = true;
      if (c === ']') inClass = false;
      if (c === '/' && !inClass) break;
      source += c;
      j++;
    }
    j++;
    let flags = '';
    while (j < src.length && /[a-z]/.test(src[j])) flags += src[j++];
    this.#i = j;
    return { t: 'regex', source, flags, at, text: src.slice(at, j) };
  }
}

// True where Ruby expects a value (so `/` starts a regexp and `-1` is a literal).
function valuePosition(out: Token[]): boolean {
  const prev = out[out.length - 1];
  if (prev === undefined) return true;
  if (prev.t !== 'op') return false;
  return prev.v !== ')' && prev.v !== ']' && prev.v !== '}';
}
