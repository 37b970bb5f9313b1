// Fluentd's command line (lib/fluent/command/fluentd.rb, Ruby OptionParser) as
// far as a container `command:`, a systemd unit or a wrapper script passes it:
// what auditrelay does the same way is honoured, what only makes sense for a
// Ruby process (-p plugin dirs, -r, gem paths, log rotation) is accepted with one
// info note, and what would silently change the meaning (-i inline config, v0
// syntax, yaml) is refused with one line saying what to do instead.
// Parsing follows OptionParser: `--name value`, `--name=value`, `-xVALUE`,
// grouped short flags (`-vv`, `-qq`), unique prefixes of long names (`--conf`).

export interface FluentdOptions {
  config?: string;
  dryRun: boolean;
  log?: string;
  /** -v count minus -q count: 2 trace, 1 debug, 0 info, -1 warn, -2 error, -3 fatal. */
  verbosity: number;
  version: boolean;
  help: boolean;
  umask?: number;
  pidFile?: string;
  user?: string;
  group?: string;
  /** --workers N (overrides `<system> workers`). */
  workers?: number;
  /** --no-supervisor: one process; workers > 1 is then a config error, as in Fluentd. */
  noSupervisor?: boolean;
  /** Info lines for flags accepted but without effect, one per flag. */
  notes: string[];
}

export type FlagResult = { ok: true; options: FluentdOptions } | { ok: false; message: string };

type Arg = 'none' | 'required' | 'optional';
/** Applies one occurrence; returns an error line, or undefined. */
type Apply = (o: FluentdOptions, value: string | undefined, shown: string) => string | undefined;
interface Spec { long: string; short?: string; arg: Arg; apply: Apply }

const RUBY_ONLY = 'auditrelay has its plugins built in and loads no Ruby code';

function note(text: string): Apply {
  return (o, value, shown) => {
    const line = `${shown}${value !== undefined ? ` ${value}` : ''} ignored: ${text}`;
    if (!o.notes.some((n) => n.startsWith(`${shown} `))) o.notes.push(line);
    return undefined;
  };
}
function refuse(text: string): Apply {
  return (_o, _v, shown) => `${shown} is not supported: ${text}`;
}
const silent: Apply = () => undefined;

const SPECS: Spec[] = [
  { long: 'config', short: 'c', arg: 'required', apply: (o, v) => { o.config = v; return undefined; } },
  { long: 'dry-run', arg: 'none', apply: (o) => { o.dryRun = true; return undefined; } },
  { long: 'log', short: 'o', arg: 'required', apply: (o, v) => { o.log = v; return undefined; } },
  { long: 'verbose', short: 'v', arg: 'none', apply: (o) => { o.verbosity++; return undefined; } },
  { long: 'quiet', short: 'q', arg: 'none', apply: (o) => { o.verbosity--; return undefined; } },
  { long: 'version', arg: 'none', apply: (o) => { o.version = true; return undefined; } },
  { long: 'help', short: 'h', arg: 'none', apply: (o) => { o.help = true; return undefined; } },
  { long: 'umask', arg: 'required', apply: applyUmask },
  { long: 'daemon', short: 'd', arg: 'required', apply: applyDaemon },
  { long: 'user', arg: 'required', apply: (o, v) => { o.user = v; return undefined; } },
  { long: 'group', arg: 'required', apply: (o, v) => { o.group = v; return undefined; } },
  { long: 'workers', arg: 'required', apply: applyWorkers },
  { long: 'plugin', short: 'p', arg: 'required', apply: note(RUBY_ONLY) },
  { long: 'I', short: 'I', arg: 'required', apply: note(RUBY_ONLY) },
  { long: 'r', short: 'r', arg: 'required', apply: note(RUBY_ONLY) },
  { long: 'gemfile', short: 'g', arg: 'required', apply: note(RUBY_ONLY) },
  { long: 'gem-path', short: 'G', arg: 'required', apply: note(RUBY_ONLY) },
  { long: 'log-rotate-age', arg: 'required', apply: note('auditrelay does not rotate its log; log to stdout, or rotate -o FILE with logrotate copytruncate') },
  { long: 'log-rotate-size', arg: 'required', apply: note('auditrelay does not rotate its log; log to stdout, or rotate -o FILE with logrotate copytruncate') },
  { long: 'emit-error-log-interval', arg: 'required', apply: note('every error is logged') },
  { long: 'suppress-repeated-stacktrace', arg: 'optional', apply: note('errors are logged as one JSON line each') },
  { long: 'log-event-verbose', arg: 'none', apply: note('no per-event log lines') },
  { long: 'strict-config-value', arg: 'none', apply: note('values are always checked strictly') },
  { long: 'conf-encoding', arg: 'required', apply: note('the configuration is read as UTF-8') },
  { long: 'no-supervisor', arg: 'none', apply: (o) => ((o.noSupervisor = true), undefined) },
  { long: 'under-supervisor', arg: 'none', apply: silent },
  { long: 'disable-shared-socket', arg: 'none', apply: silent },
  { long: 'suppress-config-dump', arg: 'none', apply: silent },
  { long: 'use-v1-config', arg: 'none', apply: silent },
  { long: 'use-v0-config', arg: 'none', apply: refuse('auditrelay reads the v1 syntax only (the default since Fluentd v0.14); drop the flag') },
  { long: 'config-file-type', arg: 'required', apply: applyConfigFileType },
  { long: 'inline-config', short: 'i', arg: 'required', apply: refuse('put the configuration in a file and pass it with -c FILE') },
  { long: 'without-source', arg: 'none', apply: refuse('run with a copy of the configuration that has no <source>') },
  { long: 'show-plugin-config', arg: 'optional', apply: refuse('the plugins\' parameters are listed in docs/compatibility.md') },
  { long: 'setup', short: 's', arg: 'optional', apply: refuse('start from conf/quickstart.conf, or let `auditrelay-event-handler configure` write fluent.conf') },
];

function applyUmask(o: FluentdOptions, v: string | undefined, shown: string): string | undefined {
  if (v === undefined || !/^0?[0-7]{1,3}$/.test(v)) return `${shown} ${v ?? ''}: not an octal mask; write it like 0022 or 027`;
  o.umask = parseInt(v, 8);
  return undefined;
}

function applyDaemon(o: FluentdOptions, v: string | undefined, shown: string): string | undefined {
  o.pidFile = v;
  o.notes.push(`${shown} ${v}: auditrelay stays in the foreground and writes its pid to ${v} (in systemd use Type=simple, not forking)`);
  return undefined;
}

function applyWorkers(o: FluentdOptions, v: string | undefined, shown: string): string | undefined {
  if (v === undefined || !/^[1-9][0-9]*$/.test(v)) return `${shown} ${v ?? ''}: the number of workers is a whole number >= 1`;
  o.workers = Number(v);
  return undefined;
}

function applyConfigFileType(_o: FluentdOptions, v: string | undefined, shown: string): string | undefined {
  if (v === 'fluentd' || v === 'guess') return undefined;
  if (v === 'yaml') return `${shown} yaml is not supported: write the configuration in Fluentd's own syntax (see conf/quickstart.conf)`;
  return `${shown} ${v ?? ''}: expected fluentd, yaml or guess`;
}

function findLong(name: string): Spec | string {
  const exact = SPECS.find((s) => s.long === name && s.long.length > 1);
  if (exact) return exact;
  const prefixed = SPECS.filter((s) => s.long.length > 1 && s.long.startsWith(name));
  if (prefixed.length === 1) return prefixed[0]!;
  if (prefixed.length > 1) return `--${name} is ambiguous: ${prefixed.map((s) => `--${s.long}`).join(', ')}`;
  return `unknown option --${name}; auditrelay --help lists the options`;
}

function shownOf(s: Spec): string {
  if (s.long.length === 1) return `-${s.long}`;
  return s.short ? `-${s.short}/--${s.long}` : `--${s.long}`;
}

interface Cursor { argv: string[]; i: number }

/** The value of an option whose name was argv[i]: attached, else the next argument. */
function valueOf(spec: Spec, attached: string | undefined, c: Cursor): { value?: string; error?: string } {
  if (spec.arg === 'none') return attached === undefined ? {} : { error: `${shownOf(spec)} takes no value` };
  if (attached !== undefined) return { value: attached };
  const next = c.argv[c.i + 1];
  if (spec.arg === 'required') {
    if (next === undefined) return { error: `${shownOf(spec)} needs a value` };
    c.i++;
    return { value: next };
  }
  if (next !== undefined && !next.startsWith('-')) {
    c.i++;
    return { value: next };
  }
  return {};
}

/** One argv entry starting with `-`: a long option, or a group of short ones. */
function parseOne(o: FluentdOptions, c: Cursor): string | undefined {
  const token = c.argv[c.i]!;
  if (token.startsWith('--')) {
    const eq = token.indexOf('=');
    const name = eq === -1 ? token.slice(2) : token.slice(2, eq);
    const spec = findLong(name);
    if (typeof spec === 'string') return spec;
    const { value, error } = valueOf(spec, eq === -1 ? undefined : token.slice(eq + 1), c);
    return error ?? spec.apply(o, value, shownOf(spec));
  }
  for (let k = 1; k < token.length; k++) {
    const spec = SPECS.find((s) => s.short === token[k]);
    if (!spec) return `unknown option -${token[k]}; auditrelay --help lists the options`;
    if (spec.arg === 'none') {
      const err = spec.apply(o, undefined, shownOf(spec));
      if (err) return err;
      continue;
    }
    const rest = token.slice(k + 1);
    const { value, error } = valueOf(spec, rest === '' ? undefined : rest, c);
    return error ?? spec.apply(o, value, shownOf(spec));
  }
  return undefined;
}

export function parseFluentdFlags(argv: string[]): FlagResult {
  const options: FluentdOptions = { dryRun: false, verbosity: 0, version: false, help: false, notes: [] };
  const c: Cursor = { argv, i: 0 };
  for (; c.i < argv.length; c.i++) {
    const token = argv[c.i]!;
    if (token === '--') {
      if (c.i + 1 < argv.length) return { ok: false, message: `unexpected argument ${argv[c.i + 1]}; options start with - (auditrelay --help)` };
      break;
    }
    if (!token.startsWith('-') || token === '-') return { ok: false, message: `unexpected argument ${token}; options start with - (auditrelay --help)` };
    const error = parseOne(options, c);
    if (error) return { ok: false, message: error };
  }
  return { ok: true, options };
}
