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
import { loadPlugins, pluginTypes, type PluginCatalog } from './router/plugin-registry.ts';
import { buffered } from './buffer/buffered-plugin.ts';
import { createProcessLog, type LogOptions, type ProcessLog } from './log.ts';
import { applyWorkerSections } from './params/workers.ts';
import { ConfigError } from './params/errors.ts';

export const systemParams = {
  workers: { type: 'integer', default: 1, desc: 'Worker processes (src/cli/supervisor.ts; see README "Workers").' },
  restart_worker_interval: { type: 'time', default: 0, desc: 'Least wait before a dead worker is started again (then backoff).' },
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

/**
 * Every plugin type, each with the loader of its class (whose `static type` is the key): a
 * module and the packages it pulls in (AWS SDK, gRPC + protobuf, prom-client, fastify) are
 * imported only when the config names the type (issue 12.8: idle RSS).
 */
export const catalog: PluginCatalog = {
  inputs: {
    http: async () => (await import('./input/http.ts')).HttpInput,
    prometheus: async () => (await import('./input/prometheus.ts')).PrometheusInput,
    prometheus_output_monitor: async () => (await import('./input/prometheus.ts')).PrometheusOutputMonitorInput,
    prometheus_monitor: async () => (await import('./input/prometheus.ts')).PrometheusMonitorInput,
    monitor_agent: async () => (await import('./input/monitor-agent.ts')).MonitorAgentInput,
    teleport: async () => {
      const [{ teleportInput }, { configureEmbedded }] = await Promise.all([import('./input/teleport.ts'), import('./event-handler/start/embedded.ts')]);
      return teleportInput({ configure: configureEmbedded });
    },
  },
  filters: {
    record_transformer: async () => (await import('./filter/record-transformer.ts')).RecordTransformerFilter,
    dedup: async () => (await import('./filter/dedup.ts')).DedupFilter,
  },
  outputs: {
    stdout: async () => (await import('./output/stdout.ts')).StdoutOutput,
    null: async () => (await import('./output/null.ts')).NullOutput,
    relabel: async () => (await import('./output/relabel.ts')).RelabelOutput,
    file: async () => buffered((await import('./output/file.ts')).FileOutput),
    s3: async () => buffered((await import('./output/s3.ts')).S3Output),
    secondary_file: async () => (await import('./output/secondary-file.ts')).SecondaryFileMatch,
  },
};

export interface ReceiverOptions extends LogOptions {
  configPath: string;
  /** Replaces the process log (tests). */
  processLog?: ProcessLog;
  /** `--workers N`: overrides `<system> workers`. */
  workers?: number;
  /** This process's worker id; default $SERVERENGINE_WORKER_ID (set by the supervisor), else 0. */
  workerId?: number;
}

/** Fluentd's worker id: $SERVERENGINE_WORKER_ID, else 0 (engine.rb). */
export function workerIdFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return Number.parseInt(env.SERVERENGINE_WORKER_ID ?? '0', 10) || 0;
}

export interface Receiver {
  readonly log: Logger;
  readonly processLog: ProcessLog;
  readonly agent: Pipeline;
  /** Port of the first http source (tests listen on port 0). */
  readonly port: number;
  readonly ports: number[];
  readonly workerId: number;
  close(): Promise<void>;
  flushAll(): Promise<void>;
}

/** Parses and builds everything without opening sockets (--dry-run, tests). */
export interface LoadedReceiver {
  agent: Pipeline;
  processLog: ProcessLog;
  root: ConfigElement;
  placeholders: ConfigProblem[];
  workers: number;
  workerId: number;
  restartWorkerInterval: number;
}

export async function loadReceiver(opts: ReceiverOptions): Promise<LoadedReceiver> {
  const parseWarnings: ConfigProblem[] = [];
  const root = parseConfigFile(opts.configPath, { warn: (message, pos) => parseWarnings.push({ message, pos }) });
  const placeholders = findPlaceholders(root);
  const system = root.sections('system')[0];
  const sysParams = system ? configureParams(systemParams, system) : undefined;
  const workers = opts.workers ?? sysParams?.workers ?? 1;
  if (workers < 1) throw new ConfigError('AR_CONF_WORKERS', system?.params.get('workers')?.pos, `invalid number of workers (must be > 0):${workers}`);
  const workerId = opts.workerId ?? workerIdFromEnv();
  applyWorkerSections(root, workers, workerId);
  const baseLog = opts.processLog ?? createProcessLog({ ...opts, level: opts.level ?? sysParams?.log_level ?? 'info' });
  // Several workers share one log stream: each line says whose it is (Fluentd's `#N ` prefix).
  const processLog = workers > 1 && opts.processLog === undefined ? { ...baseLog, log: baseLog.log.child({ worker: workerId }) } : baseLog;
  const log = processLog.log;
  for (const w of [...parseWarnings, ...placeholders]) log.warn({ config: `${w.pos.file}:${w.pos.line}` }, w.message);
  // AUDITRELAY_UNMATCHED_SUMMARY_INTERVAL (seconds): how often dropped-for-no-<match> events are summed up in the log.
  const summary = Number(process.env.AUDITRELAY_UNMATCHED_SUMMARY_INTERVAL);
  const registry = await loadPlugins(catalog, pluginTypes(root));
  const agent = new Pipeline(root, {
    log, hostname: hostname(), workerId, workers, writeLogLine: processLog.writeLine,
    ...(summary > 0 ? { unmatchedSummaryInterval: summary } : {}),
  }, registry);
  for (const w of unusedWarnings(root)) {
    log.warn({ config: `${w.pos.file}:${w.pos.line}` }, w.message);
    if (w.detail !== undefined) log.debug({ config: `${w.pos.file}:${w.pos.line}` }, `the section as read:\n${w.detail}`);
  }
  return { agent, processLog, root, placeholders, workers, workerId, restartWorkerInterval: sysParams?.restart_worker_interval ?? 0 };
}

export async function startReceiver(opts: ReceiverOptions): Promise<Receiver> {
  return runLoaded(await loadReceiver(opts));
}

/** Starts what loadReceiver built (start-up, and a reload once the new config validated). */
export async function runLoaded({ agent, processLog, workerId }: Pick<LoadedReceiver, 'agent' | 'processLog' | 'workerId'>): Promise<Receiver> {
  await agent.start();
  const ports = agent.inputs.map((i) => (i as { port?: number }).port ?? 0);
  processLog.log.info(`fluentd worker is now running worker=${workerId}`);
  return {
    log: processLog.log,
    processLog,
    agent,
    port: ports[0] ?? 0,
    ports,
    workerId,
    close: async () => {
      await agent.stop();
      processLog.flush();
    },
    flushAll: async () => {
      for (const o of agent.outputs) await (o as { flushAll?: () => Promise<void> }).flushAll?.();
    },
  };
}
