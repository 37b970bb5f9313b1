// buf_file (lib/fluent/plugin/buf_file.rb, docs/compatibility.md §8): path resolution,
// chunk creation and resume of `buffer.b*` (staged) / `buffer.q*` (queued)
// files, our own or a real Fluentd's (same layout).

import { existsSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, readFile, rename, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ChunkMetadata } from '../plugin-api.ts';
import type { SourcePos } from '../params/element.ts';
import type { BufferChunk } from './chunk.ts';
import { chunkStateFromPath, generateChunkId } from './chunk-id.ts';
import { FileChunk, type FileChunkOptions } from './file-chunk.ts';
import { removeFile } from './remove-file.ts';
import { decodeMeta, type ChunkMeta } from './meta.ts';
import { ConfigError } from '../params/errors.ts';
import { bufferPathError, checkBufferPath, type BufferPathTarget } from './path-check.ts';
import { metadataKeyOf, safeOwnerId, type BackupLocation, type ChunkStorage, type ResumedChunks } from './storage.ts';
import { errorFields } from '../log.ts';

export interface FileBufferOptions extends FileChunkOptions {
  /** `path` as configured (directory, or pattern with `.*`). */
  readonly path: string;
  readonly pathSuffix: string;
  readonly dirMode: number;
  readonly backup: BackupLocation;
  /** The `path` line, for the one-line error when the directory is unusable (path-check.ts). */
  readonly where?: SourcePos;
  /** This worker's id when the owner sees workers > 1: chunks go to `<path>/worker<N>/`. */
  readonly multiWorkerId?: number;
}

/**
 * buf_file#configure: an existing directory, or a path that does not exist and
 * has no `.*`, is a directory holding `buffer.*<suffix>`; otherwise the path
 * is the pattern (`.*.` kept, trailing `.*` gets the suffix, else `.*<suffix>`).
 * Runs at configure time, so the sync stat is allowed.
 */
export function resolveBufferPattern(path: string, pathSuffix: string, multiWorkerId?: number, where?: SourcePos): string {
  const isDir = existsSync(path) ? statSync(path).isDirectory() : !path.includes('.*');
  if (isDir) return join(path, ...(multiWorkerId === undefined ? [] : [`worker${multiWorkerId}`]), `buffer.*${pathSuffix}`);
  if (multiWorkerId !== undefined) {
    // buf_file.rb multi_workers_ready? logs this, then plugin.rb raises the ConfigError.
    throw new ConfigError('AR_CONF_WORKERS', where,
      "Plugin 'file' does not support multi workers configuration (Fluent::Plugin::FileBuffer): " +
      "file buffer with multi workers should be configured to use directory 'path', or system root_dir and plugin id");
  }
  const base = basename(path);
  if (base.includes('.*.')) return path;
  if (base.endsWith('.*')) return path + pathSuffix;
  return `${path}.*${pathSuffix}`;
}

export class FileBuffer implements ChunkStorage {
  readonly persistent = true;
  readonly pattern: string;
  readonly location: string;
  readonly #opts: FileBufferOptions;
  readonly #log: Logger;
  readonly #prefix: string;
  readonly #suffix: string;
  readonly #matcher: RegExp;
  readonly #extraResumeDir: string | undefined;

  constructor(opts: FileBufferOptions, log: Logger) {
    this.#opts = { ...opts, log };
    this.#log = log;
    this.pattern = resolveBufferPattern(opts.path, opts.pathSuffix, opts.multiWorkerId, opts.where);
    // buf_file.rb: worker 0 also resumes `<path>/buffer.*` (chunks of a run with workers 1).
    if (opts.multiWorkerId === 0) this.#extraResumeDir = dirname(dirname(this.pattern));
    this.location = dirname(this.pattern);
    // FileChunk.generate_stage_chunk_path splits the pattern at `.*.`.
    const pos = this.pattern.indexOf('.*.');
    this.#prefix = this.pattern.slice(0, pos);
    this.#suffix = this.pattern.slice(pos + 3);
    const base = basename(this.pattern);
    this.#matcher = new RegExp('^' + base.split('*').map(escapeRegExp).join('.*') + '$');
    checkBufferPath(this.#target());
  }

  #target(): BufferPathTarget {
    return { path: this.#opts.path, dir: dirname(this.pattern), where: this.#opts.where };
  }

  createChunk(metadata: ChunkMetadata, metadataKey: string): BufferChunk {
    const id = generateChunkId();
    const path = `${this.#prefix}.b${id.toString('hex')}.${this.#suffix}`;
    return new FileChunk(id, metadata, metadataKey, path, Math.floor(Date.now() / 1000), this.#opts);
  }

  async start(): Promise<ResumedChunks> {
    const dir = dirname(this.pattern);
    const dirs = this.#extraResumeDir === undefined ? [dir] : [dir, this.#extraResumeDir];
    const found: string[] = [];
    try {
      await mkdir(dir, { recursive: true, mode: this.#opts.dirMode });
      for (const d of dirs) found.push(...(await readdir(d)).sort().map((name) => join(d, name)));
    } catch (err) {
      throw bufferPathError(this.#target(), dir, err) ?? err;
    }
    const staged: FileChunk[] = [];
    const queued: FileChunk[] = [];
    const broken: string[] = [];
    for (const path of found) {
      const name = basename(path);
      if (!this.#matcher.test(name)) continue;
      const info = chunkStateFromPath(path);
      if (!info) {
        this.#log.debug({ path }, 'unknown state chunk found');
        continue;
      }
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      this.#log.debug(`restoring buffer file: path = ${path}`);
      try {
        const chunk = await this.#restore(path, info.state, info.idHex, st.size, st);
        if (!chunk) continue;
        (chunk.state === 'staged' ? staged : queued).push(chunk);
      } catch (err) {
        broken.push(path);
        await this.#handleBroken(path, info.state, info.idHex, (err as Error).message);
      }
    }
    queued.sort((a, b) => a.modifiedAt - b.modifiedAt);
    for (const d of dirs) await this.#removeOrphans(d);
    if (broken.length > 0) {
      this.#log.info('Since a broken chunk file was found, it is possible that other files remaining at the time of resuming were also broken. Here is the list of the files.');
      for (const c of [...staged, ...queued]) {
        this.#log.info({ created_at: c.createdAt, modified_at: c.modifiedAt }, `  ${c.path}:`);
      }
    }
    return { staged, queued };
  }

  async evacuate(chunk: BufferChunk): Promise<void> {
    if (!(chunk instanceof FileChunk)) return;
    const dir = join(this.#opts.backup.baseDir, 'buffer', safeOwnerId(this.#opts.backup.ownerId));
    try {
      await mkdir(dir, { recursive: true, mode: this.#opts.dirMode });
      await chunk.copyTo(dir, basename);
      this.#log.warn({ chunk_id: chunk.idHex }, `chunk files are evacuated to ${dir}.`);
    } catch (err) {
      this.#log.error(errorFields(err), 'unexpected error while evacuating chunk files.');
    }
  }

  async #restore(path: string, state: 'staged' | 'queued', idHex: string, size: number, st: { ctimeMs: number; mtimeMs: number }): Promise<FileChunk | undefined> {
    const metaPath = path + '.meta';
    let meta: ChunkMeta | undefined;
    const bin = await readFile(metaPath).catch(() => undefined);
    if (bin === undefined && state === 'queued') {
      // Died between the data and the meta rename of an enqueue: the meta is
      // still under the staged name.
      const stagedMeta = path.replace(`.q${idHex}.`, `.b${idHex}.`) + '.meta';
      const alt = await readFile(stagedMeta).catch(() => undefined);
      if (alt !== undefined) {
        await rename(stagedMeta, metaPath);
        meta = this.#decode(alt, state);
      }
    } else if (bin !== undefined) {
      meta = this.#decode(bin, state);
    }
    if (meta === undefined) {
      // A classic (v0.12) chunk or one without meta: read-only, queued, metadata unknown
      // (FileChunk#restore_metadata_partially).
      if (size === 0) throw new Error(`${state === 'staged' ? 'staged' : 'enqueued'} file chunk is empty`);
      const partial: ChunkMeta = {
        metadata: {},
        id: Buffer.from(idHex, 'hex'),
        records: 0,
        createdAt: Math.floor(st.ctimeMs / 1000),
        modifiedAt: Math.floor(st.mtimeMs / 1000),
        committedBytes: size,
        attributes: {},
      };
      return FileChunk.restored(path, 'queued', partial, metadataKeyOf(partial.metadata), size, this.#opts);
    }
    if (meta.lineRecords) {
      // The data file is the record of what was committed (file-chunk.ts header):
      // keep every complete line, cut a torn last one.
      const lines = await scanLines(path);
      if (lines.bytes === 0) {
        await removeFile(path, this.#log, 'resume: dropping an empty chunk');
        await removeFile(metaPath, this.#log, 'resume: dropping an empty chunk');
        return undefined;
      }
      if (size > lines.bytes) {
        this.#log.warn({ path, committed: lines.bytes, size }, 'cutting uncommitted tail of buffer chunk');
        await truncate(path, lines.bytes);
      }
      const exact: ChunkMeta = { ...meta, records: lines.records, committedBytes: lines.bytes };
      return FileChunk.restored(path, state, exact, metadataKeyOf(meta.metadata), lines.bytes, this.#opts);
    }
    const committed = meta.committedBytes ?? size; // a real Fluentd's chunk: trust the file
    if (meta.committedBytes === 0 && meta.records === 0) {
      // Created, nothing ever committed (nothing acknowledged): drop quietly.
      await removeFile(path, this.#log, 'resume: dropping a chunk with nothing committed');
      await removeFile(metaPath, this.#log, 'resume: dropping a chunk with nothing committed');
      return undefined;
    }
    if (size === 0) throw new Error(`${state === 'staged' ? 'staged' : 'enqueued'} file chunk is empty`);
    if (size < committed) throw new Error(`file chunk holds ${size} bytes but its meta committed ${committed}`);
    if (size > committed) {
      // Torn tail: bytes written after the last committed meta were never acknowledged.
      this.#log.warn({ path, committed, size }, 'cutting uncommitted tail of buffer chunk');
      await truncate(path, committed);
    }
    return FileChunk.restored(path, state, meta, metadataKeyOf(meta.metadata), committed, this.#opts);
  }

  /**
   * A kill -9 between two file operations can leave a `.meta` without its
   * data file (after the meta-first create of a chunk, or between the two
   * unlinks of a purge) or a `.meta.tmp` of an interrupted meta rewrite.
   * None holds an acknowledged byte (the data file would exist), and the
   * resume pattern never matches them, so without this they pile up in
   * `path` forever. Runs after the restore pass, which has already moved a
   * staged-named meta next to its queued data file.
   */
  async #removeOrphans(dir: string): Promise<void> {
    const names = await readdir(dir);
    const present = new Set(names);
    for (const name of names) {
      const isTmp = name.endsWith('.meta.tmp');
      if (!isTmp && !name.endsWith('.meta')) continue;
      const dataName = name.slice(0, name.length - (isTmp ? '.meta.tmp'.length : '.meta'.length));
      if (!this.#matcher.test(dataName) || !chunkStateFromPath(join(dir, dataName))) continue;
      if (!isTmp && present.has(dataName)) continue;
      this.#log.debug({ path: join(dir, name) }, 'removing chunk meta file left without its data file');
      await removeFile(join(dir, name), this.#log, 'resume: removing an orphan meta file');
    }
  }

  #decode(bin: Buffer, state: 'staged' | 'queued'): ChunkMeta {
    try {
      return decodeMeta(bin);
    } catch (err) {
      throw new Error(`${state === 'staged' ? 'staged' : 'enqueued'} meta file is broken. ${(err as Error).message}`);
    }
  }

  /** buf_file#handle_broken_files: log, copy the data to the backup dir, delete both files. */
  async #handleBroken(path: string, state: 'staged' | 'queued', idHex: string, message: string): Promise<void> {
    this.#log.error({ path, mode: state, err_msg: message }, 'found broken chunk file during resume.');
    const b = this.#opts.backup;
    const file = join(b.baseDir, 'backup', `worker${b.workerId}`, safeOwnerId(b.ownerId), `${idHex}.log`);
    try {
      this.#log.warn(`bad chunk is moved to ${file}`);
      await mkdir(dirname(file), { recursive: true, mode: this.#opts.dirMode });
      await appendCopy(path, file);
    } catch (err) {
      this.#log.error({ err_msg: (err as Error).message }, 'backup failed. Delete corresponding files.');
    } finally {
      await removeFile(path, this.#log, 'resume: removing a broken chunk');
      await removeFile(path + '.meta', this.#log, 'resume: removing a broken chunk');
    }
  }
}

async function appendCopy(from: string, to: string): Promise<void> {
  const exists = await stat(to).then(() => true, () => false);
  if (!exists) return copyFile(from, to);
  const data = await readFile(from);
  const fh = await open(to, 'a', 0o644);
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Bytes up to and including the last `\n`, and the number of `\n`, of a data file. */
async function scanLines(path: string): Promise<{ bytes: number; records: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let offset = 0;
    let bytes = 0;
    let records = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
      if (bytesRead === 0) break;
      let at = buf.indexOf(10);
      while (at >= 0 && at < bytesRead) {
        records++;
        bytes = offset + at + 1;
        at = buf.indexOf(10, at + 1);
      }
      offset += bytesRead;
    }
    return { bytes, records };
  } finally {
    await fh.close();
  }
}
