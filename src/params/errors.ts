// Config errors: one class, one code table (style.md "Errors"). Every message
// names file:line, what was found and what to write instead, and ends with the
// code so a log line is enough to find the rule that fired:
//   fluent.conf:31: chunk_limit_size '10X' is not a size; write e.g. 10m, 256m or 1g [AR_CONF_BAD_SIZE]

import { AuditrelayError } from '../errors.ts';
import type { SourcePos } from './element.ts';

/** Stable codes (never renamed once shipped) and what each one means. */
export const CONFIG_ERROR_CODES = {
  AR_CONF_READ: 'the config file itself cannot be read',
  AR_CONF_SYNTAX: 'the text is not Fluentd v1 config syntax',
  AR_CONF_UNCLOSED: 'a <section>, quoted string or JSON value is not closed',
  AR_CONF_BAD_VALUE: 'a value has the wrong shape for its param (array, hash, range)',
  AR_CONF_BAD_NUMBER: 'an integer or float param is not a number',
  AR_CONF_BAD_SIZE: 'a size param is not N, Nk, Nm, Ng or Nt',
  AR_CONF_BAD_TIME: 'a time param is not Ns, Nm, Nh, Nd or a number of seconds',
  AR_CONF_BAD_BOOL: 'a bool param is not true/yes/false/no',
  AR_CONF_BAD_ENUM: 'an enum param is not one of its options',
  AR_CONF_BAD_REGEXP: 'a regexp param does not compile',
  AR_CONF_BAD_PATTERN: 'a <match>/<filter> tag pattern is malformed',
  AR_CONF_BAD_KEY: 'a TLS private key cannot be read or decrypted',
  AR_CONF_MISSING: 'a required param or section is absent',
  AR_CONF_DUPLICATE_SECTION: 'a section that may appear once appears twice',
  AR_CONF_UNKNOWN_TYPE: 'an @type names no known plugin',
  AR_CONF_INCLUDE: 'an @include cannot be resolved or read',
  AR_CONF_EMBEDDED_RUBY: 'a "#{...}" holds Ruby other than ENV[\'NAME\']',
  AR_CONF_UNSUPPORTED: 'valid Fluentd config that auditrelay does not implement',
  AR_CONF_WORKERS: 'a <worker> section is malformed, or a plugin cannot run with workers > 1',
  AR_CONF_UNSUPPORTED_RUBY: 'a record_transformer ${...} expression uses Ruby outside the evaluated subset',
} as const;

export type ConfigErrorCode = keyof typeof CONFIG_ERROR_CODES;

export class ConfigError extends AuditrelayError<ConfigErrorCode> {
  /** Where the offending text is; undefined when no file is involved. */
  readonly pos: SourcePos | undefined;
  /** The message without the `file:line:` prefix and code suffix. */
  readonly detail: string;

  constructor(code: ConfigErrorCode, pos: SourcePos | undefined, message: string, options?: { cause?: unknown }) {
    const where = pos ? `${pos.file}:${pos.line}: ` : '';
    super(code, `${where}${message} [${code}]`, options);
    this.name = 'ConfigError';
    this.pos = pos;
    this.detail = message;
  }
}
