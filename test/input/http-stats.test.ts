// in_http's plain-number stats: every request counted once, by tag and code; tags past
// MAX_TAGS fold into OTHER_TAG (every URL path is a tag); latency buckets per bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpStats, MAX_TAGS, OTHER_TAG } from '../../src/input/http-stats.ts';
import { LATENCY_BUCKETS } from '../../src/buffer/latency.ts';

test('requests by tag and code; new tags past MAX_TAGS count as _other, known tags keep their own series', () => {
  const s = new HttpStats();
  for (let i = 0; i < MAX_TAGS; i++) s.request(`t${i}`, 200, 10, 0.002);
  s.request('one.more', 200, 10, 0.002);
  s.request('another', 400, 5, 0.002);
  s.request('t7', 400, 5, 0.002);
  assert.equal(s.requests.get(OTHER_TAG)?.get(200), 1);
  assert.equal(s.requests.get(OTHER_TAG)?.get(400), 1);
  assert.equal(s.requests.get('t7')?.get(400), 1);
  assert.equal(s.requests.get('t7')?.get(200), 1);
  assert.equal(s.requests.get('one.more'), undefined);
  assert.equal(s.requests.size, MAX_TAGS + 1);
  assert.equal(s.bytesIn, MAX_TAGS * 10 + 20);
});

test('latency lands in the first bucket whose bound is ≥ the value; above the last bound in +Inf', () => {
  const s = new HttpStats();
  s.request('a', 200, 0, 0.001); // = first bound
  s.request('a', 200, 0, 0.0011);
  s.request('a', 200, 0, 1000);
  const c = s.latency.counts;
  assert.equal(c[0], 1);
  assert.equal(c[1], 1);
  assert.equal(c[LATENCY_BUCKETS.length], 1);
  assert.equal(s.latency.count, 3);
  assert.ok(Math.abs(s.latency.sum - 1000.0021) < 1e-9);
});
