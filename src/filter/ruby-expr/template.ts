// One <record> key or value under `enable_ruby true`, preprocessed exactly as
// Fluentd's RubyPlaceholderExpander#preprocess_map does (docs/compatibility.md §4), then
// parsed once:
//   - auto_typecast and the value is exactly one `${...}` → the bare expression,
//     so the result keeps its Ruby type;
//   - otherwise `%Q[...]` with every `${` turned into `#{` → always a String.
// Keys are always the `%Q[...]` form (force_stringify).

import type { SourcePos } from '../../params/element.ts';
import { FilterError } from '../errors.ts';
import { evaluate } from './evaluate.ts';
import type { Scope } from './evaluate.ts';
import { parseRuby } from './parser.ts';
import type { Node } from './parser.ts';
import type { RubyValue } from './value.ts';

export class RubyTemplate {
  /** The Ruby source Fluentd would instance_eval; named in "failed to expand" errors. */
  readonly source: string;
  readonly #root: Node;
  /** Set when the code is a literal (e.g. `%Q[plain text]`): no work per event. */
  readonly constant: RubyValue | undefined;

  constructor(value: string, stringify: boolean, pos: SourcePos) {
    this.source = RubyTemplate.preprocess(value, stringify);
    this.#root = parseRuby(this.source, { pos, display: value });
    this.constant = this.#root.k === 'lit' ? this.#root.v : undefined;
  }

  /** filter_record_transformer.rb RubyPlaceholderExpander#preprocess_map for one String. */
  static preprocess(value: string, stringify: boolean): string {
    if (!stringify && value.startsWith('${') && value.endsWith('}') && value.split('${').length === 2) {
      return value.slice(2, -1);
    }
    return `%Q[${value.replaceAll('${', '#{')}]`;
  }

  /** Evaluates against the current event; failures become Fluentd's "failed to expand" error. */
  expand(scope: Scope): RubyValue {
    try {
      return evaluate(this.#root, scope);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new FilterError('AR_FILTER_EXPAND', 'RuntimeError', `failed to expand \`${this.source}\` : error = ${message}`, { cause: e });
    }
  }
}
