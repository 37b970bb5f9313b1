// Fluentd's Newline::Mixin: `newline lf|crlf`.
import type { ParamSchema } from '../params/param-schema.ts';

export const newlineParam = {
  newline: { type: 'enum', enum: ['lf', 'crlf'], default: 'lf', desc: 'Line terminator.' },
} as const satisfies ParamSchema;

export function newlineOf(kind: 'lf' | 'crlf'): string {
  return kind === 'crlf' ? '\r\n' : '\n';
}
