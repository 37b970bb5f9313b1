// The bulk-export path's `cursor_v2/` directory in upstream's layout
// (docs/compatibility-event-handler.md §5.1): one `YYYY-MM-DD` dir per UTC date holding `completed-chunks`
// (chunk IDs, one a line, appended and fsynced) and `<chunk>.chunk` (the raw cursor of a
// partially exported chunk). Partial cursors are written temp + rename here (upstream writes
// them in place), so a kill -9 never leaves a torn cursor.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, open, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface DateState {
  readonly completed: Set<string>;
  /** chunk → cursor of the last event answered 200. */
  readonly partial: Map<string, string>;
}

export type CursorV2State = Map<string, DateState>;

const DATE_DIR = /^\d{4}-\d{2}-\d{2}$/;

export function dateKey(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** loadInitialState: every YYYY-MM-DD subdir; other entries ignored. */
export function loadCursorV2(dir: string): CursorV2State {
  const state: CursorV2State = new Map();
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return state;
  }
  for (const d of entries.sort()) {
    if (!DATE_DIR.test(d) || !statSync(join(dir, d)).isDirectory()) continue;
    const ds: DateState = { completed: new Set(), partial: new Map() };
    for (const f of readdirSync(join(dir, d))) {
      const path = join(dir, d, f);
      if (f === 'completed-chunks') {
        for (const c of readFileSync(path, 'utf8').split(/\s+/)) if (c !== '') ds.completed.add(c);
      } else if (f.endsWith('.chunk') && statSync(path).isFile()) {
        const cursor = readFileSync(path, 'utf8').trim();
        if (cursor !== '') ds.partial.set(f.slice(0, -'.chunk'.length), cursor);
      }
    }
    for (const c of ds.completed) ds.partial.delete(c);
    state.set(d, ds);
  }
  return state;
}

/** Cursor.Sync: writes the difference between what is on disk and `next`. */
export class CursorV2Writer {
  readonly dir: string;
  readonly #disk: CursorV2State;

  constructor(dir: string, onDisk: CursorV2State) {
    this.dir = dir;
    this.#disk = new Map([...onDisk].map(([d, s]) => [d, { completed: new Set(s.completed), partial: new Map(s.partial) }]));
  }

  async sync(next: CursorV2State): Promise<void> {
    for (const [date, ds] of next) {
      const dateDir = join(this.dir, date);
      let disk = this.#disk.get(date);
      if (disk === undefined) {
        await mkdir(dateDir, { recursive: true, mode: 0o750 });
        disk = { completed: new Set(), partial: new Map() };
        this.#disk.set(date, disk);
      }
      const newlyCompleted = [...ds.completed].filter((c) => !disk.completed.has(c));
      if (newlyCompleted.length > 0) {
        const path = join(dateDir, 'completed-chunks');
        await appendFile(path, newlyCompleted.map((c) => c + '\n').join(''), { mode: 0o644 });
        const fh = await open(path, 'r+');
        await fh.sync();
        await fh.close();
        for (const c of newlyCompleted) {
          disk.completed.add(c);
          disk.partial.delete(c);
          await rm(join(dateDir, c + '.chunk'), { force: true });
        }
      }
      for (const [chunk, cursor] of ds.partial) {
        if (ds.completed.has(chunk) || disk.partial.get(chunk) === cursor) continue;
        const tmp = join(dateDir, `.${chunk}.chunk.tmp`);
        await writeFile(tmp, cursor, { mode: 0o644 });
        await rename(tmp, join(dateDir, chunk + '.chunk'));
        disk.partial.set(chunk, cursor);
      }
    }
    for (const date of [...this.#disk.keys()]) {
      if (next.has(date)) continue;
      await rm(join(this.dir, date), { recursive: true, force: true });
      this.#disk.delete(date);
    }
  }
}
