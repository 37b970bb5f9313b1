// The status page's recent errors: LogRing keeps a buffered output's last warn/error lines
// as Fluentd prints them (message, then key=value), only those the logger prints, and at
// most LOG_RING_SIZE of them; the teed logger still writes every line to the real log.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LOG_RING_SIZE, LogRing } from '../../src/buffer/log-ring.ts';

function logger(level: string): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(chunk.toString()); cb(); } });
  return { log: pino({ level, base: undefined }, stream), lines };
}

test('warn/error lines are kept as message + key=value, info is not, and the log still gets everything', () => {
  const { log, lines } = logger('info');
  const ring = new LogRing();
  const teed = ring.tee(log.child({ plugin_id: 's3_out' }));
  teed.info('listening');
  teed.warn({ retry_times: 2, next_retry_time: '2026-01-01T00:00:00.000Z', error_class: 'Error', error: 'connect ECONNREFUSED', ok: false }, 'failed to flush the buffer.');
  teed.error(new Error('boom'), 'flush thread died');
  teed.warn('disk almost full');
  assert.deepEqual(ring.lines().map((l) => [l.level, l.line]), [
    ['warn', 'failed to flush the buffer. retry_times=2 next_retry_time="2026-01-01T00:00:00.000Z" error_class="Error" error="connect ECONNREFUSED" ok=false'],
    ['error', 'flush thread died error="boom"'],
    ['warn', 'disk almost full'],
  ]);
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => JSON.parse(l).plugin_id === 's3_out'), 'the child bindings still reach the log');
});

test('a level the logger does not print is not kept; the ring keeps only the newest lines', () => {
  const quiet = logger('error');
  const ring = new LogRing();
  const teed = ring.tee(quiet.log);
  teed.warn('not printed');
  assert.deepEqual(ring.lines(), []);
  assert.equal(quiet.lines.length, 0);
  for (let i = 0; i < LOG_RING_SIZE + 5; i++) teed.error(`e${i}`);
  const kept = ring.lines().map((l) => l.line);
  assert.equal(kept.length, LOG_RING_SIZE);
  assert.equal(kept[0], 'e5');
  assert.equal(kept.at(-1), `e${LOG_RING_SIZE + 4}`);
});

test('a level set on the plugin logger after the tee is followed (warn printed and kept once enabled)', () => {
  const { log, lines } = logger('error');
  const ring = new LogRing();
  const teed = ring.tee(log);
  log.level = 'warn';
  teed.warn({ chunk: 'abc' }, 'retry succeeded.');
  assert.deepEqual(ring.lines().map((l) => l.line), ['retry succeeded. chunk="abc"']);
  assert.equal(lines.length, 1);
});
