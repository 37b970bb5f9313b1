// A port of the parts of Ruby's StringScanner that Fluentd's config parser
// uses (lib/fluent/config/basic_parser.rb), with its token regexps rewritten
// for JavaScript. Keeping Fluentd's regexps — rather than a hand-written
// lexer — is what makes quirks like `k1 #not_comment` → "#not_comment" and
// `k1 a #comment` → "a" come out exactly as Fluentd reads them (docs/compatibility.md §10).

import type { SourcePos } from '../params/element.ts';

// Ruby `\z` (end of string); Ruby `.` is `[^\n]` (it matches \r, JS `.` does not).
const EOS = '(?![\\s\\S])';

const LINE_END_SRC = `(?:[ \\t]*(?:#[^\\n]*)?(?:${EOS}|[\\r\\n]))+`;
const SPACING_SRC = `(?:[ \\t\\r\\n]|${EOS}|#[^\\n]*?(?:${EOS}|[\\r\\n]))+`;
const ZERO_OR_MORE_SPACING_SRC = `(?:[ \\t\\r\\n]|${EOS}|#[^\\n]*?(?:${EOS}|[\\r\\n]))*`;

/** Sticky matchers, made per Scanner: a sticky RegExp carries lastIndex, so none is shared at module level. */
function tokenRegExps() {
  return {
    lineEnd: new RegExp(LINE_END_SRC, 'y'),
    spacing: new RegExp(SPACING_SRC, 'y'),
    spacingWithoutComment: new RegExp(`(?:[ \\t\\r\\n]|${EOS})+`, 'y'),
    // A character followed by a line end: the multi-line rule of double-quoted strings.
    charBeforeLineEnd: new RegExp(`[^"](?:${EOS}|[\\r\\n])`, 'y'),
    nonBackslashBeforeLineEnd: new RegExp(`[^\\\\](?:${EOS}|[\\r\\n])`, 'y'),
    escape: /\\[^\n]/y,
    anyChar: /[^\n]/y,
    hash: /#/y,
    elementName: /[a-zA-Z0-9_]+/y,
    // Fluentd's scan_nonquoted_string charset: one character that does not start the boundary.
    valueChar: new RegExp(`(?!${LINE_END_SRC})[^\\n]`, 'y'),
    keyChar: new RegExp(`(?!${SPACING_SRC})[^\\n]`, 'y'),
    argChar: new RegExp(`(?!${ZERO_OR_MORE_SPACING_SRC}>)[^\\n]`, 'y'),
    include: new RegExp(`(?:@include|include)${SPACING_SRC}`, 'y'),
    interpolationAhead: /\{[^}]+\}/y,
  };
}

export type TokenRegExps = ReturnType<typeof tokenRegExps>;

export class Scanner {
  readonly text: string;
  /** File name shown in messages (SourcePos.file). */
  readonly file: string;
  readonly re: TokenRegExps = tokenRegExps();
  pos = 0;
  /** Ruby's `ss[0]`: the text of the last successful match, null after a failed one. */
  lastMatch: string | null = null;
  private readonly lineStarts: number[];

  constructor(text: string, file: string) {
    this.text = text;
    this.file = file;
    this.lineStarts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }

  /** Advance over `re` (sticky) at the current position; the match length, or null. Zero is a match. */
  skip(re: RegExp): number | null {
    const m = this.match(re);
    if (m === null) return null;
    this.pos += m.length;
    return m.length;
  }

  /** Like skip, returning the matched text. */
  scan(re: RegExp): string | null {
    const m = this.match(re);
    if (m !== null) this.pos += m.length;
    return m;
  }

  /** Match without advancing. */
  check(re: RegExp): string | null {
    return this.match(re);
  }

  /** Skip a literal string if it is next. */
  skipLiteral(s: string): boolean {
    if (!this.text.startsWith(s, this.pos)) return false;
    this.pos += s.length;
    this.lastMatch = s;
    return true;
  }

  peek(): string | undefined {
    return this.pos < this.text.length ? this.text[this.pos] : undefined;
  }

  getch(): string | undefined {
    if (this.pos >= this.text.length) return undefined;
    return this.text[this.pos++];
  }

  eof(): boolean {
    return this.pos >= this.text.length;
  }

  rest(): string {
    return this.text.slice(this.pos);
  }

  lineAt(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  posAt(offset: number = this.pos): SourcePos {
    return { file: this.file, line: this.lineAt(offset) };
  }

  private match(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    this.lastMatch = m === null ? null : m[0];
    return this.lastMatch;
  }
}
