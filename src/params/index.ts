// How a plugin declares and receives its params: the parsed section
// (ConfigElement), the param schema, Fluentd's type conversions and ConfigError.
// A base folder below the data path, like value/ and time/: every plugin folder
// needs it, and config/ (the fluent.conf lexer/parser) builds on it.
// Rule: params/ imports only node builtins, npm packages (ajv), value/ and src/errors.ts.

export { ConfigElement } from './element.ts';
export type { RawParam, SourcePos } from './element.ts';
export type { ParamSchema, ParamSpec, ParamType, ParamsOf } from './param-schema.ts';
export { ConfigError, CONFIG_ERROR_CODES } from './errors.ts';
export type { ConfigErrorCode } from './errors.ts';
export { configureParams, singleSection } from './params.ts';
