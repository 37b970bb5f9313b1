import { AuditrelayError } from '../errors.ts';

// Codes of the exporter CLI (`auditrelay-event-handler`), docs/compatibility-event-handler.md §1–5.
export type ExporterErrorCode =
  | 'AR_EXPORTER_USAGE' // unknown flag/command, bad flag value (kong's usage error upstream)
  | 'AR_EXPORTER_OUT_DIR' // configure <out> is missing or not a directory
  | 'AR_EXPORTER_WOULD_OVERWRITE' // configure without a terminal would overwrite files (our refusal)
  | 'AR_EXPORTER_CONFIG' // a TOML/flag/env value that start cannot use
  | 'AR_EXPORTER_IDENTITY' // identity file / cert / key / CA missing or unreadable
  | 'AR_EXPORTER_CREDENTIALS_EXPIRED' // the client certificate has expired (credentials.CheckIfExpired)
  | 'AR_EXPORTER_START_TIME_CHANGED' // --start-time differs from the stored one (state.go)
  | 'AR_EXPORTER_STATE' // the storage directory cannot be read or written
  | 'AR_EXPORTER_TELEPORT' // an RPC to Teleport failed in a way that ends the run
  | 'AR_EXPORTER_METRICS'; // --metrics-addr cannot be listened on

export class ExporterError extends AuditrelayError<ExporterErrorCode> {
  constructor(code: ExporterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ExporterError';
  }
}
