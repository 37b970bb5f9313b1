// `<buffer CHUNK_KEYS>` (output.rb config_section :buffer, buffer.rb,
// buf_file.rb; docs/compatibility.md §8): Fluentd's names and defaults, plus `fsync`.
// resolveBufferConfig applies Fluentd's configure-time rules: flush_mode
// `default` → lazy with a time key else interval, per-type size defaults,
// queue_limit_length → total_limit_size, and the same warnings/errors.

import type { ParamSchema, ParamsOf } from '../params/param-schema.ts';
import { ConfigElement, type SourcePos } from '../params/element.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';
import { localZoneName } from './timekey.ts';
import { parseZone } from '../time/zone.ts';
import type { ChunkKeyInfo } from '../plugin-api.ts';

export const params = {
  path: { type: 'string', desc: 'file buffer: a directory (chunks are <path>/buffer.b<id>.log) or a pattern with `.*`.' },
  path_suffix: { type: 'string', default: '.log', desc: 'file buffer: suffix of chunk files.' },
  file_permission: { type: 'string', desc: 'file buffer: mode of chunk files (octal), default 0644.' },
  dir_permission: { type: 'string', desc: 'file buffer: mode of the created directory (octal), default 0755.' },
  timekey: { type: 'time', desc: 'Width of a time chunk (required with the `time` chunk key); events whose time falls in one window share a chunk.' },
  timekey_wait: { type: 'time', default: 600, desc: 'Seconds to wait after a window ends before its chunk is flushed (late events).' },
  timekey_use_utc: { type: 'bool', default: false, desc: 'Align windows and time placeholders to UTC instead of timekey_zone.' },
  timekey_zone: { type: 'string', desc: 'Zone for windows and placeholders ("+0900", "Asia/Tokyo"); default the process zone.' },
  chunk_limit_size: { type: 'size', desc: 'Max bytes per chunk; default 256m (file) / 8m (memory).' },
  chunk_limit_records: { type: 'integer', desc: 'Max records per chunk; unset = no limit.' },
  total_limit_size: { type: 'size', desc: 'Max bytes of staged + queued chunks; default 64g (file) / 512m (memory).' },
  queue_limit_length: { type: 'integer', desc: 'Legacy: sets total_limit_size to chunk_limit_size × this.' },
  chunk_full_threshold: { type: 'float', default: 0.95, desc: 'A chunk this full (ratio of the limits) is enqueued right after the write.' },
  queued_chunks_limit_size: { type: 'integer', desc: 'Max queued chunks before time/interval enqueueing pauses; default flush_thread_count.' },
  compress: { type: 'enum', enum: ['text', 'gzip', 'zstd'], default: 'text', desc: 'Store chunks gzip-compressed (each write one gzip member); read back decompressed.' },
  disable_chunk_backup: { type: 'bool', default: false, desc: 'Throw away chunks hitting unrecoverable errors instead of backing them up.' },
  flush_at_shutdown: { type: 'bool', desc: 'Flush everything on stop; default false for file, true for memory buffers.' },
  flush_mode: { type: 'enum', enum: ['default', 'lazy', 'interval', 'immediate'], default: 'default', desc: 'lazy: per timekey; interval: every flush_interval; immediate: after each write. default: lazy with a time chunk key, else interval.' },
  flush_interval: { type: 'time', default: 60, desc: 'flush_mode interval: seconds a chunk stays staged.' },
  flush_thread_count: { type: 'integer', default: 1, minimum: 1, desc: 'Chunks written to the output in parallel.' },
  flush_thread_interval: { type: 'float', default: 1.0, desc: 'Seconds between checks for chunks to enqueue/flush.' },
  flush_thread_burst_interval: { type: 'float', default: 1.0, desc: 'Seconds between flushes while chunks are queued.' },
  delayed_commit_timeout: { type: 'time', default: 60, desc: 'Accepted for compatibility (no delayed-commit outputs here).' },
  overflow_action: { type: 'enum', enum: ['throw_exception', 'block', 'drop_oldest_chunk'], default: 'throw_exception', desc: 'When total_limit_size is reached: fail the write (HTTP 503 + Retry-After), wait for space (bounded), or drop the oldest queued chunk.' },
  retry_forever: { type: 'bool', default: false, desc: 'Retry forever (ignores retry_timeout and retry_max_times).' },
  retry_timeout: { type: 'time', default: 72 * 60 * 60, desc: 'Give up (evacuate and drop the queue) after retrying this long.' },
  retry_max_times: { type: 'integer', desc: 'Give up after this many retries; unset = no count limit.' },
  retry_secondary_threshold: { type: 'float', default: 0.8, desc: 'Fraction of retry_timeout after which <secondary> is used.' },
  retry_type: { type: 'enum', enum: ['exponential_backoff', 'periodic'], default: 'exponential_backoff', desc: 'Backoff shape.' },
  retry_wait: { type: 'time', default: 1, desc: 'First wait, and the constant factor of the backoff.' },
  retry_exponential_backoff_base: { type: 'float', default: 2, desc: 'Backoff base: wait × base^n.' },
  retry_max_interval: { type: 'time', desc: 'Cap on one backoff interval; unset = unbounded.' },
  retry_randomize: { type: 'bool', default: true, desc: 'Randomise each interval by ±12.5 % so outputs do not retry in lockstep.' },
  fsync: {
    type: 'bool', default: false,
    desc: 'auditrelay: fsync chunk data and meta (and the directory) once per append batch before acknowledging. ' +
      'Off: an acknowledged event survives a crash of the process (it is in the page cache) but not a power loss or kernel panic. ' +
      'On: it survives those too, at the cost of one to three fsyncs per batch (group commit: every event of one event-loop turn shares them), ' +
      'which bounds throughput by the disk\'s sync latency.',
  },
} as const satisfies ParamSchema;

export type BufferParams = ParamsOf<typeof params>;

export interface BufferDefaults {
  readonly chunkKeys: readonly string[];
  readonly timekey?: number;
  readonly bufferType?: 'file' | 'memory';
  /** file buffer path when <buffer> has none (out_file uses its own `path`). */
  readonly defaultPath?: string;
  /** Where defaultPath is written (out_file's own `path` line). */
  readonly defaultPathPos?: SourcePos;
}

export interface BufferConfig extends BufferParams {
  readonly type: 'file' | 'memory';
  readonly chunkKeyTime: boolean;
  readonly chunkKeyTag: boolean;
  /** Record-key chunk keys (time and tag removed). */
  readonly recordKeys: readonly string[];
  readonly timekeyZoneName: string;
  readonly timekeyZoneParam: string | undefined;
  readonly resolvedFlushMode: 'lazy' | 'interval' | 'immediate';
  readonly chunkLimitSize: number;
  readonly totalLimitSize: number;
  readonly queuedChunksLimitSize: number;
  readonly flushAtShutdown: boolean;
  readonly fileMode: number;
  readonly dirMode: number;
}

const MIB = 1024 * 1024;
// output.rb CHUNK_KEY_PATTERN; nested `$.a.b` accessors are not supported here.
const CHUNK_KEY = /^[-_.@a-zA-Z0-9]+$/;

export function resolveBufferConfig(section: ConfigElement | undefined, defaults: BufferDefaults, warn: (msg: string) => void): BufferConfig {
  const el = section ?? new ConfigElement('buffer', '', { file: '(default)', line: 0 });
  const typeParam = el.take('@type') ?? el.take('type');
  const type = (typeParam?.value ?? defaults.bufferType ?? 'memory') as string;
  if (type !== 'file' && type !== 'memory') {
    throw new ConfigError('AR_CONF_UNKNOWN_TYPE', typeParam?.pos ?? el.pos, `unknown buffer type '${type}'; write @type file or @type memory`);
  }
  const p = configureParams(params, el, warn);

  const keys = el.arg.trim() === '' ? [...defaults.chunkKeys] : parseChunkKeys(el);
  const chunkKeyTime = keys.includes('time');
  const chunkKeyTag = keys.includes('tag');
  const recordKeys = keys.filter((k) => k !== 'time' && k !== 'tag');
  if (recordKeys.some((k) => !CHUNK_KEY.test(k))) {
    throw new ConfigError('AR_CONF_BAD_VALUE', el.pos, `chunk_keys specification includes invalid char: '${el.arg}'; use plain record keys (letters, digits, - _ . @)`);
  }
  const timekey = p.timekey ?? defaults.timekey;
  if (chunkKeyTime) {
    if (timekey === undefined) {
      throw new ConfigError('AR_CONF_MISSING', el.pos, "<buffer ...> argument includes 'time', but timekey is not configured; add e.g. `timekey 1h`");
    }
    if (!(timekey > 0)) throw new ConfigError('AR_CONF_BAD_VALUE', el.pos, `timekey should be greater than 0. current timekey: ${timekey}`);
  }
  const zoneName = p.timekey_use_utc ? '+0000' : p.timekey_zone ?? localZoneName();
  try {
    parseZone(zoneName);
  } catch {
    throw new ConfigError('AR_CONF_BAD_VALUE', el.params.get('timekey_zone')?.pos ?? el.pos, `Unsupported timezone '${zoneName}'; write e.g. +0900, -07:00 or Asia/Tokyo`);
  }
  if ((chunkKeyTag ? 1 : 0) + recordKeys.length >= 4) warn('many chunk keys specified, and it may cause too many chunks on your system.');

  let flushMode = p.flush_mode;
  if (flushMode === 'default') flushMode = chunkKeyTime ? 'lazy' : 'interval';
  if (flushMode !== 'interval' && el.params.has('flush_interval')) {
    if (el.params.has('flush_mode')) {
      throw new ConfigError('AR_CONF_BAD_VALUE', el.params.get('flush_interval')!.pos, `'flush_interval' can't be specified when 'flush_mode' is not 'interval' explicitly: '${flushMode}'`);
    }
    warn(`'flush_interval' is ignored because default 'flush_mode' is not 'interval': '${flushMode}'`);
  }
  if (p.compress === 'zstd') {
    throw new ConfigError('AR_CONF_UNSUPPORTED', el.params.get('compress')!.pos, "compress zstd is not supported by auditrelay; write 'compress gzip' or 'compress text'");
  }
  const path = p.path ?? defaults.defaultPath;
  if (type === 'file' && path === undefined) {
    throw new ConfigError('AR_CONF_MISSING', el.pos, "buffer path is not configured. specify 'path' in <buffer>");
  }
  const chunkLimitSize = p.chunk_limit_size ?? (type === 'file' ? 256 * MIB : 8 * MIB);
  let totalLimitSize = p.total_limit_size ?? (type === 'file' ? 64 * 1024 * MIB : 512 * MIB);
  if (p.queue_limit_length !== undefined) totalLimitSize = chunkLimitSize * p.queue_limit_length;

  let flushAtShutdown = p.flush_at_shutdown ?? type === 'memory';
  if (p.flush_at_shutdown === false && type === 'memory') {
    warn("'flush_at_shutdown' is false, and buffer plugin 'memory' is not persistent buffer.");
    warn('your configuration will lose buffered data at shutdown. please confirm your configuration again.');
  }
  flushAtShutdown = Boolean(flushAtShutdown);
  return {
    ...p,
    path,
    timekey,
    type,
    chunkKeyTime,
    chunkKeyTag,
    recordKeys,
    timekeyZoneName: zoneName,
    timekeyZoneParam: p.timekey_zone,
    resolvedFlushMode: flushMode,
    chunkLimitSize,
    totalLimitSize,
    queuedChunksLimitSize: p.queued_chunks_limit_size ?? p.flush_thread_count,
    flushAtShutdown,
    fileMode: p.file_permission !== undefined ? parseInt(p.file_permission, 8) : 0o644,
    dirMode: p.dir_permission !== undefined ? parseInt(p.dir_permission, 8) : 0o755,
  };
}

/** config_argument :chunk_keys, :array — a JSON array or a comma-separated list. */
function parseChunkKeys(el: ConfigElement): string[] {
  const arg = el.arg.trim();
  if (arg.startsWith('[')) {
    let v: unknown;
    try {
      v = JSON.parse(arg);
    } catch {
      throw new ConfigError('AR_CONF_BAD_VALUE', el.pos, `<buffer ${arg}>: chunk keys are not a JSON array; write e.g. <buffer time,tag> or <buffer ["time","tag"]>`);
    }
    if (!Array.isArray(v)) throw new ConfigError('AR_CONF_BAD_VALUE', el.pos, `<buffer ${arg}>: chunk keys must be an array`);
    return v.map(String);
  }
  return arg.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** What a buffer tells the sinks it drives (ChunkSink.bind). */
export function chunkKeyInfoOf(cfg: BufferConfig): ChunkKeyInfo {
  return {
    chunkKeyTime: cfg.chunkKeyTime, chunkKeyTag: cfg.chunkKeyTag, recordKeys: cfg.recordKeys,
    timekey: cfg.timekey, timekeyZone: cfg.timekeyZoneName, timekeyZoneParam: cfg.timekeyZoneParam,
  };
}
