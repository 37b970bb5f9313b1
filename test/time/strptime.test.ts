// strptime gem (nurse/strptime ext/strptime/strptime.c) and, for formats the gem
// refuses, Ruby's Time.strptime (Date._strptime + lib/time.rb make_time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UTC, parseZone } from '../../src/time/zone.ts';
import { Strptime } from '../../src/time/strptime.ts';

const SEED = 1663786264; // 2022-09-21T18:51:04Z
const NOW_MS = 1700000000_000; // "now" = 2023-11-14T22:13:20Z for fields taken from now

interface Case { format: string; text: string; zone?: string; sec: number; nsec?: number }

const gemCases: Case[] = [
  // Seed: trailing ".849Z" is ignored, Z not honoured (docs/compatibility.md §3).
  { format: '%Y-%m-%dT%H:%M:%S', text: '2022-09-21T18:51:04.849Z', sec: SEED },
  { format: '%Y-%m-%dT%H:%M:%S', text: '2022-09-21T18:51:04', sec: SEED },
  { format: '%Y-%m-%dT%H:%M:%S', text: '2022-09-21T18:51:04', zone: '+09:00', sec: SEED - 32400 },
  { format: '%Y-%m-%dT%H:%M:%S', text: '2022-09-21T18:51:04', zone: 'Asia/Tokyo', sec: SEED - 32400 },
  { format: '%Y-%m-%dT%H:%M:%S', text: '2022-9-1T8:5:4', sec: 1661990400 + 8 * 3600 + 5 * 60 + 4 },
  { format: '%Y-%m-%dT%H:%M:%S', text: '+2022-09-21T18:51:04', sec: SEED },
  { format: '%Y-%m-%dT%H:%M:%S', text: '2022-09-21T18:51:60', sec: SEED - 4 + 60 },
  { format: '%Y-%m-%d', text: '2022-02-31', sec: 1646265600 }, // rolls to 2022-03-03
  { format: '%Y%m%d%H%M%S', text: '20220921185104', sec: SEED },
  // %z: overrides the zone; `Z` means UTC; 1–2 digit hours, optional colon and minutes.
  { format: '%Y-%m-%dT%H:%M:%S%z', text: '2022-09-21T18:51:04+09:00', zone: '-05:00', sec: SEED - 32400 },
  { format: '%Y-%m-%dT%H:%M:%S%z', text: '2022-09-21T18:51:04+0900', sec: SEED - 32400 },
  { format: '%Y-%m-%dT%H:%M:%S%z', text: '2022-09-21T18:51:04+9', sec: SEED - 32400 },
  { format: '%Y-%m-%dT%H:%M:%S%z', text: '2022-09-21T18:51:04-0330', sec: SEED + 12600 },
  { format: '%Y-%m-%dT%H:%M:%S%z', text: '2022-09-21T18:51:04Z', zone: 'Asia/Tokyo', sec: SEED },
  { format: '%Y-%m-%dT%H:%M:%S%z', text: '2022-09-21T18:51:04z', zone: 'Asia/Tokyo', sec: SEED },
  // %N: 1–9 digits scaled to nanoseconds, further digits left over (ignored).
  { format: '%Y-%m-%d %H:%M:%S.%N', text: '2022-09-21 18:51:04.849', sec: SEED, nsec: 849000000 },
  { format: '%Y-%m-%d %H:%M:%S.%N', text: '2022-09-21 18:51:04.123456789', sec: SEED, nsec: 123456789 },
  { format: '%Y-%m-%d %H:%M:%S.%N', text: '2022-09-21 18:51:04.1234567891', sec: SEED, nsec: 123456789 },
  { format: '%Y-%m-%d %H:%M:%S.%N%z', text: '2022-09-21 18:51:04.5+01:00', sec: SEED - 3600, nsec: 500000000 },
  // Names: case-insensitive, full name tried before the abbreviation.
  { format: '%d/%b/%Y:%H:%M:%S %z', text: '21/Sep/2022:18:51:04 +0000', sec: SEED },
  { format: '%d/%b/%Y:%H:%M:%S %z', text: '21/sep/2022:18:51:04 +0000', sec: SEED },
  { format: '%d/%B/%Y', text: '21/September/2022', sec: SEED - 67864 },
  { format: '%d %h %Y', text: '21 SEPTEMBER 2022', sec: SEED - 67864 },
  // %y: < 69 → 20xx.
  { format: '%y-%m-%d', text: '22-09-21', sec: SEED - 67864 },
  { format: '%y', text: '69', sec: -31536000 }, // 1969-01-01
  { format: '%y', text: '68', sec: 3092601600 }, // 2068-01-01
  // Whitespace in the format (and %n) skips any run of blanks, also none.
  { format: '%Y %m', text: '2022 \t 09', sec: 1661990400 },
  { format: '%Y %m', text: '202209', sec: 1661990400 },
  { format: '%Y%n%m', text: '2022\n09', sec: 1661990400 },
  { format: '%b %e %H:%M:%S', text: 'Sep  1 08:05:04', sec: 1693526400 + 29104 }, // year from now: 2023
  // No year: fields above the first given one come from now, those below are zeroed.
  { format: '%b %e %H:%M:%S', text: 'Sep 21 18:51:04', sec: 1695322264 },
  { format: '%H:%M', text: '10:30', sec: 1699957800 },
  { format: '%S', text: '05', sec: 1699999985 },
  { format: '%m', text: '03', sec: 1677628800 },
];
for (const c of gemCases) {
  test(`gem ${c.format} <- ${JSON.stringify(c.text)}${c.zone ? ` in ${c.zone}` : ''}`, () => {
    const p = new Strptime(c.format);
    assert.equal(p.usesGem, true);
    const t = p.exec(c.text, c.zone ? parseZone(c.zone) : UTC, NOW_MS);
    assert.deepEqual([t.sec, t.nsec], [c.sec, c.nsec ?? 0]);
  });
}

for (const [format, text] of [
  ['%Y-%m-%dT%H:%M:%S', '2022-09-21T18:51'], // shorter than the format
  ['%Y-%m-%dT%H:%M:%S', '2022/09/21T18:51:04'], // bad literal
  ['%Y-%m-%dT%H:%M:%S', '2022-13-21T18:51:04'], // month out of range
  ['%Y-%m-%dT%H:%M:%S', '2022-00-21T18:51:04'],
  ['%Y-%m-%dT%H:%M:%S', '2022-09-32T18:51:04'],
  ['%Y-%m-%dT%H:%M:%S', '2022-09-21T24:00:00'], // the gem allows 0–23 only
  ['%Y-%m-%dT%H:%M:%S', '2022-09-21T18:60:00'],
  ['%Y-%m-%dT%H:%M:%S', '2022-09-21T18:51:61'],
  ['%Y-%m-%dt%H', '2022-09-21T18'], // literals are case-sensitive
  ['%Y-%m-%dT%H:%M:%S', ''],
  ['%Y-%m-%dT%H:%M:%S', 'x2022-09-21T18:51:04'],
  ['%d/%b/%Y', '21/Sept/2022'],
  ['%Y-%m-%dT%H:%M:%S%z', '2022-09-21T18:51:04'], // %z needs digits or z
  ['%Y-%m-%dT%H:%M:%S%z', '2022-09-21T18:51:04+'],
  ['%Y%z:', '2022Z:'], // `Z` is not consumed, so the literal fails
  ['%N', 'abc'],
  ['%Y-%m-%e', '2022-09- 1'], // the gem's %e reads digits only
] as const) {
  test(`gem refuses ${JSON.stringify(text)} for ${format}`, () => {
    assert.throws(() => new Strptime(format).exec(text, UTC, NOW_MS),
      { code: 'AR_TIME_PARSE', message: "string doesn't match" });
  });
}

const rubyCases: Case[] = [
  { format: '%Y-%m-%dT%H:%M:%S.%L%z', text: '2022-09-21T18:51:04.849+09:00', sec: SEED - 32400, nsec: 849000000 },
  { format: '%Y-%m-%dT%H:%M:%S.%LZ', text: '2022-09-21T18:51:04.849Z', zone: '+01:00', sec: SEED - 3600, nsec: 849000000 },
  { format: '%Y-%m-%dT%H:%M:%S.%3N', text: '2022-09-21T18:51:04.%3N', sec: SEED }, // %3N is literal text here
  { format: '%s', text: '1700000000', sec: 1700000000 },
  { format: '%s.%N', text: '1700000000.5', sec: 1700000000, nsec: 500000000 },
  { format: '%Q', text: '1700000000123', sec: 1700000000, nsec: 123000000 },
  { format: '%d/%b/%Y:%H:%M:%S %Z', text: '21/Sep/2022:18:51:04 EST', sec: SEED + 18000 },
  { format: '%d/%b/%Y:%H:%M:%S %Z', text: '21/Sep/2022:18:51:04 UTC', zone: 'Asia/Tokyo', sec: SEED },
  { format: '%d/%b/%Y:%H:%M:%S %Z', text: '21/Sep/2022:18:51:04 +09:00', sec: SEED - 32400 },
  { format: '%Y-%m-%dT%H:%M:%S%:z', text: '2022-09-21T18:51:04-03:30', sec: SEED + 12600 },
  { format: '%Y-%m-%d %I:%M %p', text: '2022-09-21 06:51 PM', sec: SEED - 4 },
  { format: '%Y-%m-%d %I:%M %p', text: '2022-09-21 12:05 a.m.', sec: SEED - 67864 + 300 },
  { format: '%F %T', text: '2022-09-21 18:51:04', sec: SEED },
  { format: '%D %R', text: '09/21/22 18:51', sec: SEED - 4 },
  { format: '%c', text: 'Wed Sep 21 18:51:04 2022', sec: SEED },
  { format: '%a, %d %b %Y %H:%M:%S %z', text: 'Wed, 21 Sep 2022 18:51:04 +0000', sec: SEED },
  { format: '%A %Y-%m-%d', text: 'wednesday 2022-09-21', sec: SEED - 67864 },
  { format: '%Y %j', text: '2022 264', sec: SEED - 67864 },
  { format: '%Y%%%m', text: '2022%09', sec: 1661990400 },
  { format: '%F', text: '2022-09-21 and more', sec: SEED - 67864 }, // leftover ignored
  { format: '%Y-%m-%e %T', text: '2022-09- 1 00:00:00', sec: 1661990400 }, // %e takes a leading blank
  { format: '%Y-%m-%d %T', text: '2022-09-21 24:00:00', sec: SEED - 67864 + 86400 }, // hour 24 allowed
  { format: '%Y%m%d %L', text: '20220921 5', sec: SEED - 67864, nsec: 500000000 },
];
for (const c of rubyCases) {
  test(`Time.strptime ${c.format} <- ${JSON.stringify(c.text)}${c.zone ? ` in ${c.zone}` : ''}`, () => {
    const p = new Strptime(c.format);
    assert.equal(p.usesGem, false);
    const t = p.exec(c.text, c.zone ? parseZone(c.zone) : UTC, NOW_MS);
    assert.deepEqual([t.sec, t.nsec], [c.sec, c.nsec ?? 0]);
  });
}

for (const [format, text, message] of [
  ['%Y %3N', '2022 123', "invalid date or strptime format - '2022 123' '%Y %3N'"],
  ['%F %T', '2022-09-21 18:51', "invalid date or strptime format - '2022-09-21 18:51' '%F %T'"],
  ['%Y-%m-%d %I', '2022-09-21 13', "invalid date or strptime format - '2022-09-21 13' '%Y-%m-%d %I'"],
  ['%a', 'Wed', 'no time information in "Wed"'],
  ['%Y %j', '2022 366', 'yday 366 out of range'],
  ['%F %T', '2022-09-21 24:30:00', 'argument out of range'],
] as const) {
  test(`Time.strptime refuses ${JSON.stringify(text)} for ${format}`, () => {
    assert.throws(() => new Strptime(format).exec(text, UTC, NOW_MS), { code: 'AR_TIME_PARSE', message });
  });
}

for (const format of ['%G-%V', '%Y %U', '%Y %W %u', '%g']) {
  test(`week-based format ${format} is refused at configure`, () => {
    assert.throws(() => new Strptime(format), { code: 'AR_TIME_BAD_FORMAT' });
  });
}

test('local wall clock in a DST gap / overlap (America/New_York)', () => {
  const ny = parseZone('America/New_York');
  const p = new Strptime('%Y-%m-%d %H:%M');
  // 02:30 does not exist on 2022-03-13: read with EST (-5) → 07:30Z = 03:30 EDT.
  assert.equal(p.exec('2022-03-13 02:30', ny).sec, 1647154800 + 1800);
  // 01:30 exists twice on 2022-11-06: the earlier (EDT, -4) → 05:30Z.
  assert.equal(p.exec('2022-11-06 01:30', ny).sec, 1667714400 - 1800);
  assert.equal(p.exec('2022-11-06 03:00', ny).sec, 1667714400 + 7200);
});
