// The dedup filter's state (src/filter/dedup.ts): the accepted keys in memory,
// Map key → accepted-at (ms) in insertion order, so the oldest entry is always
// first, and an append-only journal `<path>/keys.log`, one line per key:
// `<ms> <JSON string>\n`.
//
// Bounds: at most `maxKeys` live keys (the oldest is evicted first) and none
// older than the window; the journal is rewritten (temp file + rename) when it
// holds more than twice the live keys, so memory and disk stay O(maxKeys).
//
// Durability: `record` is called only after the buffer acknowledged the events
// (the router's commit step). The lines are written with one write(2) before it
// returns; with `fsync` (the buffer's, by default) a datasync follows, shared by
// every record call waiting at that moment (group commit). At open, a torn last
// line (a crash in the middle of a write) is dropped, expired lines skipped, and
// the journal compacted.

import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DedupError } from './errors.ts';

export interface JournalOptions {
  readonly dir: string;
  readonly windowMs: number;
  readonly maxKeys: number;
  fsync: boolean;
}

export interface ReplayResult {
  readonly live: number;
  readonly expired: number;
  readonly torn: number;
}

/** Below this many lines the journal is never compacted (tiny sets would rewrite all the time). */
const MIN_COMPACT_LINES = 1024;
export const JOURNAL_FILE = 'keys.log';

export class KeyJournal {
  readonly #opts: JournalOptions;
  readonly #file: string;
  readonly #keys = new Map<string, number>();
  #fd = -1;
  #lines = 0;
  #written = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;
  #compactDue = false;

  constructor(opts: JournalOptions) {
    this.#opts = { ...opts };
    this.#file = join(opts.dir, JOURNAL_FILE);
  }

  /** Set before open (the filter follows its output's buffer). */
  get fsync(): boolean {
    return this.#opts.fsync;
  }

  set fsync(on: boolean) {
    this.#opts.fsync = on;
  }

  get size(): number {
    return this.#keys.size;
  }

  get journalLines(): number {
    return this.#lines;
  }

  /** Replays the journal (creating the directory), then compacts it. */
  open(now: number): ReplayResult {
    try {
      mkdirSync(this.#opts.dir, { recursive: true });
    } catch (err) {
      throw new DedupError('AR_FILTER_DEDUP_STATE', `cannot create the dedup directory ${this.#opts.dir}: ${(err as Error).message}; fix its permissions or choose another path`, { cause: err });
    }
    let text = '';
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new DedupError('AR_FILTER_DEDUP_STATE', `cannot read ${this.#file}: ${(err as Error).message}`, { cause: err });
      }
    }
    const end = text.lastIndexOf('\n') + 1;
    let expired = 0;
    let torn = end < text.length ? 1 : 0;
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      const entry = parseLine(line);
      if (entry === undefined) torn += 1;
      else if (now - entry.at >= this.#opts.windowMs) expired += 1;
      else this.#put(entry.key, entry.at);
    }
    this.#compact();
    return { live: this.#keys.size, expired, torn };
  }

  /** True when `key` was accepted less than the window ago. */
  has(key: string, now: number): boolean {
    const at = this.#keys.get(key);
    if (at === undefined) return false;
    if (now - at < this.#opts.windowMs) return true;
    this.#keys.delete(key);
    return false;
  }

  /** Remembers `keys` (accepted at `now`): written at once, durable (per fsync) when it resolves. */
  record(keys: readonly string[], now: number): Promise<void> | undefined {
    if (keys.length === 0) return undefined;
    if (this.#fd < 0) throw new DedupError('AR_FILTER_DEDUP_STATE', 'the dedup journal is closed');
    let text = '';
    for (const k of keys) text += `${now} ${JSON.stringify(k)}\n`;
    const bytes = Buffer.from(text);
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(this.#fd, bytes, off, bytes.length - off);
    } catch (err) {
      throw new DedupError('AR_FILTER_DEDUP_STATE', `cannot append to ${this.#file}: ${(err as Error).message}`, { cause: err });
    }
    for (const k of keys) this.#put(k, now);
    this.#pruneExpired(now);
    this.#lines += keys.length;
    this.#written += 1;
    if (this.#lines > Math.max(MIN_COMPACT_LINES, 2 * this.#keys.size)) {
      if (this.#syncing) this.#compactDue = true;
      else this.#compact();
    }
    return this.#opts.fsync ? this.#durable(this.#written) : undefined;
  }

  async close(): Promise<void> {
    await this.#syncing?.catch(() => {});
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }

  #put(key: string, at: number): void {
    this.#keys.delete(key);
    this.#keys.set(key, at);
    while (this.#keys.size > this.#opts.maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
  }

  #pruneExpired(now: number): void {
    for (const [key, at] of this.#keys) {
      if (now - at < this.#opts.windowMs) break;
      this.#keys.delete(key);
    }
  }

  async #durable(generation: number): Promise<void> {
    while (this.#synced < generation) {
      this.#syncing ??= this.#runSync();
      await this.#syncing;
    }
  }

  async #runSync(): Promise<void> {
    const upTo = this.#written;
    try {
      await new Promise<void>((resolve, reject) => fdatasync(this.#fd, (err) => (err ? reject(err) : resolve())));
      this.#synced = Math.max(this.#synced, upTo);
    } catch (err) {
      throw new DedupError('AR_FILTER_DEDUP_STATE', `cannot fsync ${this.#file}: ${(err as Error).message}`, { cause: err });
    } finally {
      this.#syncing = undefined;
      if (this.#compactDue) this.#compact();
    }
  }

  /** Rewrites the journal with the live keys only (temp file, fsync, rename), then reopens it. */
  #compact(): void {
    this.#compactDue = false;
    const tmp = `${this.#file}.tmp`;
    const parts: string[] = [];
    for (const [key, at] of this.#keys) parts.push(`${at} ${JSON.stringify(key)}\n`);
    try {
      writeFileSync(tmp, parts.join(''), { mode: 0o640 });
      if (this.#opts.fsync) syncPath(tmp);
      renameSync(tmp, this.#file);
      if (this.#opts.fsync) syncPath(this.#opts.dir);
      if (this.#fd >= 0) closeSync(this.#fd);
      this.#fd = openSync(this.#file, 'a');
    } catch (err) {
      throw new DedupError('AR_FILTER_DEDUP_STATE', `cannot rewrite ${this.#file}: ${(err as Error).message}; check the disk and the directory permissions`, { cause: err });
    }
    this.#lines = this.#keys.size;
    this.#synced = this.#written; // everything written so far is in the renamed file
  }
}

function parseLine(line: string): { at: number; key: string } | undefined {
  const sp = line.indexOf(' ');
  if (sp <= 0) return undefined;
  const at = Number(line.slice(0, sp));
  if (!Number.isFinite(at)) return undefined;
  try {
    const key: unknown = JSON.parse(line.slice(sp + 1));
    return typeof key === 'string' ? { at, key } : undefined;
  } catch {
    return undefined;
  }
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
