// Entry point of bin/auditrelay-event-handler: the command line of upstream's
// teleport-event-handler (kong; docs/compatibility-event-handler.md §1): `version`, `configure`, `start`,
// global -c/--config and -d/--debug. configure failing exits 255 (main.go's os.Exit(-1)).
import pkg from '../../package.json' with { type: 'json' };
import { KEY_LENGTHS } from '../pki/mtls.ts';
import type { KeyLength } from '../pki/mtls.ts';
import { AuditrelayError } from '../errors.ts';
import { ExporterError } from '../event-handler/errors.ts';
import { runConfigure } from '../event-handler/configure/configure.ts';
import { parseGoDuration } from '../event-handler/go-duration.ts';
import { loadStartConfig, START_FLAGS } from '../event-handler/start/start-config.ts';
import type { StartFlagName } from '../event-handler/start/start-config.ts';
import { runStart, tuningFromEnv } from '../event-handler/start/start.ts';
import { pino } from 'pino';
import { CONFIGURE_USAGE, GLOBAL_USAGE, startUsage } from './exporter-help.ts';

const APP_NAME = 'Teleport event handler';
const EXIT_USAGE = 1;
const EXIT_CONFIGURE_FAILED = 255;


interface ParsedArgs {
  readonly positionals: string[];
  readonly values: Map<string, string[]>;
}

/**
 * kong-like: flags may stand anywhere after the command, `--x=v` or `--x v`, repeated list
 * flags append. `spec` maps each long flag to whether it takes a value.
 */
function parseArgs(argv: readonly string[], spec: ReadonlyMap<string, boolean>, shorts: ReadonlyMap<string, string>): ParsedArgs {
  const positionals: string[] = [];
  const values = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: string | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else if (arg.length === 2 && arg[0] === '-' && arg !== '-') {
      name = shorts.get(arg[1]);
      if (name === undefined) throw new ExporterError('AR_EXPORTER_USAGE', `unknown flag ${arg}; see --help`);
    } else {
      positionals.push(arg);
      continue;
    }
    const takesValue = spec.get(name);
    if (takesValue === undefined) throw new ExporterError('AR_EXPORTER_USAGE', `unknown flag --${name}; see --help`);
    let value: string;
    if (!takesValue) {
      value = inline ?? 'true';
    } else if (inline !== undefined) {
      value = inline;
    } else {
      if (i + 1 >= argv.length) throw new ExporterError('AR_EXPORTER_USAGE', `--${name} needs a value, e.g. --${name}=VALUE`);
      value = argv[++i];
    }
    const list = values.get(name) ?? [];
    list.push(value);
    values.set(name, list);
  }
  return { positionals, values };
}

const GLOBAL_FLAGS: [string, boolean][] = [
  ['config', true],
  ['debug', false],
  ['help', false],
];
const SHORTS = new Map([
  ['c', 'config'],
  ['d', 'debug'],
  ['h', 'help'],
]);
const CONFIGURE_FLAGS = new Map<string, boolean>([
  ...GLOBAL_FLAGS,
  ['output', true],
  ['ttl', true],
  ['dns-names', true],
  ['ip', true],
  ['length', true],
  ['cn', true],
  ['force', false],
]);
const START_CLI_FLAGS = new Map<string, boolean>([
  ...GLOBAL_FLAGS,
  ...(Object.entries(START_FLAGS).map(([n, s]) => [n, s.type !== 'bool'] as [string, boolean])),
]);

const last = (p: ParsedArgs, name: string): string | undefined => p.values.get(name)?.at(-1);
const list = (p: ParsedArgs, name: string): string[] | undefined =>
  p.values.get(name)?.flatMap((v) => v.split(',')).filter((v) => v !== '');

async function configure(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, CONFIGURE_FLAGS, SHORTS);
  if (last(p, 'help') !== undefined) {
    process.stdout.write(CONFIGURE_USAGE);
    return 0;
  }
  const [out, addr = 'localhost:3025', caName = 'ca', serverName = 'server', clientName = 'client', ...extra] =
    p.positionals;
  if (out === undefined) throw new ExporterError('AR_EXPORTER_USAGE', 'configure: expected "<out>"; e.g. configure . teleport.example.com:443');
  if (extra.length > 0) throw new ExporterError('AR_EXPORTER_USAGE', `configure: unexpected argument ${extra[0]}`);
  const ttlText = last(p, 'ttl') ?? '87600h';
  const ttlMs = parseGoDuration(ttlText);
  if (ttlMs === undefined) throw new ExporterError('AR_EXPORTER_USAGE', `--ttl: '${ttlText}' is not a duration; write e.g. 87600h or 8760h30m`);
  const lengthText = last(p, 'length') ?? '4096';
  const bits = Number(lengthText);
  if (!(KEY_LENGTHS as readonly number[]).includes(bits)) {
    throw new ExporterError('AR_EXPORTER_USAGE', `--length must be one of "1024","2048","4096" but got "${lengthText}"`);
  }
  await runConfigure(
    {
      out,
      addr,
      caName,
      serverName,
      clientName,
      ttlMs,
      dnsNames: list(p, 'dns-names') ?? ['localhost'],
      ips: list(p, 'ip') ?? [],
      bits: bits as KeyLength,
      serverCn: last(p, 'cn') ?? 'localhost',
      force: last(p, 'force') === 'true',
    },
    { cwd: process.cwd(), stdin: process.stdin, stdout: process.stdout, version: pkg.version },
  );
  return 0;
}

async function start(argv: readonly string[]): Promise<number> {
  const p = parseArgs(argv, START_CLI_FLAGS, SHORTS);
  if (last(p, 'help') !== undefined) {
    process.stdout.write(startUsage());
    return 0;
  }
  const flags: Partial<Record<StartFlagName, string>> = {};
  for (const name of Object.keys(START_FLAGS) as StartFlagName[]) {
    const v = START_FLAGS[name].type === 'list' ? p.values.get(name)?.join(',') : last(p, name);
    if (v !== undefined) flags[name] = v;
  }
  const warnings: string[] = [];
  const cfg = loadStartConfig({ configPath: last(p, 'config'), flags, cwd: process.cwd(), onWarning: (w) => warnings.push(w) });
  const log = pino({ level: cfg.debug ? 'debug' : 'info', base: undefined }, pino.destination({ fd: 2, sync: true }));
  for (const w of warnings) log.warn(w);
  const stop = new AbortController();
  // lib.ServeSignals: the first signal shuts down gracefully (5 s), a second one exits at once.
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(1);
    log.info({ signal: sig }, 'Shutting down');
    stop.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  const result = await runStart(cfg, {
    log,
    signal: stop.signal,
    tty: process.stderr.isTTY ? process.stderr : undefined,
    tuning: tuningFromEnv(process.env),
  });
  log.info(result, 'Successfully shut down');
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  // The command is the first non-flag word; global flags may come before it.
  const cmdIndex = argv.findIndex((a, i) => !a.startsWith('-') && !(i > 0 && ['-c', '--config'].includes(argv[i - 1])));
  const command = cmdIndex < 0 ? undefined : argv[cmdIndex];
  const rest = cmdIndex < 0 ? argv : [...argv.slice(0, cmdIndex), ...argv.slice(cmdIndex + 1)];
  switch (command) {
    case 'version':
      // lib.PrintVersion: "<app> v<version> <runtime version>" (no gitref in our builds).
      process.stdout.write(`${APP_NAME} v${pkg.version} ${process.version}\n`);
      return 0;
    case 'configure':
      try {
        return await configure(rest);
      } catch (err) {
        if (err instanceof ExporterError && err.code === 'AR_EXPORTER_USAGE') throw err;
        report(err);
        return EXIT_CONFIGURE_FAILED;
      }
    case 'start':
      return await start(rest);
    case undefined:
      process.stdout.write(GLOBAL_USAGE);
      return rest.includes('--help') || rest.includes('-h') ? 0 : EXIT_USAGE;
    default:
      throw new ExporterError('AR_EXPORTER_USAGE', `unexpected argument ${command}; commands are version, configure, start`);
  }
}

function report(err: unknown): void {
  if (err instanceof AuditrelayError) {
    process.stderr.write(`ERROR: ${err.message} [${err.code}]\n`);
    if (process.argv.includes('-d') || process.argv.includes('--debug')) process.stderr.write(`${err.stack}\n`);
  } else {
    process.stderr.write(`ERROR: ${(err as Error)?.stack ?? String(err)}\n`);
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  report(err);
  process.exitCode = err instanceof ExporterError && err.code === 'AR_EXPORTER_USAGE' ? EXIT_USAGE : 1;
}
