// The receiver: a fluent.conf in, a running Fluentd-compatible pipeline out.
// Parse → build every plugin (router's Pipeline) → report unused params the way
// Fluentd does → start outputs, then inputs.

import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { parseConfigFile } from './config/parser.ts';
import { configureParams } from './params/params.ts';
import { unusedWarnings } from './config/unused.ts';
import { findPlaceholders, type ConfigProblem } from './config/placeholders.ts';
import type { ConfigElement } from './params/element.ts';
import type { ParamSchema } from './params/param-schema.ts';
import { Pipeline } from './router/pipeline.ts';
import { pluginRegistry, type PluginRegistry } from './router/plugin-registry.ts';
import { HttpInput } from './input/http.ts';
import { PrometheusInput, PrometheusMonitorInput, PrometheusOutputMonitorInput } from './input/prometheus.ts';
import { MonitorAgentInput } from './input/monitor-agent.ts';
import { RecordTransformerFilter } from './filter/record-transformer.ts';
import { DedupFilter } from './filter/dedup.ts';
import { StdoutOutput } from './output/stdout.ts';
import { NullOutput } from './output/null.ts';
import { RelabelOutput } from './output/relabel.ts';
import { FileOutput } from './output/file.ts';
import { S3Output } from './output/s3.ts';
import { SecondaryFileMatch } from './output/secondary-file.ts';
import { buffered } from './buffer/buffered-plugin.ts';
import { createProcessLog, type LogOptions, type ProcessLog } from './log.ts';

export const systemParams = {
  workers: { type: 'integer', default: 1, desc: 'Worker processes; auditrelay runs one (see README).' },
  root_dir: { type: 'string', desc: 'Base directory for buffers without a path.' },
  log_level: { type: 'enum', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: 'info', desc: 'Process log level.' },
  suppress_repeated_stacktrace: { type: 'bool', default: true, desc: 'Accepted for compatibility.' },
  emit_error_log_interval: { type: 'time', desc: 'Accepted for compatibility.' },
  ignore_repeated_log_interval: { type: 'time', desc: 'Accepted for compatibility.' },
  ignore_same_log_interval: { type: 'time', desc: 'Accepted for compatibility.' },
  suppress_config_dump: { type: 'bool', default: false, desc: 'Do not log the configuration at start-up.' },
  without_source: { type: 'bool', default: false, desc: 'Start without inputs.' },
  process_name: { type: 'string', desc: 'Process title.' },
  file_permission: { type: 'string', desc: 'Accepted for compatibility.' },
  dir_permission: { type: 'string', desc: 'Accepted for compatibility.' },
  enable_msgpack_time_support: { type: 'bool', default: false, desc: 'Accepted for compatibility.' },
  disable_shared_socket: { type: 'bool', default: false, desc: 'Accepted for compatibility.' },
  rpc_endpoint: { type: 'string', desc: 'Not supported.' },
} as const satisfies ParamSchema;

/** Every plugin class; each one's `static type` is its @type name. */
export const registry: PluginRegistry = pluginRegistry({
  inputs: [HttpInput, PrometheusInput, PrometheusOutputMonitorInput, PrometheusMonitorInput, MonitorAgentInput],
  filters: [RecordTransformerFilter, DedupFilter],
  outputs: [StdoutOutput, NullOutput, RelabelOutput, buffered(FileOutput), buffered(S3Output), SecondaryFileMatch],
});

export interface ReceiverOptions extends LogOptions {
  configPath: string;
  /** Replaces the process log (tests). */
  processLog?: ProcessLog;
}

export interface Receiver {
  readonly log: Logger;
  readonly processLog: ProcessLog;
  readonly agent: Pipeline;
  /** Port of the first http source (tests listen on port 0). */
  readonly port: number;
  readonly ports: number[];
  close(): Promise<void>;
  flushAll(): Promise<void>;
}

/** Parses and builds everything without opening sockets (--dry-run, tests). */
export function loadReceiver(opts: ReceiverOptions): { agent: Pipeline; processLog: ProcessLog; root: ConfigElement; placeholders: ConfigProblem[] } {
  const parseWarnings: ConfigProblem[] = [];
  const root = parseConfigFile(opts.configPath, { warn: (message, pos) => parseWarnings.push({ message, pos }) });
  const placeholders = findPlaceholders(root);
  const system = root.sections('system')[0];
  const sysParams = system ? configureParams(systemParams, system) : undefined;
  const processLog = opts.processLog ?? createProcessLog({ ...opts, level: opts.level ?? sysParams?.log_level ?? 'info' });
  const log = processLog.log;
  for (const w of [...parseWarnings, ...placeholders]) log.warn({ config: `${w.pos.file}:${w.pos.line}` }, w.message);
  if (sysParams && sysParams.workers > 1) log.warn({ workers: sysParams.workers }, 'auditrelay runs a single worker; workers > 1 is ignored (one Node process handles the load; see README)');
  // AUDITRELAY_UNMATCHED_SUMMARY_INTERVAL (seconds): how often dropped-for-no-<match> events are summed up in the log.
  const summary = Number(process.env.AUDITRELAY_UNMATCHED_SUMMARY_INTERVAL);
  const agent = new Pipeline(root, {
    log, hostname: hostname(), workerId: 0, writeLogLine: processLog.writeLine,
    ...(summary > 0 ? { unmatchedSummaryInterval: summary } : {}),
  }, registry);
  for (const w of unusedWarnings(root)) {
    log.warn({ config: `${w.pos.file}:${w.pos.line}` }, w.message);
    if (w.detail !== undefined) log.debug({ config: `${w.pos.file}:${w.pos.line}` }, `the section as read:\n${w.detail}`);
  }
  return { agent, processLog, root, placeholders };
}

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  return runLoaded(loadReceiver(opts));
}

/** Starts what loadReceiver built (start-up, and a reload once the new config validated). */
export async function runLoaded({ agent, processLog }: { agent: Pipeline; processLog: ProcessLog }): Promise<Receiver> {
  await agent.start();
  const ports = agent.inputs.map((i) => (i as { port?: number }).port ?? 0);
  processLog.log.info('fluentd worker is now running worker=0');
  return {
    log: processLog.log,
    processLog,
    agent,
    port: ports[0] ?? 0,
    ports,
    close: async () => {
      await agent.stop();
      processLog.flush();
    },
    flushAll: async () => {
      for (const o of agent.outputs) await (o as { flushAll?: () => Promise<void> }).flushAll?.();
    },
  };
}
