// The window/page path (legacy_events_watcher.go; docs/compatibility-event-handler.md §4.2 point 3):
// [window_time, now) cut into `window-size` windows; GetUnstructuredEvents ascending with
// `limit = batch`, `types` server-side and `start_key` paging; events up to and including the
// last exported `id` in a page are skipped; a complete past window with nothing new moves the
// window start on; nothing new at all → pause `timeout` (or stop with exit-on-last-event).
// Position saved = (window_time, cursor = the start_key of the event's page, id), upstream's keys.
// Resume: upstream only looks for `id` in the page at `cursor`; we also page forward through the
// saved window (fetching, not sending) to find it, so a kill between the separate key files
// (see StateStore.setLegacyPosition for their order) neither skips nor re-sends a page.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { TeleportClient } from '../teleport/teleport-client.ts';
import type { AuditDispatch } from './audit-dispatch.ts';
import type { EventsUnstructured, EventUnstructured } from '../teleport/grpc-service.ts';

export interface LegacyPosition {
  readonly windowMs: number;
  readonly cursor: string;
  readonly id: string;
}

export interface LegacyOptions {
  readonly startMs: number;
  readonly windowSizeMs: number;
  readonly batch: number;
  readonly types: readonly string[];
  readonly timeoutMs: number;
  readonly exitOnLastEvent: boolean;
  readonly retryMs?: number;
}

interface Page {
  readonly items: EventUnstructured[];
  readonly windowMs: number;
  readonly endMs: number;
  readonly pageKey: string;
  readonly nextKey: string;
}

/** The next page of a window, asked for while the current one is being sent. */
interface Ahead {
  readonly windowMs: number;
  readonly startKey: string;
  readonly res: Promise<EventsUnstructured>;
}

export class LegacyWatcher {
  readonly #client: () => TeleportClient;
  readonly #dispatch: AuditDispatch<LegacyPosition>;
  readonly #opts: LegacyOptions;
  readonly #log: Logger;
  readonly #stop: AbortSignal;
  #windowMs: number;
  #cursor: string;
  #id: string;
  #ahead: Ahead | undefined;

  constructor(client: () => TeleportClient, dispatch: AuditDispatch<LegacyPosition>, saved: { windowTime?: Date; cursor: string; id: string }, opts: LegacyOptions, log: Logger, stop: AbortSignal) {
    this.#client = client;
    this.#dispatch = dispatch;
    this.#opts = opts;
    this.#log = log;
    this.#stop = stop;
    this.#windowMs = saved.windowTime?.getTime() ?? opts.startMs;
    this.#cursor = saved.cursor;
    this.#id = saved.id;
  }

  async #fetch(): Promise<Page | undefined> {
    const now = Date.now();
    for (let ws = this.#windowMs; ws < now; ws += this.#opts.windowSizeMs) {
      const we = Math.min(ws + this.#opts.windowSizeMs, now);
      const ahead = this.#ahead;
      this.#ahead = undefined;
      const res = await (ahead !== undefined && ahead.windowMs === ws && ahead.startKey === this.#cursor
        ? ahead.res
        : this.#client().getUnstructuredEvents({ startMs: ws, endMs: we, types: this.#opts.types, limit: this.#opts.batch, startKey: this.#cursor }));
      let pos = 0;
      if (this.#id !== '') for (let i = 0; i < res.items.length; i++) if (res.items[i].id === this.#id) pos = i + 1;
      const items = res.items.slice(pos);
      if (items.length > 0 || res.lastKey !== '') return { items, windowMs: ws, endMs: we, pageKey: this.#cursor, nextKey: res.lastKey };
      // Nothing new and the set is complete: a past window is done for good.
      if (ws + this.#opts.windowSizeMs <= now) {
        this.#windowMs = ws + this.#opts.windowSizeMs;
        this.#cursor = '';
        await this.#dispatch.mark({ windowMs: this.#windowMs, cursor: '', id: this.#id });
        continue;
      }
      return undefined;
    }
    return undefined;
  }

  /**
   * Moves the cursor to the page of the window that holds the saved `id`, if a page at or after
   * the saved cursor holds it; otherwise leaves it (the page is then sent from its start).
   */
  async #findSavedId(): Promise<void> {
    if (this.#id === '') return;
    const ws = this.#windowMs;
    const we = Math.min(ws + this.#opts.windowSizeMs, Date.now());
    let key = this.#cursor;
    for (;;) {
      if (this.#stop.aborted) return;
      const res = await this.#client().getUnstructuredEvents({ startMs: ws, endMs: we, types: this.#opts.types, limit: this.#opts.batch, startKey: key });
      if (res.items.some((e) => e.id === this.#id)) {
        if (key !== this.#cursor) this.#log.info({ cursor: key }, 'Resuming at the page holding the last exported event');
        this.#cursor = key;
        return;
      }
      if (res.lastKey === '') return;
      key = res.lastKey;
    }
  }

  #fetchAhead(page: Page): void {
    const res = this.#client().getUnstructuredEvents({ startMs: page.windowMs, endMs: page.endMs, types: this.#opts.types, limit: this.#opts.batch, startKey: page.nextKey });
    res.catch(() => {}); // awaited (and its failure handled) by the next #fetch; ignored once stopped
    this.#ahead = { windowMs: page.windowMs, startKey: page.nextKey, res };
  }

  /** Runs until stopped, or until idle with exit-on-last-event. */
  async run(): Promise<void> {
    for (;;) {
      try {
        await this.#findSavedId();
        break;
      } catch (err) {
        if (this.#stop.aborted) return;
        this.#log.error({ error: (err as Error).message }, 'Unexpected error in watch loop. Reconnecting in 5s...');
        await sleep(this.#opts.retryMs ?? 5000, undefined, { signal: this.#stop }).catch(() => {});
      }
    }
    while (!this.#stop.aborted) {
      let page: Page | undefined;
      try {
        page = await this.#fetch();
      } catch (err) {
        if (this.#stop.aborted) return;
        this.#log.error({ error: (err as Error).message }, 'Unexpected error in watch loop. Reconnecting in 5s...');
        await sleep(this.#opts.retryMs ?? 5000, undefined, { signal: this.#stop }).catch(() => {});
        continue;
      }
      if (page === undefined) {
        if (this.#opts.exitOnLastEvent) {
          this.#log.info('All events are processed, exiting...');
          return;
        }
        await sleep(this.#opts.timeoutMs, undefined, { signal: this.#stop }).catch(() => {});
        continue;
      }
      // The next page of this window is fetched while this one is sent (a backfill would
      // otherwise stop sending for one RPC per page). Same query as the next #fetch makes, with
      // this page's window end: events after it come with a later page or the next pass.
      if (page.nextKey !== '') this.#fetchAhead(page);
      for (const ev of page.items) {
        if (this.#stop.aborted) return;
        await this.#dispatch.handle(ev, { windowMs: page.windowMs, cursor: page.pageKey, id: ev.id });
        this.#id = ev.id;
      }
      if (page.nextKey !== '') this.#cursor = page.nextKey;
    }
  }
}
