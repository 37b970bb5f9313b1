// Parses the Ruby code record_transformer would instance_eval (docs/compatibility.md §4)
// into an AST, once, at configure. Only a safe subset is accepted: the
// variables Fluentd's clean-room exposes, literals, a whitelist of methods and
// a few operators. Anything else (method calls on self such as `system(...)`,
// constants such as `File`, blocks, backticks, assignment) is a ConfigError
// naming the expression and the part that is not supported — Fluentd would
// have run it.

import { ConfigError } from '../../params/errors.ts';
import type { SourcePos } from '../../params/element.ts';
import { Strftime } from '../../time/strftime.ts';
import { Lexer, LexFailure } from './lexer.ts';
import type { Token, StringPart } from './lexer.ts';
import { compileRegexp, RegexpFailure } from './ruby-string.ts';
import type { RubyValue } from './value.ts';
import { makeFloat } from './value.ts';

/** The names Fluentd's CleanroomExpander binds (filter_record_transformer.rb), plus `worker_id`. */
export type VarName = 'tag' | 'time' | 'record' | 'tag_parts' | 'tag_prefix' | 'tag_suffix' | 'hostname' | 'worker_id';
const VARIABLES: ReadonlySet<string> = new Set<VarName>([
  'tag', 'time', 'record', 'tag_parts', 'tag_prefix', 'tag_suffix', 'hostname', 'worker_id',
]);

/** Method name → [min, max] argument count. */
const METHODS: ReadonlyMap<string, readonly [number, number]> = new Map<string, readonly [number, number]>([
  ['to_s', [0, 0]], ['to_i', [0, 0]], ['to_f', [0, 0]], ['upcase', [0, 0]], ['downcase', [0, 0]],
  ['strip', [0, 0]], ['length', [0, 0]], ['size', [0, 0]], ['sub', [2, 2]], ['gsub', [2, 2]],
  ['nil?', [0, 0]], ['empty?', [0, 0]], ['dig', [1, 16]], ['fetch', [1, 2]],
  ['utc', [0, 0]], ['gmtime', [0, 0]], ['localtime', [0, 0]], ['getutc', [0, 0]], ['getgm', [0, 0]],
  ['getlocal', [0, 0]], ['strftime', [1, 1]], ['iso8601', [0, 1]], ['xmlschema', [0, 1]],
  ['year', [0, 0]], ['month', [0, 0]], ['mon', [0, 0]], ['day', [0, 0]], ['mday', [0, 0]],
  ['hour', [0, 0]], ['min', [0, 0]], ['sec', [0, 0]], ['usec', [0, 0]], ['nsec', [0, 0]],
  ['wday', [0, 0]], ['yday', [0, 0]], ['zone', [0, 0]], ['utc_offset', [0, 0]], ['gmt_offset', [0, 0]],
]);

export type Node =
  | { readonly k: 'lit'; readonly v: RubyValue }
  | { readonly k: 'str'; readonly parts: readonly (string | Node)[] }
  | { readonly k: 'var'; readonly name: VarName }
  | { readonly k: 'timeNow' }
  | { readonly k: 'timeAt'; readonly arg: Node }
  | { readonly k: 'index'; readonly recv: Node; readonly arg: Node }
  | CallNode
  | { readonly k: 'not' | 'neg'; readonly e: Node }
  | { readonly k: 'and' | 'or' | 'add' | 'eq' | 'ne'; readonly a: Node; readonly b: Node }
  | { readonly k: 'cond'; readonly c: Node; readonly a: Node; readonly b: Node };

export interface CallNode {
  readonly k: 'call';
  readonly recv: Node;
  readonly name: string;
  readonly args: readonly Node[];
  /** `&.`: nil receiver gives nil instead of NoMethodError. */
  readonly safe: boolean;
  /** strftime call site: compiled at configure for a literal format, else the last one used. */
  strftime: Strftime | null;
  strftimeFormat: string | null;
}

export interface CompileTarget {
  /** Where the <record> entry was written, for the ConfigError. */
  readonly pos: SourcePos;
  /** The value as written in the config (`${...}`), named in the error. */
  readonly display: string;
}

/** Parses Ruby source (as record_transformer preprocessed it) into an AST. */
export function parseRuby(source: string, target: CompileTarget): Node {
  let tokens: Token[];
  try {
    tokens = Lexer.tokenize(source);
  } catch (e) {
    if (e instanceof LexFailure) throw unsupported(target, e.part, e.why);
    throw e;
  }
  return new Parser(tokens, target).parseAll();
}

function unsupported(target: CompileTarget, part: string, why: string): ConfigError {
  return new ConfigError(
    'AR_CONF_UNSUPPORTED_RUBY',
    target.pos,
    `record_transformer value \`${target.display}\` uses \`${part}\`: ${why}. ` +
      'auditrelay evaluates only a safe Ruby subset (record["k"], tag, tag_parts[i], time.strftime(...), ' +
      'string methods, ==, &&, ||, ?:); rewrite the expression with those or drop enable_ruby',
  );
}

class Parser {
  readonly #tokens: Token[];
  readonly #target: CompileTarget;
  #i = 0;

  constructor(tokens: Token[], target: CompileTarget) {
    this.#tokens = tokens;
    this.#target = target;
  }

  parseAll(): Node {
    const node = this.#expr();
    const next = this.#peek();
    if (next.t !== 'end') throw this.#fail(next, 'only a single expression is supported');
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#i];
  }

  #next(): Token {
    const t = this.#tokens[this.#i];
    if (t.t !== 'end') this.#i++;
    return t;
  }

  #isOp(v: string): boolean {
    const t = this.#peek();
    return t.t === 'op' && t.v === v;
  }

  #expect(v: string): void {
    const t = this.#next();
    if (t.t !== 'op' || t.v !== v) throw this.#fail(t, `expected \`${v}\``);
  }

  #fail(t: Token, why: string): ConfigError {
    return unsupported(this.#target, t.t === 'end' ? (t.text || 'end of expression') : t.text, why);
  }

  // ternary ← or ('?' ternary ':' ternary)?   (Ruby precedence: ?: below ||)
  #expr(): Node {
    const c = this.#or();
    if (!this.#isOp('?')) return c;
    this.#next();
    const a = this.#expr();
    this.#expect(':');
    const b = this.#expr();
    return { k: 'cond', c, a, b };
  }

  #or(): Node {
    let a = this.#and();
    while (this.#isOp('||')) {
      this.#next();
      a = { k: 'or', a, b: this.#and() };
    }
    return a;
  }

  #and(): Node {
    let a = this.#equality();
    while (this.#isOp('&&')) {
      this.#next();
      a = { k: 'and', a, b: this.#equality() };
    }
    return a;
  }

  #equality(): Node {
    const a = this.#additive();
    if (this.#isOp('==') || this.#isOp('!=')) {
      const op = this.#next() as { v: string };
      const b = this.#additive();
      if (this.#isOp('==') || this.#isOp('!=')) throw this.#fail(this.#peek(), 'chained comparisons are not valid Ruby');
      return { k: op.v === '==' ? 'eq' : 'ne', a, b };
    }
    return a;
  }

  #additive(): Node {
    let a = this.#unary();
    while (this.#isOp('+')) {
      this.#next();
      a = { k: 'add', a, b: this.#unary() };
    }
    return a;
  }

  #unary(): Node {
    if (this.#isOp('!')) {
      this.#next();
      return { k: 'not', e: this.#unary() };
    }
    if (this.#isOp('-')) {
      this.#next();
      return { k: 'neg', e: this.#unary() };
    }
    return this.#postfix(this.#primary());
  }

  #postfix(node: Node): Node {
    for (;;) {
      const t = this.#peek();
      if (t.t !== 'op') return node;
      if (t.v === '[') {
        this.#next();
        const arg = this.#expr();
        if (this.#isOp(',')) throw this.#fail(this.#peek(), '`[]` with more than one argument is not supported');
        this.#expect(']');
        node = { k: 'index', recv: node, arg };
      } else if (t.v === '.' || t.v === '&.') {
        this.#next();
        node = this.#call(node, t.v === '&.');
      } else {
        return node;
      }
    }
  }

  #call(recv: Node, safe: boolean): Node {
    const nameTok = this.#next();
    if (nameTok.t !== 'ident') throw this.#fail(nameTok, 'expected a method name');
    const range = METHODS.get(nameTok.v);
    if (range === undefined) throw this.#fail(nameTok, `method \`${nameTok.v}\` is not in the supported subset`);
    const args: Node[] = [];
    if (this.#isOp('(')) {
      this.#next();
      if (!this.#isOp(')')) {
        args.push(this.#expr());
        while (this.#isOp(',')) {
          this.#next();
          args.push(this.#expr());
        }
      }
      this.#expect(')');
    } else if (nameTok.spaceAfter && startsValue(this.#peek())) {
      throw this.#fail(this.#peek(), `write the arguments of \`${nameTok.v}\` in parentheses`);
    }
    if (this.#isOp('{') || (this.#peek().t === 'ident' && (this.#peek() as { v: string }).v === 'do')) {
      throw this.#fail(this.#peek(), 'blocks are not supported');
    }
    if (args.length < range[0] || args.length > range[1]) {
      throw this.#fail(nameTok, `\`${nameTok.v}\` takes ${range[0] === range[1] ? range[0] : `${range[0]}..${range[1]}`} argument(s), got ${args.length}`);
    }
    const node: CallNode = { k: 'call', recv, name: nameTok.v, args, safe, strftime: null, strftimeFormat: null };
    const fmt = args[0];
    if (nameTok.v === 'strftime' && fmt.k === 'lit' && typeof fmt.v === 'string') {
      node.strftime = new Strftime(fmt.v); // docs/compatibility.md §4: compiled once per call site
      node.strftimeFormat = fmt.v;
    }
    return node;
  }

  #primary(): Node {
    const t = this.#next();
    switch (t.t) {
      case 'int':
      case 'float':
        return { k: 'lit', v: t.t === 'float' ? makeFloat(t.v) : t.v };
      case 'str':
        return this.#string(t.parts);
      case 'regex':
        try {
          return { k: 'lit', v: compileRegexp(t.source, t.flags) };
        } catch (e) {
          if (e instanceof RegexpFailure) throw this.#fail(t, e.why);
          throw e;
        }
      case 'ident': {
        if (t.v === 'nil') return { k: 'lit', v: null };
        if (t.v === 'true') return { k: 'lit', v: true };
        if (t.v === 'false') return { k: 'lit', v: false };
        if (this.#isOp('(')) throw this.#fail(t, `calling \`${t.v}\` is not supported`);
        if (!VARIABLES.has(t.v)) {
          throw this.#fail(t, `\`${t.v}\` is not one of tag, time, record, tag_parts, tag_prefix, tag_suffix, hostname, worker_id`);
        }
        if (t.spaceAfter && startsValue(this.#peek())) throw this.#fail(this.#peek(), 'method calls without parentheses are not supported');
        return { k: 'var', name: t.v as VarName };
      }
      case 'const':
        return this.#constant(t);
      case 'op':
        if (t.v === '(') {
          const e = this.#expr();
          this.#expect(')');
          return e;
        }
        if (t.v === '`') throw this.#fail(t, 'shell commands are not supported');
        throw this.#fail(t, `\`${t.v}\` is not supported here`);
      case 'end':
        throw this.#fail(t, 'the expression is incomplete');
    }
  }

  // Only `Time.now` and `Time.at(x)`; every other constant (File, ENV, Kernel, …) is refused.
  #constant(t: Token & { t: 'const' }): Node {
    if (t.v !== 'Time') throw this.#fail(t, `the constant \`${t.v}\` is not available (only Time.now and Time.at)`);
    this.#expect('.');
    const m = this.#next();
    if (m.t === 'ident' && m.v === 'now') {
      if (this.#isOp('(')) {
        this.#next();
        this.#expect(')');
      }
      return { k: 'timeNow' };
    }
    if (m.t === 'ident' && m.v === 'at') {
      this.#expect('(');
      const arg = this.#expr();
      if (this.#isOp(',')) throw this.#fail(this.#peek(), 'Time.at takes one argument here');
      this.#expect(')');
      return { k: 'timeAt', arg };
    }
    throw this.#fail(m, 'only Time.now and Time.at(x) are supported');
  }

  #string(parts: StringPart[]): Node {
    if (parts.length === 1 && typeof parts[0] === 'string') return { k: 'lit', v: parts[0] };
    const out: (string | Node)[] = [];
    for (const p of parts) {
      if (typeof p === 'string') {
        out.push(p);
        continue;
      }
      const sub = new Parser(p, this.#target);
      out.push(p.length === 1 ? { k: 'lit', v: '' } : sub.parseAll()); // `#{}` is nil → ""
    }
    return { k: 'str', parts: out };
  }
}

function startsValue(t: Token): boolean {
  return t.t === 'str' || t.t === 'int' || t.t === 'float' || t.t === 'ident' || t.t === 'const' || t.t === 'regex';
}
