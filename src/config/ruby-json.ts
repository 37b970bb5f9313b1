// Fluentd stores a JSON config value as `JSON.dump(JSON.parse(text))`
// (literal_parser.rb scan_json), so `[1, 2.50, {"a": 1, "a": 2}]` becomes
// `[1,2.5,{"a":2}]`. JSON.stringify would print the float 2.0 as `2`; Ruby
// prints `2.0`, so numbers are re-rendered the way Ruby's Float#to_s does.

import { ConfigError } from '../params/errors.ts';
import type { SourcePos } from '../params/element.ts';
import { rubyFloatToS } from '../value/oj-json.ts';

/** Re-dump valid JSON text as Ruby's JSON.dump would. */
export function dumpJsonAsRuby(text: string, pos: SourcePos): string {
  const reader = new JsonReader(text, pos);
  return reader.value();
}

class JsonReader {
  private readonly text: string;
  private readonly pos: SourcePos;
  private i = 0;

  constructor(text: string, pos: SourcePos) {
    this.text = text;
    this.pos = pos;
  }

  value(): string {
    this.ws();
    const c = this.text[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return JSON.stringify(JSON.parse(this.stringToken()));
    for (const word of ['true', 'false', 'null']) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return word;
      }
    }
    return this.number();
  }

  private object(): string {
    this.i++;
    // Duplicate keys: the last value wins at the first key's position, as in a Ruby Hash.
    const entries = new Map<string, string>();
    this.ws();
    if (this.text[this.i] === '}') {
      this.i++;
      return '{}';
    }
    for (;;) {
      this.ws();
      const key = JSON.parse(this.stringToken()) as string;
      this.ws();
      this.i++; // ':'
      entries.set(key, this.value());
      this.ws();
      if (this.text[this.i++] === '}') break;
    }
    const parts: string[] = [];
    for (const [k, v] of entries) parts.push(`${JSON.stringify(k)}:${v}`);
    return `{${parts.join(',')}}`;
  }

  private array(): string {
    this.i++;
    const items: string[] = [];
    this.ws();
    if (this.text[this.i] === ']') {
      this.i++;
      return '[]';
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      if (this.text[this.i++] === ']') break;
    }
    return `[${items.join(',')}]`;
  }

  private stringToken(): string {
    const start = this.i;
    this.i++;
    while (this.text[this.i] !== '"') this.i += this.text[this.i] === '\\' ? 2 : 1;
    this.i++;
    return this.text.slice(start, this.i);
  }

  private number(): string {
    const m = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;
    m.lastIndex = this.i;
    const token = m.exec(this.text)?.[0] ?? '';
    this.i += token.length;
    if (!/[.eE]/.test(token)) return BigInt(token).toString();
    const x = Number(token);
    if (!Number.isFinite(x)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', this.pos, `JSON number ${token} is out of range; write a smaller number`);
    }
    return rubyFloatToS(x);
  }

  private ws(): void {
    while (this.i < this.text.length && ' \t\r\n'.includes(this.text[this.i])) this.i++;
  }
}

