// `--help` of bin/auditrelay-event-handler, kong-style: the global text, and each command's own
// flags with their defaults and env vars (`start --help` is built from START_FLAGS, so a new flag
// shows up without touching this file).
import { START_FLAGS } from '../event-handler/start/start-config.ts';
import type { FlagSpec } from '../event-handler/start/start-config.ts';

const GLOBAL_FLAG_LINES: readonly (readonly [string, string])[] = [
  ['-h, --help', 'Show context-sensitive help.'],
  ['-c, --config=STRING', 'Path to TOML configuration file'],
  ['-d, --debug', 'Debug logging ($FDFWD_DEBUG)'],
];

const PLACEHOLDER: Record<FlagSpec['type'], string> = {
  string: 'STRING',
  file: 'FILE',
  int: 'INT',
  bool: '',
  duration: 'DURATION',
  list: 'TYPE,...',
  time: 'TIME',
};

function table(rows: readonly (readonly [string, string])[], indent: string): string {
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return rows.map(([l, r]) => `${indent}${l.padEnd(width)}${r}`.trimEnd()).join('\n');
}

export const GLOBAL_USAGE = `Usage: auditrelay-event-handler <command> [flags]

Forwards Teleport AuditLog to external sources (a drop-in for teleport-event-handler).

Flags:
${table(GLOBAL_FLAG_LINES, '  ')}

Commands:
  version
    Print plugin version

  configure <out> [<addr>] [<ca-name>] [<server-name>] [<client-name>]
    Generate mTLS certificates for Fluentd

  start
    Start log ingestion

Run "auditrelay-event-handler <command> --help" for a command's flags, defaults and environment variables.
`;

/** One `start` flag: `--name=PLACEHOLDER`, its help, `(default: x)`, `($ENV)`. */
function startFlagLine(name: string, spec: FlagSpec): readonly [string, string] {
  const placeholder = PLACEHOLDER[spec.type];
  const left = `    --${name}${placeholder === '' ? '' : `=${placeholder}`}`;
  const parts = [spec.help];
  if (spec.required === true) parts.push('(required)');
  else if (spec.default !== undefined && spec.type !== 'bool') parts.push(`(default: ${spec.default})`);
  if (spec.env !== undefined) parts.push(`($${spec.env})`);
  return [left, parts.join(' ')];
}

export function startUsage(): string {
  const rows = (Object.entries(START_FLAGS) as [string, FlagSpec][]).filter(([n]) => n !== 'debug').map(([n, s]) => startFlagLine(n, s));
  return `Usage: auditrelay-event-handler start --fluentd-url=STRING --fluentd-session-url=STRING --storage=STRING [flags]

Start log ingestion. Precedence: flag > TOML (-c) > environment variable > default.

Flags:
${table([...GLOBAL_FLAG_LINES, ...rows], '  ')}
`;
}

export const CONFIGURE_USAGE = `Usage: auditrelay-event-handler configure <out> [<addr>] [<ca-name>] [<server-name>] [<client-name>] [flags]

Generate mTLS certificates for Fluentd, a role, fluent.conf and teleport-event-handler.toml.

Arguments:
${table(
  [
    ['<out>', 'Output directory'],
    ['[<addr>]', 'Teleport Auth Service or Proxy address (default: localhost:3025)'],
    ['[<ca-name>]', 'CA file name (default: ca)'],
    ['[<server-name>]', 'Server certificate file name (default: server)'],
    ['[<client-name>]', 'Client certificate file name (default: client)'],
  ],
  '  ',
)}

Flags:
${table(
  [
    ...GLOBAL_FLAG_LINES,
    ['    --output=STRING', 'Export target service (default: fluentd)'],
    ['    --ttl=DURATION', 'Certificate TTL (default: 87600h)'],
    ['    --dns-names=HOST,...', 'Certificate SAN hosts (default: localhost)'],
    ['    --ip=IP,...', 'Certificate SAN IPs (default: every address of the DNS names)'],
    ['    --length=INT', 'Key length: 1024, 2048 or 4096 (default: 4096)'],
    ['    --cn=STRING', 'Subject CN of the server certificate (default: localhost)'],
    ['    --force', 'Overwrite existing files without asking (needed without a terminal)'],
  ],
  '  ',
)}
`;
