// Ruby Time#strftime (strftime.c): every directive and flag, worked out from the C source.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UTC, parseZone } from '../../src/time/zone.ts';
import { Strftime, STDOUT_TIME_FORMAT, stdoutTimeFormatter } from '../../src/time/strftime.ts';
import { EventTime } from '../../src/time/event-time.ts';

// A: 2022-09-21 18:51:04 UTC, Wednesday, yday 264, ISO week 38.
const A = 1663786264;
const A_NS = 849123456;
// C: 2009-02-03 04:05:06 UTC, Tuesday, yday 34, ISO week 6 (Jan 1 2009 was a Thursday).
const C = 1233633906;

const atA: Array<[string, string]> = [
  ['%Y', '2022'], ['%C', '20'], ['%y', '22'], ['%m', '09'], ['%B', 'September'], ['%b', 'Sep'], ['%h', 'Sep'],
  ['%d', '21'], ['%e', '21'], ['%j', '264'], ['%H', '18'], ['%k', '18'], ['%I', '06'], ['%l', ' 6'],
  ['%P', 'pm'], ['%p', 'PM'], ['%M', '51'], ['%S', '04'],
  ['%L', '849'], ['%N', '849123456'], ['%3N', '849'], ['%6N', '849123'], ['%9N', '849123456'], ['%1N', '8'],
  ['%12N', '849123456000'], ['%5L', '84912'], ['%-N', '849123456'],
  ['%z', '+0000'], ['%:z', '+00:00'], ['%::z', '+00:00:00'], ['%:::z', '+00'], ['%Z', 'UTC'],
  ['%A', 'Wednesday'], ['%a', 'Wed'], ['%u', '3'], ['%w', '3'],
  ['%G', '2022'], ['%g', '22'], ['%V', '38'], ['%U', '38'], ['%W', '38'], ['%s', '1663786264'],
  ['%n', '\n'], ['%t', '\t'], ['%%', '%'],
  ['%F', '2022-09-21'], ['%T', '18:51:04'], ['%D', '09/21/22'], ['%R', '18:51'], ['%r', '06:51:04 PM'],
  ['%c', 'Wed Sep 21 18:51:04 2022'], ['%x', '09/21/22'], ['%X', '18:51:04'], ['%v', '21-SEP-2022'],
  // %+ exists only in Date#strftime; Time#strftime copies unknown directives.
  ['%+', '%+'], ['%Q', '%Q'], ['%-Q', '%-Q'], ['%^Q', '%^Q'], ['%5Q', '%5Q'],
  ['%Ey', '22'], ['%Od', '21'], ['%OH', '18'], ['%Ez', '%Ez'], ['%Oz', '%Oz'], ['%:d', '%:d'], ['%5-d', '%5-d'],
  ['%Y-%m-%dT%H:%M:%SZ', '2022-09-21T18:51:04Z'], // O6 record_transformer format
  ['%Y%m%d%H%M%S', '20220921185104'], // S3 time slice (O5)
  ['plain text', 'plain text'], ['', ''],
];
for (const [format, out] of atA) {
  test(`strftime ${JSON.stringify(format)} at A (UTC)`, () => {
    assert.equal(new Strftime(format).format(A, A_NS, UTC), out);
  });
}

const atC: Array<[string, string]> = [
  ['%-m', '2'], ['%-d', '3'], ['%e', ' 3'], ['%-e', '3'], ['%0e', '03'], ['%_m', ' 2'], ['%5d', '00003'],
  ['%_5d', '    3'], ['%-5d', '3'], ['%05e', '00003'], ['%_3Y', '2009'], ['%6Y', '002009'], ['%_6Y', '  2009'],
  ['%-Y', '2009'], ['%^B', 'FEBRUARY'], ['%#B', 'FEBRUARY'], ['%^a', 'TUE'], ['%#a', 'TUE'], ['%#h', 'FEB'],
  ['%10A', '   Tuesday'], ['%-10A', 'Tuesday'], ['%010a', '0000000Tue'], ['%_10b', '       Feb'],
  ['%p', 'AM'], ['%^p', 'AM'], ['%#p', 'am'], ['%P', 'am'], ['%^P', 'AM'], ['%#P', 'AM'],
  ['%I', '04'], ['%l', ' 4'], ['%-l', '4'], ['%k', ' 4'], ['%-k', '4'], ['%0k', '04'], ['%_H', ' 4'],
  ['%j', '034'], ['%-j', '34'], ['%_j', ' 34'], ['%y', '09'], ['%-y', '9'],
  ['%U', '05'], ['%W', '05'], ['%V', '06'], ['%G', '2009'], ['%u', '2'], ['%w', '2'], ['%3u', '002'],
  ['%c', 'Tue Feb  3 04:05:06 2009'], ['%^c', 'TUE FEB  3 04:05:06 2009'], ['%30c', '      Tue Feb  3 04:05:06 2009'],
  ['%-c', 'Tue Feb  3 04:05:06 2009'], ['%^r', '04:05:06 AM'], ['%12T', '    04:05:06'], ['%012T', '000004:05:06'],
  ['%5%', '    %'], ['%-5%', '%'], ['%3n', '  \n'], ['%^Z', 'UTC'], ['%#Z', 'utc'], ['%6Z', '   UTC'],
  ['%s', '1233633906'], ['%15s', '000001233633906'], ['%_15s', '     1233633906'],
];
for (const [format, out] of atC) {
  test(`strftime ${JSON.stringify(format)} at C (UTC)`, () => {
    assert.equal(new Strftime(format).format(C, 0, UTC), out);
  });
}

// Offsets: A in +09:00 is 2022-09-22 03:51:04 (Thu); in -03:30 it is 15:21:04 the same day.
const zones: Array<[string, string, string]> = [
  ['+09:00', '%Y-%m-%d %H:%M:%S %a %z', '2022-09-22 03:51:04 Thu +0900'],
  ['+09:00', '%:z|%::z|%:::z|%-z|%_z|%10z|%_10z|%Z|%10Z', '+09:00|+09:00:00|+09|+0900| +900|+000000900|      +900||'],
  ['-03:30', '%Y-%m-%d %H:%M:%S %z', '2022-09-21 15:21:04 -0330'],
  ['-03:30', '%:z|%::z|%:::z|%-z|%_z|%_:z', '-03:30|-03:30:00|-03:30|-0330| -330| -3:30'],
  ['-0030', '%z|%:z|%_z|%::z', '-0030|-00:30| -030|-00:30:00'],
  ['+0545', '%z|%:::z|%H:%M', '+0545|+05:45|00:36'],
  ['Asia/Tokyo', '%Y-%m-%d %H:%M:%S.%N %z', '2022-09-22 03:51:04.849123456 +0900'],
];
for (const [spec, format, out] of zones) {
  test(`strftime ${JSON.stringify(format)} in ${spec}`, () => {
    assert.equal(new Strftime(format).format(A, A_NS, parseZone(spec)), out);
  });
}

test('UTC mode: %-z is -0000, %Z is UTC', () => {
  assert.equal(new Strftime('%-z %-:z %Z').format(A, 0, UTC), '-0000 -00:00 UTC');
});

// America/New_York across both 2022 transitions.
for (const [sec, out] of [
  [1647154799, '2022-03-13 01:59:59 -0500'], [1647154800, '2022-03-13 03:00:00 -0400'],
  [1667714399, '2022-11-06 01:59:59 -0400'], [1667714400, '2022-11-06 01:00:00 -0500'],
] as const) {
  test(`DST New York ${sec}`, () => {
    assert.equal(new Strftime('%Y-%m-%d %H:%M:%S %z').format(sec, 0, parseZone('America/New_York')), out);
  });
}

test('before 1970: -1 is 1969-12-31 23:59:59 Wed, %s -1', () => {
  assert.equal(new Strftime('%F %T %a %s %j').format(-1, 0, UTC), '1969-12-31 23:59:59 Wed -1 365');
});

test('stdout line time (docs/compatibility.md §6, O4)', () => {
  assert.equal(STDOUT_TIME_FORMAT, '%Y-%m-%d %H:%M:%S.%N %z');
  const f = stdoutTimeFormatter();
  assert.equal(f.format(A, 0, UTC), '2022-09-21 18:51:04.000000000 +0000');
  assert.equal(f.formatEventTime(new EventTime(1700000000, 0), parseZone('Asia/Tokyo')), '2023-11-15 07:13:20.000000000 +0900');
  assert.equal(f.formatEventTime(new EventTime(2022, 849), UTC), '1970-01-01 00:33:42.000000849 +0000');
  assert.equal(f.formatEventTime(new EventTime(1700000000, 500000000), UTC), '2023-11-14 22:13:20.500000000 +0000');
});

test('repeated calls reuse the cache without going stale', () => {
  const f = new Strftime('%H:%M:%S %z');
  const tokyo = parseZone('Asia/Tokyo');
  assert.equal(f.format(A, 0, UTC), '18:51:04 +0000');
  assert.equal(f.format(A, 0, UTC), '18:51:04 +0000');
  assert.equal(f.format(A, 0, tokyo), '03:51:04 +0900');
  assert.equal(f.format(A + 1, 0, tokyo), '03:51:05 +0900');
  const g = new Strftime('%S.%L');
  assert.equal(g.format(A, 1_000_000, UTC), '04.001');
  assert.equal(g.format(A, 2_000_000, UTC), '04.002');
});

test('nsec past a second carries, as Time.at(sec + nsec/1e9)', () => {
  assert.equal(new Strftime('%S.%N').format(A, 1_234_567_891, UTC), '05.234567891');
});
