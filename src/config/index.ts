// The config area's public surface: parse a fluent.conf, read typed params
// from its sections, report what was never read, dump it for the startup log.

export { ConfigElement } from '../params/element.ts';
export type { RawParam, SourcePos } from '../params/element.ts';
export type { ParamSchema, ParamSpec, ParamType, ParamsOf } from '../params/param-schema.ts';
export { ConfigError, CONFIG_ERROR_CODES } from '../params/errors.ts';
export type { ConfigErrorCode } from '../params/errors.ts';
export { parseConfigFile, parseConfigString } from './parser.ts';
export type { ParseOptions } from './parser.ts';
export { configureParams, singleSection } from '../params/params.ts';
export { unusedWarnings } from './unused.ts';
export type { ConfigWarning } from './unused.ts';
export { dumpConfig } from './dump.ts';
export { findPlaceholders } from './placeholders.ts';
export type { ConfigProblem } from './placeholders.ts';
