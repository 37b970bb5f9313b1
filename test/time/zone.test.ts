// Zones: Fluent::Timezone rules (lib/fluent/timezone.rb), DST, process TZ abbreviations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { UTC, parseZone } from '../../src/time/zone.ts';
import { Strftime } from '../../src/time/strftime.ts';

// 2022-09-21T18:51:04Z (seed case) and 2023-11-14T22:13:20Z (O3).
const SEED = 1663786264;
const O3 = 1700000000;

for (const c of [
  { spec: '+09:00', offset: 32400 },
  { spec: '+0900', offset: 32400 },
  { spec: '-09', offset: -32400 },
  { spec: '-03:30', offset: -12600 },
  { spec: '+0545', offset: 20700 },
  { spec: 'Asia/Tokyo', offset: 32400 },
  { spec: 'America/Argentina/Buenos_Aires', offset: -10800 },
  { spec: 'Etc/UTC', offset: 0 },
]) {
  test(`parseZone ${c.spec}`, () => {
    const zone = parseZone(c.spec);
    assert.equal(zone.offsetAt(SEED), c.offset);
    // Fluentd applies it with Time#localtime(offset): no zone name for %Z.
    assert.equal(zone.nameAt(SEED), '');
    assert.notEqual(zone.utc, true);
  });
}

for (const spec of ['UTC', 'JST', 'GMT', '', '+9', '+09:0', '0900', 'Mars/Olympus', 'asia/tokyo', 'Asia/Tokyo/X/Y']) {
  test(`parseZone refuses '${spec}'`, () => {
    assert.throws(() => parseZone(spec), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'AR_TIME_BAD_ZONE');
      assert.ok(err.message.includes(`'${spec}'`), err.message);
      assert.ok(err.message.includes('+09:00') && err.message.includes('Asia/Tokyo'), err.message);
      return true;
    });
  });
}

test('UTC is Ruby UTC mode', () => {
  assert.equal(UTC.offsetAt(O3), 0);
  assert.equal(UTC.nameAt(O3), 'UTC');
  assert.equal(UTC.utc, true);
});

// America/New_York 2022: EDT from 2022-03-13T07:00Z, EST again from 2022-11-06T06:00Z.
for (const c of [
  { sec: 1647154799, offset: -18000 },
  { sec: 1647154800, offset: -14400 },
  { sec: 1667714399, offset: -14400 },
  { sec: 1667714400, offset: -18000 },
]) {
  test(`New York offset at ${c.sec}`, () => {
    const zone = parseZone('America/New_York');
    // Ask a neighbour first so the cached bucket is in play.
    zone.offsetAt(c.sec - 1);
    assert.equal(zone.offsetAt(c.sec), c.offset);
    assert.equal(zone.offsetAt(c.sec), c.offset);
  });
}

test('transition inside a 15-minute bucket (Africa/Monrovia 1972-01-07T00:44:30Z, -0:44:30 → GMT)', () => {
  const zone = parseZone('Africa/Monrovia');
  assert.equal(zone.offsetAt(63593000), -2670);
  assert.equal(zone.offsetAt(63593069), -2670);
  assert.equal(zone.offsetAt(63593070), 0);
  assert.equal(zone.offsetAt(63593000), -2670);
});

// localZone() follows the TZ env var of the process, with tzdata abbreviations.
const zoneModule = fileURLToPath(new URL('../../src/time/zone.ts', import.meta.url));
const strftimeModule = fileURLToPath(new URL('../../src/time/strftime.ts', import.meta.url));
function inTz(tz: string, sec: number, format: string): string {
  const script = `import { localZone } from ${JSON.stringify(zoneModule)};
    import { Strftime } from ${JSON.stringify(strftimeModule)};
    process.stdout.write(new Strftime(${JSON.stringify(format)}).format(${sec}, 0, localZone()));`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: tz } }).toString();
}

for (const c of [
  { tz: 'Asia/Tokyo', sec: O3, out: '2023-11-15 07:13:20 +0900 JST' }, // O4 with TZ=Asia/Tokyo
  { tz: 'UTC', sec: O3, out: '2023-11-14 22:13:20 +0000 UTC' },
  { tz: 'Europe/Berlin', sec: SEED, out: '2022-09-21 20:51:04 +0200 CEST' },
  { tz: 'Europe/Berlin', sec: O3, out: '2023-11-14 23:13:20 +0100 CET' },
  { tz: 'America/New_York', sec: 1647154800, out: '2022-03-13 03:00:00 -0400 EDT' },
]) {
  test(`localZone under TZ=${c.tz}`, () => {
    assert.equal(inTz(c.tz, c.sec, '%Y-%m-%d %H:%M:%S %z %Z'), c.out);
  });
}

test('local UTC is not UTC mode: %-z keeps +0000', () => {
  assert.equal(inTz('UTC', O3, '%-z'), '+0000');
  assert.equal(new Strftime('%-z').format(O3, 0, UTC), '-0000');
});
