// out_file (lib/fluent/plugin/out_file.rb): each flushed chunk becomes one
// file named from `path` — time placeholders from the chunk's timekey, `_N`
// index unless `append`, `path_suffix`, `.gz` with `compress gzip`. Also the
// `<secondary>` of other outputs (it then takes the primary's chunk keys).

import type { Logger } from 'pino';
import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ParamSchema, ParamsOf } from '../params/param-schema.ts';
import type { ConfigElement, SourcePos } from '../params/element.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';
import { UnrecoverableChunkError, type Formatter, type PluginContext } from '../plugin-api.ts';
import type { ChunkSink, ChunkView } from '../plugin-api.ts';
import type { ChunkKeyInfo } from '../plugin-api.ts';
import { ChunkPlaceholders } from './chunk-placeholders.ts';
import { timekeyToTimeFormat } from '../time/timekey-format.ts';

export const params = {
  path: { type: 'string', required: true, desc: 'Path of the files; `*` is replaced by the time slice (needs the `time` chunk key), else `.%Y%m%d` (per timekey) is appended.' },
  add_path_suffix: { type: 'bool', default: true, desc: 'Append path_suffix to a bare path.' },
  path_suffix: { type: 'string', default: '.log', desc: 'Suffix added to a bare path.' },
  append: { type: 'bool', default: false, desc: 'Append each chunk to one file per slice instead of new `_N` files.' },
  compress: { type: 'enum', enum: ['text', 'gz', 'gzip', 'zstd'], default: 'text', desc: 'gzip/gz: write each chunk as one gzip member, file name gets `.gz`.' },
  recompress: { type: 'bool', default: false, desc: 'Accepted for compatibility: chunks are always read decompressed.' },
  symlink_path: { type: 'string', desc: 'Not supported by auditrelay (accepted with a warning).' },
} as const satisfies ParamSchema;

export type FileParams = ParamsOf<typeof params>;

const DEFAULT_TIMEKEY = 60 * 60 * 24;
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;


/**
 * out_file#generate_path_template:
 *   /dir/file.*      → /dir/file.%Y%m%d_**        /dir/file → /dir/file.%Y%m%d_**.log
 *   `_**` (the index) only without append; `.gz` last when gzipped.
 */
export function generatePathTemplate(original: string, timekey: number | undefined, append: boolean, gzip: boolean, pathSuffix: string): string {
  const comp = gzip ? '.gz' : '';
  const index = append ? '' : '_**';
  if (original.includes('*')) return original.replaceAll('*', timekeyToTimeFormat(timekey) + index) + comp;
  if (timekey === undefined) return `${original}${index}${pathSuffix}${comp}`;
  const tf = timekeyToTimeFormat(timekey);
  const directives = tf.match(/../g) ?? [];
  if (directives.some((d) => original.includes(d))) {
    if (directives.some((d) => !original.includes(d))) throw new Error('insufficient timestamp placeholders in path');
    return `${original}${index}${pathSuffix}${comp}`;
  }
  return `${original}.${tf}${index}${pathSuffix}${comp}`;
}

/** The ChunkSink half: one chunk → one file (or an append). */
export class FileSink implements ChunkSink {
  readonly formatter: Formatter;
  readonly #p: FileParams;
  readonly #at: ConfigElement;
  #placeholders: ChunkPlaceholders | undefined;
  readonly #log: Logger;
  lastWrittenPath: string | undefined;

  constructor(p: FileParams, formatter: Formatter, at: ConfigElement, log: Logger) {
    this.#p = p;
    this.formatter = formatter;
    this.#at = at;
    this.#log = log;
  }

  /** Compiles the path template once the buffer's chunk keys are known. */
  bind(keys: ChunkKeyInfo): void {
    const p = this.#p;
    if (p.path.includes('*') && !keys.chunkKeyTime) {
      throw new ConfigError('AR_CONF_BAD_VALUE', this.#at.params.get('path')?.pos ?? this.#at.pos,
        "path including '*' must be used with buffer chunk key 'time'; add `<buffer time>` with a timekey or remove the '*'");
    }
    let template: string;
    try {
      template = generatePathTemplate(p.path, keys.chunkKeyTime ? keys.timekey : undefined, p.append,
        p.compress === 'gzip' || p.compress === 'gz', p.add_path_suffix ? p.path_suffix : '');
    } catch (err) {
      throw new ConfigError('AR_CONF_BAD_VALUE', this.#at.params.get('path')?.pos ?? this.#at.pos,
        `${(err as Error).message}: '${p.path}' has some but not all of ${timekeyToTimeFormat(keys.timekey)}; write all of them or none`);
    }
    this.#placeholders = new ChunkPlaceholders(template, keys);
  }

  async write(chunk: ChunkView): Promise<string> {
    if (!this.#placeholders) throw new Error('BUG: FileSink.bind() was not called');
    const template = this.#placeholders.extract(chunk);
    if (dotSegments(template) > dotSegments(this.#p.path)) {
      // A tag is the client's URL path (`POST /..` → tag `..`): written into `${tag}` it would
      // climb out of the configured directory. Fluentd writes there; we refuse the chunk
      // (unrecoverable: it goes to <secondary> or the backup directory, never outside `path`).
      throw new UnrecoverableChunkError(`out_file: '${template}' leaves the directory of path '${this.#p.path}' (a placeholder's value is '.' or '..'); the chunk is not written there`);
    }
    await mkdir(dirname(template), { recursive: true, mode: DIR_MODE });
    const gzip = this.#p.compress === 'gzip' || this.#p.compress === 'gz';
    const began = performance.now();
    let path = template;
    let fh;
    if (this.#p.append) {
      fh = await open(path, 'a', FILE_MODE);
    } else {
      // find_filepath_available: first free `_N`. The exclusive create makes the
      // choice atomic, so parallel flush threads never share a file.
      for (let i = 0; ; i++) {
        path = template.replace('_**', `_${i}`);
        try {
          fh = await open(path, 'wx', FILE_MODE);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
    }
    const out = fh.createWriteStream();
    if (gzip) await pipeline(chunk.open(), createGzip(), out);
    else await pipeline(chunk.open(), out);
    this.lastWrittenPath = path;
    const ms = Math.round(performance.now() - began);
    this.#log.info({ path, events: chunk.recordCount, bytes: out.bytesWritten, ms, chunk_id: chunk.idHex },
      `out_file: wrote ${path}: ${chunk.recordCount} events, ${out.bytesWritten} bytes in ${ms} ms`);
    return path;
  }
}

/** How many `.` / `..` segments a path has. */
function dotSegments(path: string): number {
  let n = 0;
  for (const segment of path.split('/')) if (segment === '.' || segment === '..') n++;
  return n;
}

/** `<match> @type file`: FileSink behind its own buffer (default `<buffer time>`, timekey 1d, file buffer). */
export class FileOutput extends FileSink {
  static readonly type = 'file';
  readonly bufferDefaults: { readonly chunkKeys: readonly string[]; readonly timekey: number; readonly bufferType: 'file'; readonly defaultPath: string | undefined; readonly defaultPathPos: SourcePos | undefined };

  constructor(element: ConfigElement, ctx: PluginContext) {
    const { p, formatter } = configureFileSink(element, ctx);
    super(p, formatter, element, ctx.log);
    const bufferSection = element.sections('buffer')[0];
    if (!bufferSection) {
      ctx.log.warn('default timekey interval (1d) will be used because of missing <buffer> section. To change the output frequency, please modify the timekey value');
    } else if (!bufferSection.params.has('timekey') && bufferSection.arg.trim() !== '[]') {
      ctx.log.warn('default timekey interval (1d) will be used. To change the output frequency, please modify the timekey value');
    }
    this.bufferDefaults = { chunkKeys: ['time'], timekey: DEFAULT_TIMEKEY, bufferType: 'file', defaultPath: element.params.get('path')?.value, defaultPathPos: element.params.get('path')?.pos };
  }
}

/** The sink alone: `<secondary> @type file` (bound to the primary's keys by BufferedOutput). */
export class FileSecondary extends FileSink {
  static readonly type = 'file';

  constructor(element: ConfigElement, ctx: PluginContext) {
    const { p, formatter } = configureFileSink(element, ctx);
    super(p, formatter, element, ctx.log);
  }
}

export function createFileSink(element: ConfigElement, ctx: PluginContext): FileSink {
  return new FileSecondary(element, ctx);
}

function configureFileSink(element: ConfigElement, ctx: PluginContext): { p: FileParams; formatter: Formatter } {
  const p = configureParams(params, element, (m) => ctx.log.warn(m));
  if (p.compress === 'zstd') {
    throw new ConfigError('AR_CONF_UNSUPPORTED', element.params.get('compress')?.pos ?? element.pos,
      "out_file compress zstd is not supported by auditrelay; write 'compress gzip'");
  }
  if (p.symlink_path !== undefined) ctx.log.warn('symlink_path is not supported by auditrelay; ignored');
  const formatter = ctx.createFormatter(element.sections('format')[0], 'out_file', element);
  return { p, formatter };
}
