// How a plugin declares its parameters, the way Fluentd's `config_param` does:
// one object at the top of the plugin file, with type, default and description.
// `src/params/params.ts` turns a <section>'s raw strings into these types,
// validates them with one ajv validator compiled per schema, and marks them used.

export type ParamType =
  | 'string'
  | 'integer'
  | 'float'
  | 'size' // 10k, 256m, 1g (1024-based) or a plain integer → bytes
  | 'time' // 1s, 10m, 1h, 1d or a float → seconds
  | 'bool' // true|yes / false|no / empty = true
  | 'enum'
  | 'array' // JSON array or comma-separated
  | 'hash' // JSON object or k:v,k2:v2
  | 'regexp'; // /.../

export interface ParamSpec {
  readonly type: ParamType;
  readonly desc: string;
  /** Absent = optional with no value (undefined). */
  readonly default?: unknown;
  readonly required?: boolean;
  readonly enum?: readonly string[];
  /** Masked as xxxxxx when the config is dumped (Fluentd's `secret: true`). */
  readonly secret?: boolean;
  /** Old spelling still accepted. */
  readonly alias?: string;
  /** Accepted with a warning carrying this text. */
  readonly deprecated?: string;
  /** For arrays: the element type (default string). */
  readonly valueType?: 'string' | 'integer' | 'float';
  readonly minimum?: number;
  readonly maximum?: number;
}

export type ParamSchema = Record<string, ParamSpec>;

type ValueOf<S extends ParamSpec> = S['type'] extends 'string'
  ? string
  : S['type'] extends 'integer' | 'float' | 'size' | 'time'
    ? number
    : S['type'] extends 'bool'
      ? boolean
      : S['type'] extends 'enum'
        ? S['enum'] extends readonly (infer E)[]
          ? E
          : string
        : S['type'] extends 'array'
          ? S['valueType'] extends 'integer' | 'float'
            ? number[]
            : string[]
          : S['type'] extends 'hash'
            ? Record<string, string>
            : S['type'] extends 'regexp'
              ? RegExp
              : never;

type Present<S extends ParamSpec> = S extends { default: {} } ? true : S extends { required: true } ? true : false;

export type ParamsOf<S extends ParamSchema> = {
  readonly [K in keyof S]: Present<S[K]> extends true ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};
