// `auditrelay` — Fluentd's command line (lib/fluent/command/fluentd.rb), so
// swapping the binary keeps the unit file or container command: the flags are
// parsed in fluentd-flags.ts (honoured, ignored with a note, or refused).

import cluster from 'node:cluster';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Level } from 'pino';
import { AuditrelayError } from '../errors.ts';
import { parseFluentdFlags, type FluentdOptions } from './fluentd-flags.ts';
import { READY_MESSAGE, startPrimary, systemOf } from './supervisor.ts';

const USAGE = `Usage: auditrelay [options]
    -c, --config PATH        read configuration from the file
                             (default: /fluentd/etc/$FLUENTD_CONF, $FLUENT_CONF, else ./fluent.conf)
        --dry-run            check the configuration and exit (0 = valid, 1 = problems)
    -o, --log PATH           write the log (and out_stdout lines) to PATH
    -v, --verbose            debug log (-vv: trace)
    -q, --quiet              warnings only (-qq: errors only)
        --umask UMASK        umask for the buffer, output and log files (octal, e.g. 027)
    -d, --daemon PIDFILE     write the pid to PIDFILE (stays in the foreground)
        --user USER          run as USER (and --group GROUP) once the config is read
        --version            print the version
    -h, --help               this text
        --workers NUM        worker processes sharing the port (default: <system> workers, else 1)
  Accepted for fluentd compatibility: --no-supervisor, --suppress-config-dump,
  --use-v1-config; ignored with one note: -p/--plugin DIR, -I, -r, -g, -G, --log-rotate-age,
  --log-rotate-size, --emit-error-log-interval, --suppress-repeated-stacktrace.
  Not supported (exit 1, says what to do instead): -i/--inline-config, --use-v0-config,
  --config-file-type yaml, --without-source, -s/--setup, --show-plugin-config.
`;

function version(): string {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

/** Where the fluentd image and CLI look for the config, in that order. */
export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.FLUENTD_CONF) return `/fluentd/etc/${env.FLUENTD_CONF}`;
  if (env.FLUENT_CONF) return env.FLUENT_CONF;
  if (existsSync('/fluentd/etc/fluent.conf')) return '/fluentd/etc/fluent.conf';
  return './fluent.conf';
}

/** Fluentd's -v/-q arithmetic: each -v one level more verbose, each -q one less, from info. */
function levelFrom(verbosity: number): Level | undefined {
  if (verbosity >= 2) return 'trace';
  if (verbosity === 1) return 'debug';
  if (verbosity === -1) return 'warn';
  if (verbosity === -2) return 'error';
  if (verbosity <= -3) return 'fatal';
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  // `fluentd -c …` as a container command (fluent/fluentd's entrypoint accepts it).
  if (argv[0] === 'fluentd') argv = argv.slice(1);
  const parsed = parseFluentdFlags(argv);
  if (!parsed.ok) {
    process.stderr.write(`auditrelay: ${parsed.message}\n`);
    return 1;
  }
  const v = parsed.options;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (v.version) {
    process.stdout.write(`auditrelay ${version()} (fluentd-compatible receiver)\n`);
    return 0;
  }
  if (v.umask !== undefined) process.umask(v.umask);
  const configPath = v.config ?? defaultConfigPath(process.env);
  const level = levelFrom(v.verbosity);
  // --user first, also for --dry-run: the buffer path check (issue 13.3) is then made as that user.
  const switched = switchUser(v);
  if (switched) {
    process.stderr.write(`auditrelay: ${switched}\n`);
    return 1;
  }
  if (v.dryRun) return dryRun(configPath, level, v);
  const workers = v.workers ?? systemOf(configPath).workers;
  if (workers > 1 && v.noSupervisor) {
    process.stderr.write(`auditrelay: invalid number of workers (must be 1 or unspecified) with --no-supervisor: ${workers}\n`);
    return 1;
  }
  if (workers > 1 && cluster.isPrimary) return primary(configPath, level, v, workers);
  return serve(configPath, level, v);
}

/** workers > 1: this process supervises (src/cli/supervisor.ts); -1 = keep running. */
function primary(configPath: string, level: Level | undefined, v: FluentdOptions, workers: number): number {
  try {
    startPrimary({ configPath, level, destination: v.log, workers, notes: v.notes });
    if (v.pidFile !== undefined) writePidFile(v.pidFile);
    return -1;
  } catch (err) {
    process.stderr.write(`${describe(err)}\n`);
    return 1;
  }
}

/** --user/--group as Fluentd's supervisor applies them (group first); returns an error line. */
function switchUser(v: FluentdOptions): string | undefined {
  try {
    if (v.group !== undefined) process.setgid?.(/^\d+$/.test(v.group) ? Number(v.group) : v.group);
    if (v.user !== undefined) process.setuid?.(/^\d+$/.test(v.user) ? Number(v.user) : v.user);
    return undefined;
  } catch (err) {
    const what = v.user !== undefined ? `--user ${v.user}` : `--group ${v.group}`;
    return `cannot switch to ${what} (${(err as Error).message}); it needs root and a user or group that exists`;
  }
}

/** Serves until a signal stops it: -1 = keep running, 1 = could not start. */
async function serve(configPath: string, level: Level | undefined, v: FluentdOptions): Promise<number> {
  try {
    // Loaded here, not at the top: a `workers N` primary never needs the plugins (supervisor.ts).
    const { startReceiver } = await import('../receiver.ts');
    const { ReloadableReceiver } = await import('./reload.ts');
    const worker = { workers: v.workers };
    const reloadable = new ReloadableReceiver(await startReceiver({ configPath, level, destination: v.log, ...worker }), configPath, worker);
    // Every module this config needs is loaded: write the compile cache now (bin/auditrelay sets
    // NODE_COMPILE_CACHE), not only at a clean exit, which a killed receiver never reaches.
    flushCompileCache();
    const receiver = { get log() { return reloadable.current.log; }, close: () => reloadable.current.close(), flushAll: () => reloadable.current.flushAll() };
    // A cluster worker: the primary logged the notes and owns the pid file.
    if (cluster.isWorker) {
      process.send?.(READY_MESSAGE);
      process.on('disconnect', () => stop('disconnect'));
    } else {
      for (const line of v.notes) receiver.log.info(line);
      if (v.pidFile !== undefined) writePidFile(v.pidFile);
    }
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      receiver.log.info({ signal }, `fluentd worker is now stopping worker=${reloadable.current.workerId}`);
      receiver.close().then(
        () => process.exit(0),
        (err: unknown) => {
          receiver.log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    for (const signal of ['SIGHUP', 'SIGUSR2'] as const) {
      process.on(signal, () => {
        if (!stopping) reloadable.reload(signal).catch((err: unknown) => receiver.log.error({ err, signal }, 'config reload failed'));
      });
    }
    process.on('SIGUSR1', () => {
      receiver.log.info('force flushing buffered events');
      receiver.flushAll().catch((err: unknown) => receiver.log.error({ err }, 'flush failed'));
    });
    return -1; // keep running
  } catch (err) {
    process.stderr.write(`${describe(err)}\n`);
    return 1;
  }
}

/** --dry-run: parse and build everything, open nothing; placeholders left in the config fail it. */
async function dryRun(configPath: string, level: Level | undefined, v: FluentdOptions): Promise<number> {
  try {
    const { loadReceiver } = await import('../receiver.ts');
    const { processLog, placeholders } = await loadReceiver({ configPath, level, destination: v.log });
    for (const line of v.notes) processLog.log.info(line);
    if (placeholders.length > 0) {
      processLog.flush();
      for (const p of placeholders) process.stderr.write(`auditrelay: ${p.pos.file}:${p.pos.line}: ${p.message}\n`);
      return 1;
    }
    processLog.log.info({ path: configPath }, 'finished dry run mode');
    processLog.flush();
    return 0;
  } catch (err) {
    process.stderr.write(`${describe(err)}\n`);
    return 1;
  }
}

/** -d PIDFILE: the pid, removed again when the process exits. */
function writePidFile(path: string): void {
  try {
    writeFileSync(path, `${process.pid}\n`);
  } catch (err) {
    throw new AuditrelayError('AR_CLI_PIDFILE', `cannot write the pid file ${path} given to -d (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); pick a writable path or drop -d`);
  }
  process.on('exit', () => rmSync(path, { force: true }));
}

function describe(err: unknown): string {
  if (err instanceof AuditrelayError) return `auditrelay: ${err.message}`;
  return `auditrelay: ${(err as Error)?.stack ?? String(err)}`;
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  // A failed start (port in use, …) must end the process even with outputs'
  // timers started, so systemd and Docker see the failure at once.
  if (code > 0) process.exit(code);
  if (code === 0) process.exitCode = 0;
}
