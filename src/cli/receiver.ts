// `auditrelay` — Fluentd's command line (lib/fluent/command/fluentd.rb) for the
// flags a fluentd container or systemd unit uses, so swapping the binary keeps
// the unit file: -c, --dry-run, -v/-vv, -q/-qq, -o, --version, --help.

import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Level } from 'pino';
import { loadReceiver, startReceiver } from '../receiver.ts';
import { AuditrelayError } from '../errors.ts';
import { ReloadableReceiver } from './reload.ts';

const USAGE = `Usage: auditrelay [options]
    -c, --config PATH        read configuration from the file
                             (default: /fluentd/etc/$FLUENTD_CONF, $FLUENT_CONF, else ./fluent.conf)
        --dry-run            check the configuration and exit (0 = valid, 1 = problems)
    -o, --log PATH           write the log (and out_stdout lines) to PATH
    -v, --verbose            debug log (-vv: trace)
    -q, --quiet              warnings only (-qq: errors only)
        --no-supervisor      accepted for compatibility (always one process)
        --version            print the version
    -h, --help               this text
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

function levelFrom(verbose: number, quiet: number): Level | undefined {
  if (verbose >= 2) return 'trace';
  if (verbose === 1) return 'debug';
  if (quiet >= 2) return 'error';
  if (quiet === 1) return 'warn';
  return undefined;
}

export async function main(argv: string[]): Promise<number> {
  // `fluentd -c …` as a container command (fluent/fluentd's entrypoint accepts it).
  if (argv[0] === 'fluentd') argv = argv.slice(1);
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c' },
        'dry-run': { type: 'boolean' },
        log: { type: 'string', short: 'o' },
        verbose: { type: 'boolean', short: 'v', multiple: true },
        quiet: { type: 'boolean', short: 'q', multiple: true },
        'no-supervisor': { type: 'boolean' },
        'suppress-config-dump': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`auditrelay: ${(err as Error).message}\n${USAGE}`);
    return 1;
  }
  const v = args.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (v.version) {
    process.stdout.write(`auditrelay ${version()} (fluentd-compatible receiver)\n`);
    return 0;
  }
  const configPath = v.config ?? defaultConfigPath(process.env);
  const level = levelFrom(v.verbose?.length ?? 0, v.quiet?.length ?? 0);
  if (v['dry-run']) return dryRun(configPath, level, v.log);
  return serve(configPath, level, v.log);
}

/** Serves until a signal stops it: -1 = keep running, 1 = could not start. */
async function serve(configPath: string, level: Level | undefined, destination: string | undefined): Promise<number> {
  try {
    const reloadable = new ReloadableReceiver(await startReceiver({ configPath, level, destination }), configPath);
    const receiver = { get log() { return reloadable.current.log; }, close: () => reloadable.current.close(), flushAll: () => reloadable.current.flushAll() };
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      receiver.log.info({ signal }, 'fluentd worker is now stopping worker=0');
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
function dryRun(configPath: string, level: Level | undefined, destination: string | undefined): number {
  try {
    const { processLog, placeholders } = loadReceiver({ configPath, level, destination });
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
