// One <section> of a fluent.conf after parsing: its name and argument, its raw
// `key value` params and nested sections, and where each came from so every
// later error can name file:line. Plugins read params through
// `configureParams` (params.ts), which marks them used; whatever is never
// marked is reported as unused, as Fluentd does.

export interface SourcePos {
  readonly file: string;
  readonly line: number;
}

export interface RawParam {
  readonly key: string;
  /** The value after unquoting/escapes/ENV interpolation, as Fluentd's parser gives it. */
  readonly value: string;
  readonly pos: SourcePos;
}

export class ConfigElement {
  readonly name: string;
  readonly arg: string;
  readonly pos: SourcePos;
  readonly params = new Map<string, RawParam>();
  readonly elements: ConfigElement[] = [];
  readonly usedParams = new Set<string>();
  used = false;
  /**
   * Set by `configureParams` (params.ts), like Fluentd's corresponding_proxies:
   * secret params are masked and string params quoted when the config is
   * dumped, and a configured section reports its unknown subsections as
   * "section <x> is not used in <this>".
   */
  readonly secretKeys = new Set<string>();
  readonly stringKeys = new Set<string>();
  /** Every param name (and alias) the configuring schema knows: the candidates of "did you mean …?". */
  readonly knownKeys = new Set<string>();
  configured = false;

  constructor(name: string, arg: string, pos: SourcePos) {
    this.name = name;
    this.arg = arg;
    this.pos = pos;
  }

  /** Raw value of a param (marks it used), or undefined. */
  take(key: string): RawParam | undefined {
    const p = this.params.get(key);
    if (p) this.usedParams.add(key);
    return p;
  }

  /** Nested sections with this name (marks them used). */
  sections(name: string): ConfigElement[] {
    const found: ConfigElement[] = [];
    for (const e of this.elements) {
      if (e.name === name) {
        e.used = true;
        found.push(e);
      }
    }
    return found;
  }

  /** `file:line` for messages. */
  where(key?: string): string {
    const pos = (key !== undefined && this.params.get(key)?.pos) || this.pos;
    return `${pos.file}:${pos.line}`;
  }
}
