// Wall clock → instant in a zone, as Ruby's Time.local / the strptime gem's
// find_time_t do it: a wall time that exists twice (DST ends) maps to the
// earlier instant; one that does not exist (DST starts) is read with the
// offset in force before the gap, so 02:30 becomes 03:30 summer time.

import type { TimeZone } from './zone.ts';

export function localToUtc(wall: number, zone: TimeZone): number {
  const before = zone.offsetAt(wall - 86400);
  const after = zone.offsetAt(wall + 86400);
  const hi = Math.max(before, after);
  const lo = Math.min(before, after);
  if (zone.offsetAt(wall - hi) === hi) return wall - hi;
  if (zone.offsetAt(wall - lo) === lo) return wall - lo;
  // Neither neighbour fits (gap, or a transition not seen a day away).
  const guess = zone.offsetAt(wall - zone.offsetAt(wall));
  return zone.offsetAt(wall - guess) === guess ? wall - guess : wall - before;
}
