// The bulk path streams max(concurrency/4, 3) chunks at once, as upstream's exporter does
// (issue 14 §4): the fake keeps each ExportUnstructuredEvents stream open a little after its last
// event, so chunks read one after another never overlap there. Every event arrives once, each
// chunk's events in its stream order, every chunk ends completed in cursor_v2, and a second start
// sends nothing again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runStart } from '../../src/event-handler/start/start.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { loadCursorV2 } from '../../src/event-handler/state/cursor-v2.ts';
import { cleanup } from '../support/cleanup.ts';
import { byChunk, config, FAST, makeWorld, quietLog, received } from './start-helpers.ts';

const CHUNK = 25;

for (const c of [{ concurrency: '5', atOnce: 3 }, { concurrency: '16', atOnce: 4 }]) {
  test(`bulk path, --concurrency ${c.concurrency}: up to ${c.atOnce} chunks streamed at once, per-chunk order kept, cursor exact`, async (t) => {
    const defer = cleanup(t);
    const w = await makeWorld({ bulk: true, count: 400, days: 1, sessions: 0, chunkSize: CHUNK, exportEndDelayMs: 40 });
    defer(() => w.close());
    const result = await runStart(config(w, { concurrency: c.concurrency }), { log: quietLog(), tuning: FAST, signal: AbortSignal.timeout(90_000) });
    assert.equal(result.path, 'bulk');
    assert.ok(w.fake.maxOpenExports >= 2, `chunks were read concurrently (at most ${w.fake.maxOpenExports} open)`);
    assert.ok(w.fake.maxOpenExports <= c.atOnce, `at most ${c.atOnce} at once (saw ${w.fake.maxOpenExports})`);

    const got = received(w).filter((r) => r.tag === 'test.log').map((r) => JSON.stringify(r.body));
    const expected = w.fake.events.map((e) => eventBody(e.json));
    assert.deepEqual([...got].sort(), [...expected].sort(), 'every event once');
    const chunks = byChunk(w.fake, CHUNK, expected);
    assert.deepEqual(byChunk(w.fake, CHUNK, got), chunks, 'each chunk in its stream order');
    assert.notDeepEqual(got, expected, 'chunks interleaved (read at once)');

    const state = loadCursorV2(join(result.stateDir, 'cursor_v2'));
    const completed = [...state.values()].reduce((n, d) => n + d.completed.size, 0);
    assert.equal(completed, chunks.size, 'every chunk completed in cursor_v2');
    assert.equal([...state.values()].reduce((n, d) => n + d.partial.size, 0), 0);

    const again = await runStart(config(w, { concurrency: c.concurrency }), { log: quietLog(), tuning: FAST, signal: AbortSignal.timeout(60_000) });
    assert.equal(again.auditEvents, 0, 'nothing sent twice after a restart');
  });
}
