// Configuration of `start`, resolved the way upstream's kong + KongTOMLResolver do
// (docs/compatibility-event-handler.md §1.2 flags, §2 TOML): precedence CLI flag > TOML > env var > default;
// a TOML key is found as its kebab name at top level or as the fully dotted name
// (`fluentd-*` flags live under `forward.fluentd.`); unknown keys (e.g. `namespace`) are ignored.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { closestSpelling } from '../../value/suggest.ts';
import { ExporterError } from '../errors.ts';
import { parseGoDuration } from '../go-duration.ts';

type FlagType = 'string' | 'file' | 'int' | 'bool' | 'duration' | 'list' | 'time';

export interface FlagSpec {
  readonly type: FlagType;
  readonly env?: string;
  readonly default?: string;
  readonly required?: boolean;
  /** One line for `start --help`. */
  readonly help: string;
  /** A further TOML key naming the same setting (ours). */
  readonly tomlAlias?: string;
}

// §1.2, including the real `FDWRD_` typos in some env names.
export const START_FLAGS = {
  'fluentd-url': { type: 'string', env: 'FDFWD_FLUENTD_URL', required: true, help: 'Receiver URL audit events are POSTed to' },
  'fluentd-session-url': { type: 'string', env: 'FDFWD_FLUENTD_SESSION_URL', required: true, help: 'Receiver URL prefix for session events (POSTed to <url>.<sid>.log)' },
  'fluentd-cert': { type: 'file', env: 'FDWRD_FLUENTD_CERT', help: 'mTLS client certificate for the receiver' },
  'fluentd-key': { type: 'file', env: 'FDWRD_FLUENTD_KEY', help: 'mTLS client key for the receiver (unencrypted)' },
  'fluentd-ca': { type: 'file', env: 'FDWRD_FLUENTD_CA', help: 'CA of the receiver\'s certificate (system roots if unset)' },
  'fluentd-max-connections': { type: 'int', env: 'FDWRD_MAX_CONNECTIONS', default: '0', help: 'Max connections to the receiver (0 = 2 x concurrency)' },
  // Ours, not upstream's: audit POSTs in flight at once, pipelined in order on one HTTP/1.1
  // connection (pipelined-pipeline.ts); 0 = 128 or max-connections if larger (senders.ts
  // PIPELINE_WINDOW), 1 = upstream's strictly sequential sending through the pool.
  'fluentd-max-in-flight': { type: 'int', env: 'FDFWD_FLUENTD_MAX_IN_FLIGHT', default: '0', help: 'Audit POSTs in flight at once, pipelined (0 = 128 or max-connections if larger, 1 = sequential)' },
  'teleport-addr': { type: 'string', env: 'FDFWD_TELEPORT_ADDR', default: 'localhost:3025', help: 'Teleport Auth Service or Proxy address' },
  'teleport-identity': { type: 'file', env: 'FDFWD_TELEPORT_IDENTITY', help: 'Teleport identity file' },
  'teleport-refresh-enabled': { type: 'bool', env: 'FDFWD_TELEPORT_REFRESH_ENABLED', default: 'false', help: 'Reload the identity file periodically' },
  'teleport-refresh-interval': { type: 'duration', env: 'FDFWD_TELEPORT_REFRESH_INTERVAL', default: '1m', help: 'How often to reload the identity file' },
  'teleport-ca': { type: 'file', env: 'FDFWD_TELEPORT_CA', help: 'Teleport TLS CA file (instead of an identity file)' },
  'teleport-cert': { type: 'file', env: 'FDWRD_TELEPORT_CERT', help: 'Teleport TLS certificate file' },
  'teleport-key': { type: 'file', env: 'FDFWD_TELEPORT_KEY', help: 'Teleport TLS key file' },
  storage: { type: 'string', env: 'FDFWD_STORAGE', required: true, help: 'Directory for the exporter\'s state (cursors, sessions)' },
  batch: { type: 'int', env: 'FDFWD_BATCH', default: '20', help: 'Page size of the legacy search API' },
  types: { type: 'list', env: 'FDFWD_TYPES', help: 'Event types to fetch (legacy search API)' },
  'skip-event-types': { type: 'list', env: 'FDFWD_SKIP_EVENT_TYPES', help: 'Event types not forwarded' },
  'skip-session-types': { type: 'list', env: 'FDFWD_SKIP_SESSION_TYPES', default: 'print', help: 'Session event types not forwarded' },
  'start-time': { type: 'time', env: 'FDFWD_START_TIME', help: 'Export events from this time on (RFC 3339)' },
  timeout: { type: 'duration', env: 'FDFWD_TIMEOUT', default: '5s', help: 'Pause when there are no new events' },
  'dry-run': { type: 'bool', default: 'false', help: 'Fetch but send nothing (state in a separate directory)' },
  'exit-on-last-event': { type: 'bool', default: 'false', help: 'Exit when the last event has been processed' },
  concurrency: { type: 'int', default: '5', help: 'Session recordings ingested at once' },
  'window-size': { type: 'duration', default: '24h', help: 'Window of the legacy search API' },
  'lock-enabled': { type: 'bool', env: 'FDFWD_LOCKING_ENABLED', default: 'false', help: 'Lock users after failed logins' },
  'lock-failed-attempts-count': { type: 'int', env: 'FDFWD_LOCKING_FAILED_ATTEMPTS', default: '3', help: 'Failed logins within lock-period that lock a user' },
  'lock-period': { type: 'duration', env: 'FDFWD_LOCKING_PERIOD', default: '1m', help: 'Period over which failed logins are counted' },
  'lock-for': { type: 'duration', env: 'FDFWD_LOCKING_FOR', default: '0s', help: 'How long a lock lasts (0s = no expiry)' },
  debug: { type: 'bool', env: 'FDFWD_DEBUG', default: 'false', help: 'Debug logging' },
  // Ours, not upstream's: Prometheus text on http://<addr>/metrics (start/metrics.ts); unset = off.
  'metrics-addr': { type: 'string', env: 'FDFWD_METRICS_ADDR', tomlAlias: 'metrics_addr', help: 'Serve Prometheus metrics on host:port at /metrics (off if unset)' },
} as const satisfies Record<string, FlagSpec>;

export type StartFlagName = keyof typeof START_FLAGS;

export interface StartConfig {
  readonly fluentdUrl: string;
  readonly fluentdSessionUrl: string;
  readonly fluentdCert?: string;
  readonly fluentdKey?: string;
  readonly fluentdCa?: string;
  /** 0 in the input becomes 2 × concurrency, as upstream's fluentd client does. */
  readonly fluentdMaxConnections: number;
  /** Audit POSTs outstanding at once (ours); 0 = fluentdMaxConnections, 1 = upstream's sequential sending. */
  readonly fluentdMaxInFlight: number;
  readonly teleportAddr: string;
  readonly teleportIdentity?: string;
  readonly teleportRefreshEnabled: boolean;
  readonly teleportRefreshIntervalMs: number;
  readonly teleportCa?: string;
  readonly teleportCert?: string;
  readonly teleportKey?: string;
  readonly storage: string;
  readonly batch: number;
  readonly types: readonly string[];
  readonly skipEventTypes: readonly string[];
  readonly skipSessionTypes: readonly string[];
  /** Truncated to whole seconds (cli.go Validate). */
  readonly startTime?: Date;
  readonly timeoutMs: number;
  readonly dryRun: boolean;
  readonly exitOnLastEvent: boolean;
  readonly concurrency: number;
  readonly windowSizeMs: number;
  readonly lockEnabled: boolean;
  readonly lockFailedAttemptsCount: number;
  readonly lockPeriodMs: number;
  readonly lockForMs: number;
  readonly debug: boolean;
  /** host:port of the metrics listener (ours); undefined = no listener. */
  readonly metricsAddr?: string;
}

export interface LoadStartConfigOptions {
  /** `-c/--config`; only a path given on the command line loads the file (§2, FDFWD_CONFIG alone does not). */
  readonly configPath?: string;
  /** Flags given on the command line, by kebab name, as raw strings. */
  readonly flags?: Readonly<Partial<Record<StartFlagName, string>>>;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Relative file paths resolve against this, like kong's ExpandPath. */
  readonly cwd?: string;
  /** Gets one message per TOML key that no flag reads (upstream ignores those silently). */
  readonly onWarning?: (message: string) => void;
}

type TomlTable = Record<string, unknown>;

/** go-toml v1 `Get(key)`: split on dots and walk the tables. */
function tomlGet(tree: TomlTable, dotted: string): unknown {
  let node: unknown = tree;
  for (const part of dotted.split('.')) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || node instanceof Date) return undefined;
    node = (node as TomlTable)[part];
  }
  return node;
}

/** KongTOMLResolver: `fluentd-x` is looked up as `forward.fluentd.x`; the all-dotted form wins. */
function tomlLookup(tree: TomlTable, flag: string): unknown {
  const alias = (START_FLAGS[flag as StartFlagName] as FlagSpec).tomlAlias;
  const found = tomlLookupFlag(tree, flag);
  return found === undefined && alias !== undefined ? tomlGet(tree, alias) : found;
}

function tomlLookupFlag(tree: TomlTable, flag: string): unknown {
  const name = flag.startsWith('fluentd-') ? 'forward.fluentd.' + flag.slice('fluentd-'.length) : flag;
  const dotted = tomlGet(tree, name.replaceAll('-', '.'));
  return dotted !== undefined ? dotted : tomlGet(tree, name);
}

function bad(where: string, flag: string, found: unknown, want: string): ExporterError {
  return new ExporterError(
    'AR_EXPORTER_CONFIG',
    `${where}: ${flag} = ${JSON.stringify(found instanceof Date ? found.toISOString() : found)} is not ${want}`,
  );
}

function convert(flag: string, spec: FlagSpec, raw: unknown, where: string, cwd: string): unknown {
  switch (spec.type) {
    case 'string':
      if (typeof raw !== 'string') throw bad(where, flag, raw, 'a string; write it in double quotes');
      return raw;
    case 'file': {
      if (typeof raw !== 'string') throw bad(where, flag, raw, 'a file path string');
      // kong's existingfile: relative to the cwd (not to the TOML file), must exist, not a dir.
      const path = resolve(cwd, raw);
      let isDir: boolean;
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        throw bad(where, flag, raw, `an existing file (${path} not found)`);
      }
      if (isDir) throw bad(where, flag, raw, `a file (${path} is a directory)`);
      return path;
    }
    case 'int': {
      const n = typeof raw === 'string' && /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : raw;
      if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw bad(where, flag, raw, 'an integer, e.g. 20');
      return n;
    }
    case 'bool':
      if (typeof raw === 'boolean') return raw;
      // strconv.ParseBool's spellings.
      if (typeof raw === 'string') {
        if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
        if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
      }
      throw bad(where, flag, raw, 'a boolean; write true or false');
    case 'duration': {
      const ms = typeof raw === 'string' ? parseGoDuration(raw) : undefined;
      if (ms === undefined) throw bad(where, flag, raw, 'a duration string; write e.g. "10s", "1m" or "24h"');
      return ms;
    }
    case 'list':
      // An array, or kong's comma-separated string (§2); both give the same slice.
      if (typeof raw === 'string') return raw === '' ? [] : raw.split(',');
      if (Array.isArray(raw) && raw.every((v) => typeof v === 'string')) return raw;
      throw bad(where, flag, raw, 'a list of strings; write ["a", "b"] or "a,b"');
    case 'time': {
      const d = raw instanceof Date ? raw : typeof raw === 'string' ? new Date(raw) : undefined;
      if (d === undefined || Number.isNaN(d.getTime())) {
        throw bad(where, flag, raw, 'an RFC 3339 time; write e.g. "2024-11-20T00:00:00Z"');
      }
      return new Date(Math.floor(d.getTime() / 1000) * 1000);
    }
  }
}

/** Keys upstream's TOML knows but no flag reads (§1.2: `namespace` is hard-coded to "default"). */
const IGNORED_KEYS = new Set(['namespace']);

/** Every spelling the resolver looks up: the kebab name (fluentd-* under forward.fluentd.) and the all-dotted one. */
function knownKeys(): Map<string, string> {
  const out = new Map<string, string>();
  for (const flag of Object.keys(START_FLAGS)) {
    const name = flag.startsWith('fluentd-') ? 'forward.fluentd.' + flag.slice('fluentd-'.length) : flag;
    out.set(name, name);
    out.set(name.replaceAll('-', '.'), name);
    const alias = (START_FLAGS[flag as StartFlagName] as FlagSpec).tomlAlias;
    if (alias !== undefined) out.set(alias, alias);
  }
  return out;
}

/** One warning per TOML leaf no flag resolves; a misspelt one names the closest known key. */
export function unknownKeyWarnings(tree: Record<string, unknown>, where: string): string[] {
  const known = knownKeys();
  const out: string[] = [];
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, val] of Object.entries(node)) {
      const path = prefix === '' ? k : `${prefix}.${k}`;
      if (known.has(path)) continue;
      if (val !== null && typeof val === 'object' && !Array.isArray(val) && !(val instanceof Date)) {
        walk(val as Record<string, unknown>, path);
        continue;
      }
      if (IGNORED_KEYS.has(path)) {
        out.push(`${where}: key "${path}" is ignored (upstream ignores it too: the namespace is always "default")`);
        continue;
      }
      const spelling = closestSpelling(path, known.keys());
      const hint = spelling !== undefined ? `; did you mean "${known.get(spelling)}"?` : '';
      out.push(`${where}: unknown key "${path}" is ignored${hint}`);
    }
  };
  walk(tree, '');
  return out;
}

/** Resolves and validates `start`'s configuration; throws ExporterError('AR_EXPORTER_CONFIG'). */
export function loadStartConfig(opts: LoadStartConfigOptions = {}): StartConfig {
  const cwd = opts.cwd ?? process.cwd();
  const toml = opts.configPath !== undefined ? readToml(opts.configPath, cwd) : undefined;
  if (toml !== undefined && opts.onWarning !== undefined) {
    for (const w of unknownKeyWarnings(toml.tree, toml.where)) opts.onWarning(w);
  }
  const values = resolveFlags(opts, toml, cwd);
  const maxConnections = checkCombinations(values);
  return toStartConfig(values as Record<string, never>, maxConnections);
}

interface TomlSource {
  readonly tree: TomlTable;
  /** The file's absolute path, for messages. */
  readonly where: string;
}

function readToml(configPath: string, cwd: string): TomlSource {
  const path = resolve(cwd, configPath);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ExporterError('AR_EXPORTER_CONFIG', `--config ${configPath}: cannot read (${(err as Error).message})`, {
      cause: err,
    });
  }
  try {
    return { tree: parseToml(text) as TomlTable, where: path };
  } catch (err) {
    // smol-toml's message carries line and column.
    throw new ExporterError('AR_EXPORTER_CONFIG', `${path}: not valid TOML: ${(err as Error).message}`, { cause: err });
  }
}

/** Each flag's value by precedence CLI flag > TOML > env var > default, converted; missing required ones throw. */
function resolveFlags(opts: LoadStartConfigOptions, toml: TomlSource | undefined, cwd: string): Record<string, unknown> {
  const env = opts.env ?? process.env;
  const values: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const [flag, spec] of Object.entries(START_FLAGS) as [StartFlagName, FlagSpec][]) {
    const cli = opts.flags?.[flag];
    const fromToml = toml !== undefined ? tomlLookup(toml.tree, flag) : undefined;
    const fromEnv = spec.env !== undefined ? env[spec.env] : undefined;
    let raw: unknown;
    let where: string;
    if (cli !== undefined) [raw, where] = [cli, `--${flag}`];
    else if (fromToml !== undefined) [raw, where] = [fromToml, toml!.where];
    else if (fromEnv !== undefined) [raw, where] = [fromEnv, `$${spec.env}`];
    else if (spec.default !== undefined) [raw, where] = [spec.default, 'default'];
    else {
      if (spec.required === true) missing.push(`--${flag}`);
      continue;
    }
    values[flag] = convert(flag, spec, raw, where, cwd);
  }
  if (missing.length > 0) {
    throw new ExporterError(
      'AR_EXPORTER_CONFIG',
      `missing flags: ${missing.join(', ')}; set them on the command line or in the TOML given with -c ` +
        `(storage at top level, url/session-url under [forward.fluentd])`,
    );
  }
  return values;
}

/** The checks across flags (cli.go TeleportConfig.Check, fluentd_client.go); returns the effective max connections. */
function checkCombinations(values: Record<string, unknown>): number {
  const teleportFiles = [
    ['teleport-cert', '`teleport.cert`'],
    ['teleport-key', '`teleport.key`'],
    ['teleport-ca', '`teleport.ca`'],
  ] as const;
  const provided = teleportFiles.filter(([f]) => values[f] !== undefined).map(([, n]) => n);
  const absent = teleportFiles.filter(([f]) => values[f] === undefined).map(([, n]) => n);
  if (provided.length > 0 && provided.length < 3) {
    throw new ExporterError(
      'AR_EXPORTER_CONFIG',
      `configuration setting(s) ${provided.join(', ')} are provided but setting(s) ${absent.join(', ')} are missing`,
    );
  }
  if (values['teleport-identity'] !== undefined && provided.length !== 0) {
    throw new ExporterError(
      'AR_EXPORTER_CONFIG',
      'configuration setting `identity` is mutually exclusive with the `cert`, `key` and `ca` settings',
    );
  }
  if (provided.length === 0 && values['teleport-identity'] === undefined) {
    throw new ExporterError('AR_EXPORTER_CONFIG', 'neither `identity` file nor `cert`, `key` and `ca` files configured');
  }
  // fluentd_client.go.
  if ((values['fluentd-cert'] === undefined) !== (values['fluentd-key'] === undefined)) {
    throw new ExporterError('AR_EXPORTER_CONFIG', 'both fluentd_cert and fluentd_key should be specified');
  }
  let maxConnections = values['fluentd-max-connections'] as number;
  if (maxConnections === 0) maxConnections = 2 * (values['concurrency'] as number);
  if (maxConnections <= 0) {
    throw new ExporterError('AR_EXPORTER_CONFIG', 'fluentd_max_connections should be greater than 0');
  }

  const metrics = values['metrics-addr'] as string | undefined;
  if (metrics !== undefined && !/^(\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/.test(metrics)) {
    throw new ExporterError('AR_EXPORTER_CONFIG', `metrics-addr ${JSON.stringify(metrics)} is not host:port; write e.g. 127.0.0.1:9464 or :9464`);
  }
  if ((values['fluentd-max-in-flight'] as number) < 0) {
    throw new ExporterError('AR_EXPORTER_CONFIG', 'fluentd-max-in-flight should be 0 (the default window) or greater');
  }
  return maxConnections;
}

function toStartConfig(v: Record<string, never>, maxConnections: number): StartConfig {
  return {
    fluentdUrl: v['fluentd-url'],
    fluentdSessionUrl: v['fluentd-session-url'],
    fluentdCert: v['fluentd-cert'],
    fluentdKey: v['fluentd-key'],
    fluentdCa: v['fluentd-ca'],
    fluentdMaxConnections: maxConnections,
    fluentdMaxInFlight: v['fluentd-max-in-flight'],
    teleportAddr: v['teleport-addr'],
    teleportIdentity: v['teleport-identity'],
    teleportRefreshEnabled: v['teleport-refresh-enabled'],
    teleportRefreshIntervalMs: v['teleport-refresh-interval'],
    teleportCa: v['teleport-ca'],
    teleportCert: v['teleport-cert'],
    teleportKey: v['teleport-key'],
    storage: v['storage'],
    batch: v['batch'],
    types: v['types'] ?? [],
    skipEventTypes: v['skip-event-types'] ?? [],
    skipSessionTypes: v['skip-session-types'],
    startTime: v['start-time'],
    timeoutMs: v['timeout'],
    dryRun: v['dry-run'],
    exitOnLastEvent: v['exit-on-last-event'],
    concurrency: v['concurrency'],
    windowSizeMs: v['window-size'],
    lockEnabled: v['lock-enabled'],
    lockFailedAttemptsCount: v['lock-failed-attempts-count'],
    lockPeriodMs: v['lock-period'],
    lockForMs: v['lock-for'],
    debug: v['debug'],
    metricsAddr: v['metrics-addr'],
  };
}
