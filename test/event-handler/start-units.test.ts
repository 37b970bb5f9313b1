// Pure parts of start: the POST body (protojson of a Struct), identity parsing, state encodings.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { parseIdentityFile } from '../../src/event-handler/teleport/identity.ts';
import { StateStore, stateDirName } from '../../src/event-handler/state/state.ts';
import { CursorV2Writer, loadCursorV2 } from '../../src/event-handler/state/cursor-v2.ts';
import { identityText, makeTeleportCerts, tempDir } from './fake-teleport/fixtures.ts';

for (const c of [
  { in: { b: 1, a: { d: [1, 'x'], c: null } }, out: '{"a":{"c":null,"d":[1,"x"]},"b":1}' },
  { in: { s: 'tab\there "q" \u007f <&>' }, out: '{"s":"tab\\there \\"q\\" \\u007f <&>"}' },
  { in: { n: 1e21, m: 1e-7, f: 0.5, i: 2147483647 }, out: '{"f":0.5,"i":2147483647,"m":1e-7,"n":1e+21}' },
]) {
  test(`eventBody: ${c.out}`, () => assert.equal(eventBody(c.in as never), c.out));
}

test('parseIdentityFile: key, TLS cert, CAs by PEM order; SSH lines ignored', async () => {
  const c = await makeTeleportCerts();
  const id = parseIdentityFile(identityText(c.clientKeyPem, c.clientCertPem, [c.caPem, c.caPem]));
  assert.equal(id.keyPem.trim(), c.clientKeyPem.trim());
  assert.equal(id.certPem.trim(), c.clientCertPem.trim());
  assert.equal(id.caPems.length, 2);
  assert.ok(id.notAfter.getTime() > Date.now());
  assert.throws(() => parseIdentityFile(c.clientKeyPem + c.clientCertPem), { code: 'AR_EXPORTER_IDENTITY' });
});

test('StateStore: upstream names and encodings', async () => {
  const dir = tempDir();
  assert.equal(stateDirName('teleport.example.com:443'), 'teleport.example.com_443');
  assert.throws(() => stateDirName('nohost'), { code: 'AR_EXPORTER_CONFIG' });
  const s = new StateStore(dir, 'example.com:3025');
  assert.equal(s.dir, join(dir, 'example.com_3025'));
  const start = s.initStartTime(new Date('2024-11-20T10:00:00Z'));
  assert.equal(readFileSync(join(s.dir, 'start_time'), 'utf8'), '2024-11-20T10:00:00Z');
  assert.equal(s.initStartTime(undefined).getTime(), start.getTime());
  await s.setLegacyPosition(new Date('2024-11-21T00:00:00Z'), 'key-1', 'id-1');
  assert.equal(readFileSync(join(s.dir, 'window_time'), 'utf8'), '2024-11-21T00:00:00Z');
  assert.equal(readFileSync(join(s.dir, 'cursor'), 'utf8'), 'key-1');
  assert.equal(readFileSync(join(s.dir, 'id'), 'utf8'), 'id-1');
  await s.setSessionIndex('abc', 258);
  assert.deepEqual([...readFileSync(join(s.dir, 'sessionabc'))], [0, 0, 0, 0, 0, 0, 1, 2]);
  assert.deepEqual([...s.getSessions()], [['abc', 258]]);
  await s.setMissingRecording('abc', { index: 3, attempt: 1, uploadTime: new Date('2024-11-20T10:00:00.5Z') });
  assert.equal(readFileSync(join(s.dir, 'missing_recordingabc'), 'utf8'), '{"Index":3,"Attempt":1,"Timestamp":"2024-11-20T10:00:00.5Z"}');
  assert.deepEqual(readdirSync(s.dir).filter((f) => f.startsWith('.tmp')), []);
});

test('cursor_v2: completed-chunks lines and <chunk>.chunk cursors, read back', async () => {
  const dir = join(tempDir(), 'cursor_v2');
  const w = new CursorV2Writer(dir, new Map());
  await w.sync(new Map([['2024-11-20', { completed: new Set(['a', 'b']), partial: new Map([['c', 'cur-c']]) }]]));
  assert.equal(readFileSync(join(dir, '2024-11-20', 'completed-chunks'), 'utf8'), 'a\nb\n');
  assert.equal(readFileSync(join(dir, '2024-11-20', 'c.chunk'), 'utf8'), 'cur-c');
  await w.sync(new Map([['2024-11-21', { completed: new Set(['c']), partial: new Map() }]]));
  assert.deepEqual(readdirSync(dir), ['2024-11-21']);
  const back = loadCursorV2(dir);
  assert.deepEqual([...back.get('2024-11-21')!.completed], ['c']);
});
