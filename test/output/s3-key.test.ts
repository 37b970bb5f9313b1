import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyTemplate, hexRandom, type KeyTemplateOptions } from '../../src/output/s3-key.ts';
import { timekeyToTimeFormat } from '../../src/time/timekey-format.ts';
import { UTC, parseZone } from '../../src/time/zone.ts';
import { UnrecoverableChunkError } from '../../src/plugin-api.ts';

const DEFAULT_FORMAT = '%{path}%{time_slice}_%{index}.%{file_extension}';
const ID_HEX = '0123456789abcdef0123456789abcdef';
// ?time=1700000000 → timekey 60 → 2023-11-14T22:13:00Z (docs/compatibility.md O5).
const TIMEKEY = 1700000000 - (1700000000 % 60);

const seed: KeyTemplateOptions = {
  format: DEFAULT_FORMAT,
  path: 'teleport/logs',
  extension: 'gz',
  timeSliceFormat: '%Y%m%d%H%M%S',
  zone: UTC,
  indexFormat: '%d',
  hexRandomLength: 4,
  chunkKeyTime: true,
  chunkKeyTag: false,
  chunkKeys: [],
  checkObject: true,
};

for (const c of [
  { name: 'seed config (O5 layout, no slash after path)', opts: {}, index: 0, want: 'teleport/logs20231114221300_0.gz' },
  { name: 'next index', opts: {}, index: 1, want: 'teleport/logs20231114221300_1.gz' },
  { name: 'index_format %03d', opts: { indexFormat: '%03d' }, index: 7, want: 'teleport/logs20231114221300_007.gz' },
  { name: 'index_format %x', opts: { indexFormat: '%x' }, index: 255, want: 'teleport/logs20231114221300_ff.gz' },
  { name: 'index_format %04X', opts: { indexFormat: '%04X' }, index: 255, want: 'teleport/logs20231114221300_00FF.gz' },
  { name: 'time slice in +09:00 (O5 TZ=Asia/Tokyo)', opts: { zone: parseZone('+09:00') }, index: 0, want: 'teleport/logs20231115071300_0.gz' },
  { name: 'time slice in Asia/Tokyo', opts: { zone: parseZone('Asia/Tokyo') }, index: 0, want: 'teleport/logs20231115071300_0.gz' },
  { name: 'strftime in path', opts: { path: 'logs/%Y/%m/%d/', timeSliceFormat: '%H%M' }, index: 0, want: 'logs/2023/11/14/2213_0.gz' },
  { name: 'strftime in the format itself', opts: { format: '%Y-%m-%d/%{path}_%{index}.%{file_extension}', path: 'p' }, index: 2, want: '2023-11-14/p_2.gz' },
  { name: 'json extension', opts: { extension: 'json' }, index: 0, want: 'teleport/logs20231114221300_0.json' },
  { name: '${chunk_id}', opts: { format: '%{path}/${chunk_id}.%{file_extension}' }, index: 0, want: `teleport/logs/${ID_HEX}.gz` },
  { name: '%{hex_random} is the reversed id prefix', opts: { format: '%{hex_random}/%{path}_%{index}', hexRandomLength: 6 }, index: 0, want: 'fedcba/teleport/logs_0' },
  { name: 'unknown %{…} becomes empty (Ruby gsub with a Hash)', opts: { format: '%{path}%{nope}_%{index}' }, index: 0, want: 'teleport/logs_0' },
  { name: '${tag} left as is without a tag chunk key', opts: { format: '${tag}/%{index}' }, index: 0, want: '${tag}/0' },
  { name: 'no time chunk key: %Y stays, time_slice empty', opts: { chunkKeyTime: false, format: '%Y/%{path}%{time_slice}_%{index}' }, index: 0, want: '%Y/teleport/logs_0', md: {} },
  { name: '%% through strftime', opts: { format: '100%%/%{index}' }, index: 0, want: '100%/0' },
  { name: 'check_object false: %{index} is empty', opts: { checkObject: false, format: '%{path}/%{time_slice}_%{index}' }, index: 5, want: 'teleport/logs/20231114221300_' },
] as { name: string; opts: Partial<KeyTemplateOptions>; index: number; want: string; md?: object }[]) {
  test(`key: ${c.name}`, () => {
    const t = new KeyTemplate({ ...seed, ...c.opts });
    assert.equal(t.build({ idHex: ID_HEX, metadata: c.md ?? { timekey: TIMEKEY } }, c.index), c.want);
  });
}

for (const c of [
  { format: '${tag}/%{index}', tag: 'test.log', want: 'test.log/0' },
  { format: '${tag[0]}/${tag[1]}/%{index}', tag: 'session.abc', want: 'session/abc/0' },
  { format: '${tag[-1]}/%{index}', tag: 'a.b.c', want: 'c/0' },
  { format: '${tag[5]}/%{index}', tag: 'a.b', want: '${tag[5]}/0' },
]) {
  test(`key with tag chunk key: ${c.format}`, () => {
    const t = new KeyTemplate({ ...seed, format: c.format, chunkKeyTag: true });
    assert.equal(t.build({ idHex: ID_HEX, metadata: { timekey: TIMEKEY, tag: c.tag } }, 0), c.want);
  });
}

test('key with record chunk keys: known, missing', () => {
  const t = new KeyTemplate({ ...seed, format: '${sid}/${other}/%{index}', chunkKeys: ['sid'] });
  assert.equal(t.build({ idHex: ID_HEX, metadata: { timekey: TIMEKEY, variables: { sid: 'abc' } } }, 0), 'abc//0');
});

for (const tag of ['../etc', '/abs']) {
  test(`tag '${tag}' escaping the prefix is unrecoverable`, () => {
    const t = new KeyTemplate({ ...seed, format: 'logs/${tag}/%{index}', chunkKeyTag: true });
    assert.throws(() => t.build({ idHex: ID_HEX, metadata: { timekey: TIMEKEY, tag } }, 0), UnrecoverableChunkError);
  });
}

test('%{uuid_flush}: a fresh v4 uuid per build', () => {
  const t = new KeyTemplate({ ...seed, format: '%{path}/%{uuid_flush}' });
  const a = t.build({ idHex: ID_HEX, metadata: { timekey: TIMEKEY } }, 0);
  const b = t.build({ idHex: ID_HEX, metadata: { timekey: TIMEKEY } }, 0);
  assert.match(a, /^teleport\/logs\/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, b);
  assert.equal(t.hasUuidFlush, true);
});

test('%{hms_slice} is the UTC wall clock with check_object false', () => {
  const t = new KeyTemplate({ ...seed, checkObject: false, format: '%{path}/%{time_slice}_%{hms_slice}.%{file_extension}' });
  const now = Date.UTC(2024, 0, 2, 3, 4, 5);
  assert.equal(t.build({ idHex: ID_HEX, metadata: { timekey: TIMEKEY } }, 0, now), 'teleport/logs/20231114221300_030405.gz');
});

test('hasIndex tells a format without %{index}', () => {
  assert.equal(new KeyTemplate(seed).hasIndex, true);
  assert.equal(new KeyTemplate({ ...seed, format: '%{path}/${chunk_id}' }).hasIndex, false);
});

test('hexRandom', () => {
  assert.equal(hexRandom('abcdef', 4), 'fedc');
  assert.equal(hexRandom('ab', 4), 'ba');
});

for (const c of [
  { timekey: 1, want: '%Y%m%d%H%M%S' },
  { timekey: 59, want: '%Y%m%d%H%M%S' },
  { timekey: 60, want: '%Y%m%d%H%M' },
  { timekey: 3599, want: '%Y%m%d%H%M' },
  { timekey: 3600, want: '%Y%m%d%H' },
  { timekey: 86399, want: '%Y%m%d%H' },
  { timekey: 86400, want: '%Y%m%d' },
  { timekey: undefined, want: '' },
]) {
  test(`time_slice_format derived from timekey ${c.timekey}`, () => assert.equal(timekeyToTimeFormat(c.timekey), c.want));
}
