// out_secondary_file (lib/fluent/plugin/out_secondary_file.rb, docs/compatibility.md §8):
// the `<secondary>` that dumps a chunk the primary could not deliver, byte for byte
// as the primary formatted it, to `<directory>/<basename>.<N>` (`<basename>` with
// `append`), `.gz` last with `compress gzip`. Placeholders in directory/basename
// follow the primary's chunk keys (`${chunk_id}` always works).

import { accessSync, constants, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ParamSchema, ParamsOf } from '../params/param-schema.ts';
import type { ConfigElement } from '../params/element.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';
import type { ChunkKeyInfo, ChunkView, PluginContext, SecondarySink } from '../plugin-api.ts';
import { ChunkPlaceholders } from './chunk-placeholders.ts';

export const params = {
  directory: { type: 'string', required: true, desc: 'Directory the dumped chunks are written to (created when missing).' },
  basename: { type: 'string', default: 'dump.bin', desc: 'File name; `.N` is appended unless `append`, `.gz` with `compress gzip`.' },
  append: { type: 'bool', default: false, desc: 'Append every chunk to one file instead of new `.N` files.' },
  compress: { type: 'enum', enum: ['text', 'gzip'], default: 'text', desc: 'gzip: each chunk is one gzip member and the name gets `.gz`.' },
} as const satisfies ParamSchema;

export type SecondaryFileParams = ParamsOf<typeof params>;

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
const PLACEHOLDER = /\$\{(tag(?:\[\d+\])?|[\w.@-]+)\}/g;
// Ruby's `str != Time.now.strftime(str)`: any conversion directive.
const TIME_FORMAT = /%[-_0^#:]*\d*[a-zA-Z%+]/;

export class SecondaryFileOutput implements SecondarySink {
  static readonly type = 'secondary_file';
  readonly #p: SecondaryFileParams;
  readonly #at: ConfigElement;
  readonly #pathWithoutSuffix: string;
  readonly #suffix: string;
  #placeholders: ChunkPlaceholders | undefined;
  lastWrittenPath: string | undefined;

  constructor(element: ConfigElement, ctx: PluginContext) {
    const p = configureParams(params, element, (m) => ctx.log.warn(m));
    this.#p = p;
    this.#at = element;
    if (p.basename.includes('/')) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('basename')?.pos ?? element.pos,
        `basename should not include \`/\` (got '${p.basename}'); put the directories in 'directory'`);
    }
    this.#pathWithoutSuffix = join(p.directory, p.basename);
    this.#suffix = p.compress === 'gzip' ? '.gz' : '';
    if (!writable(p.directory)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('directory')?.pos ?? element.pos,
        `out_secondary_file: \`${p.directory}\` should be writable; create it or give the receiver's user write access`);
    }
  }

  /** acts_as_secondary: the primary's chunk keys decide which placeholders may appear. */
  bind(keys: ChunkKeyInfo): void {
    const path = this.#pathWithoutSuffix;
    const fail = (what: string, fix: string): never => {
      throw new ConfigError('AR_CONF_BAD_VALUE', this.#at.params.get('basename')?.pos ?? this.#at.params.get('directory')?.pos ?? this.#at.pos,
        `out_secondary_file: basename or directory has an incompatible placeholder${what}, remove ${fix} from basename or directory (the primary's <buffer> has no such chunk key)`);
    };
    if (!keys.chunkKeyTime && TIME_FORMAT.test(path)) fail('', 'time formats, like `%Y%m%d`,');
    const found = [...path.matchAll(PLACEHOLDER)].map((m) => m[1]);
    const tag = found.find((ph) => /^tag(\[\d+\])?$/.test(ph));
    if (!keys.chunkKeyTag && tag !== undefined) fail(` \${${tag}}`, 'tag placeholder, like `${tag}`,');
    const bad = found.find((ph) => !/^tag(\[\d+\])?$/.test(ph) && ph !== 'chunk_id' && !keys.recordKeys.includes(ph));
    if (bad !== undefined) fail(` \${${bad}}`, 'variable placeholder, like `${varname}`,');
    this.#placeholders = new ChunkPlaceholders(path, keys);
  }

  async write(chunk: ChunkView): Promise<string> {
    if (!this.#placeholders) throw new Error('BUG: SecondaryFileOutput.bind() was not called');
    const base = this.#placeholders.extract(chunk);
    await mkdir(dirname(base), { recursive: true, mode: DIR_MODE });
    let path = `${base}${this.#suffix}`;
    let fh;
    if (this.#p.append) {
      fh = await open(path, 'a', FILE_MODE);
    } else {
      // generate_path: first free `.N`; the exclusive create keeps parallel flushes apart.
      for (let i = 0; ; i++) {
        path = `${base}.${i}${this.#suffix}`;
        try {
          fh = await open(path, 'wx', FILE_MODE);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
    }
    const out = fh.createWriteStream();
    if (this.#p.compress === 'gzip') await pipeline(chunk.open(), createGzip(), out);
    else await pipeline(chunk.open(), out);
    this.lastWrittenPath = path;
    return path;
  }
}

/** Fluent::FileUtil.writable_p?: the directory, or its nearest existing ancestor, is a writable directory. */
function writable(dir: string): boolean {
  let d = dir;
  for (;;) {
    try {
      const st = statSync(d);
      if (!st.isDirectory()) return false;
      accessSync(d, constants.W_OK);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
    const up = dirname(d);
    if (up === d) return false;
    d = up;
  }
}

/** `<match> @type secondary_file`: Fluentd refuses it outside <secondary>, so do we. */
export class SecondaryFileMatch {
  static readonly type = SecondaryFileOutput.type;

  constructor(element: ConfigElement) {
    throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('@type')?.pos ?? element.pos,
      'This plugin can only be used in the <secondary> section; move `@type secondary_file` into a <secondary> inside the <match> of an s3 or file output');
  }

  emit(): void {}
}
