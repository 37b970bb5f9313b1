// Every error auditrelay raises on purpose carries a stable `code` (AR_*), like
// Fastify's FST_ERR_* table: tests and callers match on `code`, never on text.
// Each area subclasses this once (ConfigError, InputError, …) and declares its
// codes next to the class.

export class AuditrelayError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'AuditrelayError';
  }
}
