// `--metrics-addr host:port` (ours; upstream's handler has no metrics): Prometheus text on
// GET /metrics, read from the run's counters at scrape time so the send path never touches
// prom-client. Names follow the receiver's `auditrelay_*` series (README "Metrics and health").
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Counter, Gauge, Registry } from 'prom-client';
import { ExporterError } from '../errors.ts';

/** What one `start` run knows, read at each scrape. */
export interface ExporterFigures {
  readonly auditFetched: () => number;
  readonly sessionFetched: () => number;
  readonly auditSent: () => number;
  readonly sessionSent: () => number;
  /** POST attempts not answered 200 (each is retried). */
  readonly sendFailures: () => number;
  /** Time of the newest audit event read (ms), 0 before the first. */
  readonly positionMs: () => number;
  readonly sessionStreamsOpen: () => number;
  readonly sessionsGivenUp: () => number;
}

export function exporterRegistry(f: ExporterFigures): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, values: () => [Record<string, string>, number][]) =>
    new Counter({ name, help, labelNames: values()[0] !== undefined ? Object.keys(values()[0][0]) : [], registers: [registry], collect() {
      this.reset();
      for (const [labels, v] of values()) this.inc(labels, v);
    } });
  const gauge = (name: string, help: string, value: () => number) =>
    new Gauge({ name, help, registers: [registry], collect() {
      this.set(value());
    } });
  counter('auditrelay_exporter_events_fetched_total', 'Events read from Teleport, by kind (audit, session).', () => [[{ kind: 'audit' }, f.auditFetched()], [{ kind: 'session' }, f.sessionFetched()]]);
  counter('auditrelay_exporter_events_sent_total', 'Events the receiver answered 200, by kind (audit, session).', () => [[{ kind: 'audit' }, f.auditSent()], [{ kind: 'session' }, f.sessionSent()]]);
  counter('auditrelay_exporter_send_failures_total', 'POSTs to the receiver not answered 200 (non-200 status or connection error); each is retried.', () => [[{}, f.sendFailures()]]);
  counter('auditrelay_exporter_sessions_given_up_total', 'Session recordings given up after too many stream errors (given_up_session<sid> in the state dir).', () => [[{}, f.sessionsGivenUp()]]);
  gauge('auditrelay_exporter_cursor_timestamp_seconds', 'Time of the newest audit event read (Unix seconds; 0 before the first).', () => f.positionMs() / 1000);
  gauge('auditrelay_exporter_lag_seconds', 'How far the newest audit event read is behind now (seconds; 0 before the first).', () => {
    const at = f.positionMs();
    return at === 0 ? 0 : Math.max(0, (Date.now() - at) / 1000);
  });
  gauge('auditrelay_exporter_session_streams_open', 'Session recordings streaming, queued or waiting for a retry.', f.sessionStreamsOpen);
  return registry;
}

export interface MetricsServer {
  readonly addr: string;
  close(): Promise<void>;
}

function splitAddr(addr: string): { host: string; port: number } {
  const i = addr.lastIndexOf(':');
  const host = addr.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port: Number(addr.slice(i + 1)) };
}

/** Listens on `addr` (host:port, `:port` = every interface); GET /metrics, everything else 404. */
export async function startMetricsServer(addr: string, registry: Registry, log: Logger): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${(err as Error).message}\n`),
    );
  });
  const { host, port } = splitAddr(addr);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new ExporterError('AR_EXPORTER_METRICS', `metrics-addr ${addr}: cannot listen (${err.message}); pick a free port`, { cause: err })));
    server.listen(port, host, resolve);
  });
  const bound = server.address() as AddressInfo;
  const shown = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  log.info({ addr: shown }, `Serving exporter metrics on http://${shown}/metrics`);
  return {
    addr: shown,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
