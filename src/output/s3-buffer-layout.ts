// What out_s3's key template needs from the <buffer> section: chunk keys,
// timekey and the zone time placeholders are printed in. The BufferedOutput
// owns and validates these params; this only peeks at them (without marking
// them used) so the S3 key matches the chunking.

import type { ConfigElement } from '../config/element.ts';
import { localZone, parseZone, type TimeZone } from '../time/zone.ts';

export interface BufferLayout {
  readonly chunkKeys: readonly string[];
  readonly timekey: number | undefined;
  readonly zone: TimeZone;
}

const TIME_VALUE = /^(\d+(?:\.\d+)?)([smhd]?)$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

export function readBufferLayout(
  buffer: ConfigElement | undefined,
  defaults: { readonly chunkKeys: readonly string[]; readonly timekey: number },
): BufferLayout {
  // `<buffer>` with no argument takes the plugin's default chunk keys
  // (out_s3.rb config_set_default :chunk_keys, ['time']).
  const arg = buffer?.arg.trim() ?? '';
  const chunkKeys = arg === '' ? defaults.chunkKeys : arg.split(',').map((k) => k.trim()).filter((k) => k !== '');
  const rawTimekey = buffer?.params.get('timekey')?.value;
  const m = rawTimekey === undefined ? null : TIME_VALUE.exec(rawTimekey.trim());
  const timekey = chunkKeys.includes('time')
    ? (m ? Number(m[1]) * UNIT_SECONDS[m[2]] : defaults.timekey)
    : undefined;
  // O5 (observed on real Fluentd, which wins over the source reading in §9):
  // the time slice is printed in the process's local zone even with
  // `timekey_use_utc true`; an explicit timekey_zone is honoured.
  const zoneParam = buffer?.params.get('timekey_zone')?.value;
  const zone = zoneParam !== undefined ? parseZone(zoneParam) : localZone();
  return { chunkKeys, timekey, zone };
}
