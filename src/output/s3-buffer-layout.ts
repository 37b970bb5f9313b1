// What out_s3's key template needs from the <buffer> section: chunk keys,
// timekey and the zone time placeholders are printed in. The BufferedOutput
// owns and validates these params; this only peeks at them (without marking
// them used) so the S3 key matches the chunking.

import type { ConfigElement } from '../params/element.ts';
import { convertParam } from '../params/convert.ts';
import { localZone, parseZone, type TimeZone } from '../time/zone.ts';

export interface BufferLayout {
  readonly chunkKeys: readonly string[];
  readonly timekey: number | undefined;
  readonly zone: TimeZone;
}

const TIMEKEY_SPEC = { type: 'time', desc: 'timekey' } as const;

export function readBufferLayout(
  buffer: ConfigElement | undefined,
  defaults: { readonly chunkKeys: readonly string[]; readonly timekey: number },
): BufferLayout {
  // `<buffer>` with no argument takes the plugin's default chunk keys
  // (out_s3.rb config_set_default :chunk_keys, ['time']).
  const arg = buffer?.arg.trim() ?? '';
  const chunkKeys = arg === '' ? defaults.chunkKeys : arg.split(',').map((k) => k.trim()).filter((k) => k !== '');
  // The same time grammar the buffer itself configures timekey with (params/convert.ts).
  const rawTimekey = buffer?.params.get('timekey');
  const timekey = chunkKeys.includes('time')
    ? (rawTimekey ? (convertParam(TIMEKEY_SPEC, rawTimekey) as number) : defaults.timekey)
    : undefined;
  // O5 (observed on real Fluentd, which wins over the source reading in §9):
  // the time slice is printed in the process's local zone even with
  // `timekey_use_utc true`; an explicit timekey_zone is honoured.
  const zoneParam = buffer?.params.get('timekey_zone')?.value;
  const zone = zoneParam !== undefined ? parseZone(zoneParam) : localZone();
  return { chunkKeys, timekey, zone };
}
