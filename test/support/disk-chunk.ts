// A ChunkView over real files, standing in for the buffer's chunks in the
// out_s3 tests: the formatted bytes in `<id>.log`, the output-owned
// attributes in `<id>.attrs.json` (write-then-rename, like the buffer's meta).
// `DiskChunk.reopen` reads both back, as a restarted process would.

import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import type { ChunkMetadata, ChunkView } from '../../src/plugin-api.ts';

export class DiskChunk implements ChunkView {
  readonly id: Buffer;
  readonly idHex: string;
  readonly metadata: ChunkMetadata;
  readonly recordCount: number;
  readonly byteSize: number;
  readonly createdAt: number;
  readonly dataPath: string;
  readonly attrPath: string;
  readonly #attributes: Map<string, string>;
  /** How often setAttribute ran (tests check the key was persisted once). */
  attributeWrites = 0;

  private constructor(dir: string, id: Buffer, metadata: ChunkMetadata, recordCount: number, byteSize: number, attributes: Map<string, string>) {
    this.id = id;
    this.idHex = id.toString('hex');
    this.metadata = metadata;
    this.recordCount = recordCount;
    this.byteSize = byteSize;
    this.createdAt = Math.floor(Date.now() / 1000);
    this.dataPath = join(dir, `${this.idHex}.log`);
    this.attrPath = join(dir, `${this.idHex}.attrs.json`);
    this.#attributes = attributes;
  }

  /** A chunk holding `lines` (each already formatted, e.g. JSON + "\n"). */
  static async create(dir: string, metadata: ChunkMetadata, lines: readonly string[], id: Buffer = randomBytes(16)): Promise<DiskChunk> {
    const body = Buffer.from(lines.join(''));
    const chunk = new DiskChunk(dir, id, metadata, lines.length, body.length, new Map());
    await writeFile(chunk.dataPath, body);
    await writeFile(chunk.attrPath, JSON.stringify({ metadata, recordCount: lines.length }));
    return chunk;
  }

  /** A large chunk written line by line (never held in memory at once). */
  static async createLarge(dir: string, metadata: ChunkMetadata, approxBytes: number, line: (i: number) => string): Promise<DiskChunk> {
    const id = randomBytes(16);
    const path = join(dir, `${id.toString('hex')}.log`);
    const out = createWriteStream(path);
    let written = 0;
    let count = 0;
    while (written < approxBytes) {
      const text = line(count++);
      written += Buffer.byteLength(text);
      if (!out.write(text)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const chunk = new DiskChunk(dir, id, metadata, count, (await stat(path)).size, new Map());
    await writeFile(chunk.attrPath, JSON.stringify({ metadata, recordCount: count }));
    return chunk;
  }

  /** The same chunk as a restarted process sees it. */
  static async reopen(dir: string, idHex: string): Promise<DiskChunk> {
    const saved = JSON.parse(await readFile(join(dir, `${idHex}.attrs.json`), 'utf8')) as {
      metadata: ChunkMetadata; recordCount: number; attributes?: Record<string, string>;
    };
    const size = (await stat(join(dir, `${idHex}.log`))).size;
    return new DiskChunk(dir, Buffer.from(idHex, 'hex'), saved.metadata, saved.recordCount, size,
      new Map(Object.entries(saved.attributes ?? {})));
  }

  get formattedFile(): string {
    return this.dataPath;
  }

  open(): Readable {
    return createReadStream(this.dataPath);
  }

  read(): Promise<Buffer> {
    return readFile(this.dataPath);
  }

  attribute(name: string): string | undefined {
    return this.#attributes.get(name);
  }

  async setAttribute(name: string, value: string): Promise<void> {
    this.#attributes.set(name, value);
    this.attributeWrites++;
    const tmp = `${this.attrPath}.tmp`;
    await writeFile(tmp, JSON.stringify({
      metadata: this.metadata, recordCount: this.recordCount, attributes: Object.fromEntries(this.#attributes),
    }));
    await rename(tmp, this.attrPath);
  }

  /** Attributes as stored on disk right now. */
  storedAttributes(): Record<string, string> {
    return (JSON.parse(readFileSync(this.attrPath, 'utf8')) as { attributes?: Record<string, string> }).attributes ?? {};
  }
}
