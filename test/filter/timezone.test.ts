// O6: `time` is Time.at(event_time) in the PROCESS zone, so
// `time.strftime('%Y-%m-%dT%H:%M:%SZ')` prints local wall time with a literal
// Z; only `time.utc` gives real UTC. Run in a child process with
// TZ=Asia/Tokyo, since the zone is read from the environment at configure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RubyTime } from '../../src/filter/ruby-expr/ruby-time.ts';
import { parseZone } from '../../src/time/zone.ts';

const run = promisify(execFile);

const script = (filterUrl: string, helpersUrl: string) => `
import { RecordTransformerFilter } from ${JSON.stringify(filterUrl)};
import { makeContext, filterElement, event } from ${JSON.stringify(helpersUrl)};
const results = [];
for (const [params, record] of [
  [{ enable_ruby: 'true' }, [
    ['local', "\${time.strftime('%Y-%m-%dT%H:%M:%SZ')}"],
    ['zone', '\${time.zone}'],
    ['offset', '\${time.utc_offset}'],
    ['iso', '\${time.iso8601}'],
    ['to_s', '\${time.to_s}'],
    ['utc', '\${time.getutc.strftime("%Y-%m-%dT%H:%M:%SZ")}'],
    ['now_zone', '\${Time.now.zone}'],
  ]],
  [{ enable_ruby: 'true' }, [['time', '\${time.utc.strftime("%Y-%m-%dT%H:%M:%SZ")}']]],
  [{}, [['plain', '\${time}']]],
]) {
  const t = makeContext();
  const f = new RecordTransformerFilter(filterElement(params, record), t.ctx);
  results.push(f.filter('test.log', [event({ tq: 's3' }, 1700000000)])[0].record);
}
process.stdout.write(JSON.stringify(results));
`;

test('TZ=Asia/Tokyo: strftime uses local time with a literal Z, time.utc is real UTC', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'auditrelay-filter-tz-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'tz-probe.ts');
  await writeFile(file, script(
    new URL('../../src/filter/record-transformer.ts', import.meta.url).href,
    new URL('./helpers.ts', import.meta.url).href,
  ));
  const { stdout } = await run(process.execPath, [file], { env: { ...process.env, TZ: 'Asia/Tokyo' } });
  const [ruby, seed, plain] = JSON.parse(stdout);
  assert.deepEqual(ruby, {
    tq: 's3',
    local: '2023-11-15T07:13:20Z', // O6: really 22:13:20Z
    zone: 'JST',
    offset: 32400,
    iso: '2023-11-15T07:13:20+09:00',
    to_s: '2023-11-15 07:13:20 +0900',
    utc: '2023-11-14T22:13:20Z',
    now_zone: 'JST',
  });
  assert.deepEqual(seed, { tq: 's3', time: '2023-11-14T22:13:20Z' });
  assert.deepEqual(plain, { tq: 's3', plain: '2023-11-15 07:13:20 +0900' });
});

const zoneCases = [
  { zone: '+09:00', utc: false, toS: '2023-11-15 07:13:20 +0900', iso: '2023-11-15T07:13:20.123+09:00', hour: 7, wday: 3 },
  { zone: '-05:30', utc: false, toS: '2023-11-14 16:43:20 -0530', iso: '2023-11-14T16:43:20.123-05:30', hour: 16, wday: 2 },
  { zone: 'Asia/Tokyo', utc: true, toS: '2023-11-14 22:13:20 UTC', iso: '2023-11-14T22:13:20.123Z', hour: 22, wday: 2 },
];
for (const c of zoneCases) {
  test(`RubyTime in ${c.zone}${c.utc ? ' (utc mode)' : ''}`, () => {
    const time = new RubyTime(1700000000, 123456789, parseZone(c.zone), c.utc);
    assert.equal(time.toS(), c.toS);
    assert.equal(time.xmlschema(3), c.iso);
    assert.equal(time.civil().hour, c.hour);
    assert.equal(time.civil().wday, c.wday);
  });
}

test('RubyTime civil fields before 1970 and on a leap day', () => {
  const leap = new RubyTime(951782400, 0, parseZone('+00:00'), true); // 2000-02-29
  assert.deepEqual(leap.civil(), { year: 2000, month: 2, day: 29, hour: 0, min: 0, sec: 0, wday: 2, yday: 60 });
  const old = new RubyTime(-1, 0, parseZone('+00:00'), true);
  assert.equal(old.toS(), '1969-12-31 23:59:59 UTC');
});
