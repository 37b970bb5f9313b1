// Crash states of the window/page path's three key files (docs/compatibility-event-handler.md §5:
// window_time, cursor, id are separate diskv keys). StateStore.setLegacyPosition writes them in
// an order whose every intermediate state resumes without a skip and without re-sending a page;
// each row is one such state, written as files, and the run must resume exactly where stated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStart } from '../../src/event-handler/start/start.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { config, FAST, makeWorld, quietLog, received } from './start-helpers.ts';

const DAY = 86_400_000;
const rfc = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

test('start (window/page path): every state a kill between the key-file writes leaves resumes exactly', async (t) => {
  const w = await makeWorld({ bulk: false, count: 200, days: 2, sessions: 0 });
  t.after(() => w.close());
  const ev = w.fake.events;
  const w0 = ev.filter((e) => e.timeMs < w.gen.startMs + DAY);
  assert.ok(w0.length > 60 && w0.length < ev.length, 'events in two windows, window 0 longer than a page of 50');
  const lastW0 = w0.length - 1;
  const rows = [
    // Same window, page moved: `id` is written before `cursor`.
    { name: '(W0, old cursor "", new id on page "50") → right after that id', window: 0, cursor: '', id: 60, from: 61 },
    // New window: `cursor` = "" first, then `window_time`, then `id`.
    { name: '(W0, "", old id on page "50") → right after that id', window: 0, cursor: '', id: lastW0, from: lastW0 + 1 },
    { name: '(W1, "", old id of W0) → W1 from its start (all committed since the last save)', window: 1, cursor: '', id: lastW0, from: lastW0 + 1 },
    // Not a state we write; upstream's fallback: an id not in the page re-sends the page.
    { name: '(W0, "50", an id before that page) → page "50" from its start, as upstream', window: 0, cursor: '50', id: 10, from: 50 },
  ];
  let run = 0;
  for (const r of rows) {
    await t.test(r.name, async () => {
      const storage = join(w.dir, `storage-${run++}`);
      const stateDir = join(storage, `127.0.0.1_${w.fake.port}`);
      mkdirSync(stateDir, { recursive: true });
      writeFileSync(join(stateDir, 'start_time'), rfc(w.gen.startMs));
      writeFileSync(join(stateDir, 'window_time'), rfc(w.gen.startMs + r.window * DAY));
      writeFileSync(join(stateDir, 'cursor'), r.cursor);
      writeFileSync(join(stateDir, 'id'), ev[r.id].id);
      const before = received(w).length;
      await runStart(config(w, { storage, 'fluentd-max-in-flight': '1' }), { log: quietLog(), tuning: FAST });
      await new Promise((res) => setTimeout(res, 50));
      const audit = received(w).slice(before).filter((x) => x.tag === 'test.log').map((x) => JSON.stringify(x.body));
      assert.deepEqual(audit, ev.slice(r.from).map((e) => eventBody(e.json)));
    });
  }
});
