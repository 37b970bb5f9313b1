// The handler's state directory, byte-compatible with upstream's diskv store
// (docs/compatibility-event-handler.md §5): `<storage>/<host>_<port>/` with one file per key:
// start_time and window_time (RFC 3339 seconds), cursor, id, session<sid> (8-byte big-endian
// uint64), missing_recording<sid> (JSON), and ours: given_up_session<sid> (JSON). Unlike diskv, every write goes to a temp file that is
// renamed over the key, so a kill -9 leaves either the old or the new value, never half of one.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { readdir, rename, rm, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ExporterError } from '../errors.ts';

export interface MissingRecording {
  readonly index: number;
  readonly attempt: number;
  readonly uploadTime?: Date;
}

export interface GivenUpSession {
  readonly index: number;
  readonly attempts: number;
  readonly error: string;
  readonly givenUpAt: Date;
}

/** Go's time.RFC3339 with whole seconds in UTC: 2006-01-02T15:04:05Z. */
export function rfc3339Seconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `host:port` → `host_port` (net.SplitHostPort; a missing port is an error upstream too). */
export function stateDirName(addr: string): string {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(addr);
  if (m === null) throw new ExporterError('AR_EXPORTER_CONFIG', `teleport addr ${JSON.stringify(addr)} has no port; write host:port, e.g. teleport.example.com:443`);
  return `${m[1]}_${m[2]}`;
}

export class StateStore {
  readonly dir: string;
  #tmpSeq = 0;
  readonly #tmpPrefix = '.tmp-' + randomBytes(4).toString('hex') + '-';

  /** Opens (creating with 0755) the directory; `dryRun` uses upstream's random `dry_run/<32 chars>` subdir. */
  constructor(storage: string, addr: string, dryRun = false) {
    let dir = join(storage, stateDirName(addr));
    if (dryRun) dir = join(dir, 'dry_run', randomBytes(16).toString('hex'));
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new ExporterError('AR_EXPORTER_STATE', `cannot create storage directory ${dir} (${(err as Error).message})`, { cause: err });
    }
    this.dir = dir;
    // Left-over temp files of a killed run.
    for (const f of readdirSync(dir)) if (f.startsWith('.tmp-')) rmSync(join(dir, f), { force: true });
  }

  #readSync(key: string): Buffer | undefined {
    try {
      return readFileSync(join(this.dir, key));
    } catch {
      return undefined;
    }
  }

  #writeSync(key: string, value: string | Buffer): void {
    const tmp = join(this.dir, this.#tmpPrefix + this.#tmpSeq++);
    writeFileSync(tmp, value);
    renameSync(tmp, join(this.dir, key));
  }

  async #write(key: string, value: string | Buffer): Promise<void> {
    const tmp = join(this.dir, this.#tmpPrefix + this.#tmpSeq++);
    await writeFile(tmp, value);
    await rename(tmp, join(this.dir, key));
  }

  /**
   * state.go: the first run stores `--start-time` (or now); a later, different one is refused
   * with upstream's message. Returns the start time in force.
   */
  initStartTime(flag: Date | undefined, now = new Date()): Date {
    const stored = this.#readSync('start_time')?.toString('utf8').trim();
    if (stored !== undefined && stored !== '') {
      const storedDate = new Date(stored);
      if (flag !== undefined && flag.getTime() !== storedDate.getTime()) {
        throw new ExporterError(
          'AR_EXPORTER_START_TIME_CHANGED',
          `You can not change start time in the middle of ingestion. To restart the ingestion, rm -rf ${this.dir} ` +
            `(stored start time ${stored}, --start-time ${rfc3339Seconds(flag)})`,
        );
      }
      return storedDate;
    }
    const start = flag ?? new Date(Math.floor(now.getTime() / 1000) * 1000);
    this.#writeSync('start_time', rfc3339Seconds(start));
    return start;
  }

  getWindowTime(): Date | undefined {
    const v = this.#readSync('window_time')?.toString('utf8').trim();
    return v ? new Date(v) : undefined;
  }

  getCursor(): string {
    return this.#readSync('cursor')?.toString('utf8') ?? '';
  }

  getId(): string {
    return this.#readSync('id')?.toString('utf8') ?? '';
  }

  /** What setLegacyPosition last put on disk (read from the files on first use). */
  #legacy: { window: string; cursor: string; id: string } | undefined;

  /**
   * Saves the window/page path's position in upstream's three separate keys. Each file is atomic
   * but the three are not, so the writes are ordered so that every state a kill -9 can leave
   * between them resumes without a skip and re-sends no more than what was committed since the
   * previous save (LegacyWatcher resumes by looking for `id` from `cursor` forward):
   * - same window: `id`, then `cursor` — (W, old cursor, new id): the id is found a page on;
   * - new window: `cursor` = '', `window_time`, `id`, `cursor` — never a cursor of one window
   *   paired with another window (that start_key would skip into the new window's results);
   *   (W0, '', old id) finds the old id; (W1, '', old id) finds nothing and re-sends W1 from its
   *   start, every event of which was committed since the previous save.
   */
  async setLegacyPosition(windowTime: Date, cursor: string, id: string): Promise<void> {
    const prev = (this.#legacy ??= { window: this.#readSync('window_time')?.toString('utf8').trim() ?? '', cursor: this.getCursor(), id: this.getId() });
    const window = rfc3339Seconds(windowTime);
    if (window !== prev.window) {
      if (prev.cursor !== '') {
        await this.#write('cursor', '');
        prev.cursor = '';
      }
      await this.#write('window_time', window);
      prev.window = window;
    }
    if (id !== prev.id) {
      await this.#write('id', id);
      prev.id = id;
    }
    if (cursor !== prev.cursor) {
      await this.#write('cursor', cursor);
      prev.cursor = cursor;
    }
  }

  /** `session<sid>` keys with their saved index (empty file = 0). */
  getSessions(): Map<string, number> {
    const out = new Map<string, number>();
    for (const f of readdirSync(this.dir)) {
      if (!f.startsWith('session') || f.length === 'session'.length) continue;
      const buf = this.#readSync(f);
      if (buf === undefined) continue;
      out.set(f.slice('session'.length), buf.length >= 8 ? Number(buf.readBigUInt64BE(0)) : 0);
    }
    return out;
  }

  async setSessionIndex(sid: string, index: number): Promise<void> {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64BE(BigInt(index));
    await this.#write('session' + sid, buf);
  }

  async removeSession(sid: string): Promise<void> {
    await rm(join(this.dir, 'session' + sid), { force: true });
  }

  async setMissingRecording(sid: string, m: MissingRecording): Promise<void> {
    // Go's json.Marshal of struct{Index int64; Attempt int; Timestamp time.Time} (RFC3339Nano).
    const ts = m.uploadTime === undefined ? '0001-01-01T00:00:00Z' : m.uploadTime.toISOString().replace(/\.?0*Z$/, 'Z');
    await this.#write('missing_recording' + sid, JSON.stringify({ Index: m.index, Attempt: m.attempt, Timestamp: ts }));
  }

  /** `given_up_session<sid>` (ours): a recording whose stream failed too often, for the operator. */
  async setGivenUpSession(sid: string, g: GivenUpSession): Promise<void> {
    await this.#write('given_up_session' + sid, JSON.stringify({ index: g.index, attempts: g.attempts, error: g.error, givenUpAt: g.givenUpAt.toISOString() }) + '\n');
  }

  async getGivenUpSessions(): Promise<Map<string, GivenUpSession>> {
    const out = new Map<string, GivenUpSession>();
    for (const f of await readdir(this.dir)) {
      if (!f.startsWith('given_up_session')) continue;
      try {
        const v = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as { index: number; attempts: number; error: string; givenUpAt: string };
        out.set(f.slice('given_up_session'.length), { index: v.index, attempts: v.attempts, error: v.error, givenUpAt: new Date(v.givenUpAt) });
      } catch {
        // written by hand or cut short: it is only a record for the operator
      }
    }
    return out;
  }

  async removeMissingRecording(sid: string): Promise<void> {
    await rm(join(this.dir, 'missing_recording' + sid), { force: true });
  }

  async getMissingRecordings(): Promise<Map<string, MissingRecording>> {
    const out = new Map<string, MissingRecording>();
    for (const f of await readdir(this.dir)) {
      if (!f.startsWith('missing_recording')) continue;
      try {
        const v = JSON.parse(await readFile(join(this.dir, f), 'utf8')) as { Index?: number; Attempt?: number; Timestamp?: string };
        const t = v.Timestamp && !v.Timestamp.startsWith('0001-') ? new Date(v.Timestamp) : undefined;
        out.set(f.slice('missing_recording'.length), { index: v.Index ?? 0, attempt: v.Attempt ?? 0, uploadTime: t });
      } catch {
        // unreadable entry: upstream's IterateMissingRecordings fails on it too; skip it
      }
    }
    return out;
  }

  get cursorV2Dir(): string {
    return join(this.dir, 'cursor_v2');
  }

  hasCursorV2(): boolean {
    if (!existsSync(this.cursorV2Dir)) return false;
    return readdirSync(this.cursorV2Dir).some((d) => /^\d{4}-\d{2}-\d{2}$/.test(d));
  }
}

/**
 * Runs the newest of the tasks handed to it, one at a time: position saves queue up faster
 * than the disk takes them, and only the latest position matters.
 */
export class LatestWins {
  #running: Promise<void> | undefined;
  #pending: (() => Promise<void>) | undefined;
  #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void) {
    this.#onError = onError;
  }

  schedule(task: () => Promise<void>): void {
    this.#pending = task;
    this.#running ??= this.#loop();
  }

  async #loop(): Promise<void> {
    while (this.#pending !== undefined) {
      const t = this.#pending;
      this.#pending = undefined;
      try {
        await t();
      } catch (err) {
        this.#onError(err);
      }
    }
    this.#running = undefined;
  }

  /** Resolves once everything scheduled so far is on disk. */
  async idle(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  /** Drops a scheduled task that has not started. */
  cancelPending(): void {
    this.#pending = undefined;
  }
}
