// Backfill progress (issue 7 §9): off a TTY a periodic structured line with position, events
// per second, ETA and sessions in flight; on a TTY the same figures as one rewritten line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Progress } from '../../src/event-handler/start/progress.ts';

const DAY = 86_400_000;

function source(startMs: number) {
  const s = { pos: startMs, sent: 0, sessions: 0 };
  return { s, src: { startMs, positionMs: () => s.pos, eventsSent: () => s.sent, sessionsInFlight: () => s.sessions } };
}

test('progress off a TTY: periodic structured lines with position, events/s, ETA, sessions in flight', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (lines.push(...c.toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)), cb()) });
  const start = Date.now() - 100 * DAY;
  const { s, src } = source(start);
  const p = new Progress(src, pino({ level: 'info' }, sink) as Logger, undefined, 100);
  t.after(() => p.stop());
  // Half way through 100 days within the first interval, 500 events, 3 recordings streaming.
  s.pos = start + 50 * DAY;
  s.sent = 500;
  s.sessions = 3;
  while (lines.length < 1) await sleep(10);
  const first = lines[0];
  assert.equal(first['msg'], 'Export progress');
  assert.equal(first['position'], new Date(start + 50 * DAY).toISOString());
  assert.ok(Math.abs((first['percent'] as number) - 50) < 0.1, `percent ${first['percent']}`);
  assert.equal(first['sent'], 500);
  assert.equal(first['sessionsInFlight'], 3);
  // 500 events in about one 100 ms interval.
  assert.ok((first['eventsPerSec'] as number) > 1000 && (first['eventsPerSec'] as number) <= 500_000, `eventsPerSec ${first['eventsPerSec']}`);
  // 50 days covered in ~0.1 s → the remaining 50 days in about as long again.
  assert.equal(typeof first['etaSec'], 'number');
  assert.ok((first['etaSec'] as number) >= 0 && (first['etaSec'] as number) < 5, `etaSec ${first['etaSec']}`);
  // Nothing moved during the next interval: no rate, no ETA.
  while (lines.length < 2) await sleep(10);
  assert.equal(lines[1]['eventsPerSec'], 0);
  assert.equal(lines[1]['etaSec'], null);
});

test('progress on a TTY: one line rewritten in place with the same figures', () => {
  let out = '';
  const tty = new Writable({ write: (c: Buffer, _e, cb) => ((out += c.toString()), cb()) }) as unknown as NodeJS.WriteStream;
  const start = Date.now() - 10 * DAY;
  const { s, src } = source(start);
  const p = new Progress(src, pino({ level: 'silent' }) as Logger, tty, 60_000);
  s.pos = start + 5 * DAY;
  s.sent = 40;
  s.sessions = 2;
  p.tick();
  p.stop();
  assert.match(out, /^\r\[#{15}\.{15}\] 50\.0% \S+Z \d+ ev\/s ETA (\d+s|--) sessions 2\x1b\[K\n$/);
});
