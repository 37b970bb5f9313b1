// The config area's public surface: parse a fluent.conf, read typed params
// from its sections, report what was never read, dump it for the startup log.

export { ConfigElement } from './element.ts';
export type { RawParam, SourcePos } from './element.ts';
export type { ParamSchema, ParamSpec, ParamType, ParamsOf } from './param-schema.ts';
export { ConfigError, CONFIG_ERROR_CODES } from './errors.ts';
export type { ConfigErrorCode } from './errors.ts';
export { parseConfigFile, parseConfigString } from './parser.ts';
export type { ParseOptions } from './parser.ts';
export { configureParams, singleSection } from './params.ts';
export { unusedWarnings } from './unused.ts';
export type { ConfigWarning } from './unused.ts';
export { dumpConfig } from './dump.ts';
