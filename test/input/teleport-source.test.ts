// `<source> @type teleport` in process: the records it emits are the ones in_http makes of the
// same bodies POSTed by the event handler (same parse, same event time, same tags); a reload
// mid-export stops the source and starts the new one on the same state, every audit event
// once; configuration mistakes name the param and file:line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { cleanup } from '../support/cleanup.ts';
import { makeCerts } from '../support/certs.ts';
import { mtlsSource, SEED_PARSE, startTestReceiver } from '../support/receiver.ts';
import type { TestReceiver } from '../support/receiver.ts';
import { MtlsClient, waitFor } from '../e2e/harness.ts';
import { tempDirFor } from '../support/world.ts';
import { FakeTeleport } from '../event-handler/fake-teleport/server.ts';
import { generate, makeTeleportCerts, writeIdentity } from '../event-handler/fake-teleport/fixtures.ts';
import { FAST_ENV, perChunk } from '../event-handler/start-helpers.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import { ReloadableReceiver } from '../../src/cli/reload.ts';
import { teleportSource } from '../support/teleport-source.ts';
import { httpGet } from '../support/http-get.ts';
import { writeFile } from 'node:fs/promises';

Object.assign(process.env, FAST_ENV);

interface Line {
  readonly time: string;
  readonly tag: string;
  readonly record: string;
}

/** out_stdout lines `<time> <tag>: <json>`. */
function stdoutLines(r: TestReceiver): Line[] {
  const out: Line[] = [];
  for (const l of r.log.rawLines()) {
    const m = /^(.*) (\S+): (\{.*\})$/.exec(l);
    if (m !== null) out.push({ time: m[1], tag: m[2], record: m[3] });
  }
  return out;
}

async function world(t: Parameters<typeof cleanup>[0], o: { count: number; sessions: number; bulk: boolean; extra?: string }) {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, 'ar-tsrc-in-');
  const certs = await makeCerts(join(dir));
  const tcerts = await makeTeleportCerts();
  const fake = new FakeTeleport({ ...tcerts, bulk: o.bulk, chunkSize: 100 });
  const gen = generate(fake, o.count, 1, 8, o.sessions);
  const port = await fake.start();
  defer(() => fake.close());
  const identity = writeIdentity(dir, tcerts);
  const conf =
    mtlsSource(certs, { parse: SEED_PARSE }) +
    teleportSource({ port, identity, storage: join(dir, 'storage'), startMs: gen.startMs, extra: `tag teleport.log\n  session_tag tsession\n  ${o.extra ?? ''}` }) +
    '<match **>\n  @type stdout\n</match>\n';
  const recvDir = await tempDirFor(defer, 'ar-tsrc-recv-');
  const recv = await startTestReceiver(conf, recvDir);
  const current = { receiver: recv.receiver };
  defer(() => current.receiver.close());
  return { defer, dir, certs, fake, gen, recv, current };
}

test('the source emits what in_http makes of the same POSTs: tag, event time and record', async (t) => {
  const w = await world(t, { count: 60, sessions: 2, bulk: false });
  const sessionEvents = [...w.fake.sessions.values()].flat().filter((e) => e.type !== 'print');
  await waitFor('every event emitted', () => {
    const lines = stdoutLines(w.recv);
    return lines.filter((l) => l.tag === 'teleport.log').length >= 60 && lines.filter((l) => l.tag.startsWith('tsession.')).length >= sessionEvents.length ? true : undefined;
  }, 30_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${w.recv.log.lines.slice(-15).join('\n')}`);
  });
  // The event handler's POSTs of the same events, to in_http.
  const client = new MtlsClient(w.recv.port, w.certs, 1);
  w.defer(() => client.close());
  for (const e of w.fake.events) assert.equal((await client.post('test.log', eventBody(e.json))).status, 200);
  for (const [sid, evs] of w.fake.sessions) {
    for (const e of evs) if (e.type !== 'print') assert.equal((await client.post(`session.${sid}.log`, eventBody(e.json))).status, 200);
  }
  const lines = stdoutLines(w.recv);
  const strip = (tag: string) => (l: Line) => `${l.time}|${l.tag.replace(tag, '')}|${l.record}`;
  const fromSource = lines.filter((l) => l.tag === 'teleport.log').map(strip('teleport.log'));
  const fromHttp = lines.filter((l) => l.tag === 'test.log').map(strip('test.log'));
  assert.equal(fromSource.length, 60);
  assert.deepEqual(fromSource, fromHttp, 'audit: same time and record');
  const sourceSessions = lines.filter((l) => l.tag.startsWith('tsession.')).map(strip('tsession.'));
  const httpSessions = lines.filter((l) => l.tag.startsWith('session.')).map(strip('session.'));
  assert.deepEqual(sourceSessions, httpSessions, 'recordings: same tag suffix (<sid>.log), time and record');
  // Not the emit time: the event's own `time`, read by the seed's <parse>.
  assert.equal(fromSource[0].split('|')[0].slice(0, 19), String(w.fake.events[0].json['time']).slice(0, 19).replace('T', ' '));
});

test('a reload mid-export stops the source and starts the new one on the same state: every audit event once, in order', async (t) => {
  const w = await world(t, { count: 3000, sessions: 0, bulk: true });
  const reloadable = new ReloadableReceiver(w.recv.receiver, w.recv.confPath);
  const audit = () => stdoutLines(w.recv).filter((l) => l.tag === 'teleport.log');
  await waitFor('a first part exported', () => (audit().length >= 300 ? true : undefined), 30_000, 2);
  const atReload = audit().length;
  assert.ok(atReload < 3000, 'the export was still running at the reload');
  assert.equal(await reloadable.reload('SIGHUP'), true);
  w.current.receiver = reloadable.current;
  await waitFor('every event emitted', () => (audit().length >= 3000 ? true : undefined), 60_000);
  // The old source said it stopped, the new one opened the same state.
  const log = w.recv.log.lines.join('\n');
  assert.equal(log.match(/teleport source stopped/g)?.length, 1);
  assert.equal(log.match(/Using storage directory/g)?.length, 2);
  const uids = audit().map((l) => (JSON.parse(l.record) as { uid: string }).uid);
  t.diagnostic(`${atReload} of 3000 emitted at the reload, ${uids.length} after`);
  // The bulk path reads several chunks at once: in order within each chunk.
  const want = w.fake.events.map((e) => String(e.json['uid']));
  const c = perChunk(w.fake, 100, want, uids);
  assert.deepEqual(c.actual, c.expected, 'every audit event once, in order (per chunk), across the reload');
});

test('configuration mistakes name the param and file:line', async (t) => {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, 'ar-tsrc-conf-');
  const tcerts = await makeTeleportCerts();
  const identity = writeIdentity(dir, tcerts);
  const cases: [string, RegExp][] = [
    [`identity ${join(dir, 'nope')}`, /fluent\.conf:4: <source @type teleport>: identity: identity = .* is not an existing file/],
    [`identity ${identity}\n  ca ${identity}\n  cert ${identity}\n  key ${identity}`, /`identity` is mutually exclusive with the `cert`, `key` and `ca` settings/],
    ['', /neither `identity` file nor `cert`, `key` and `ca` files configured/],
    [`identity ${identity}\n  ca ${identity}`, /`ca` are provided but setting\(s\) `cert`, `key` are missing/],
    [`identity ${identity}\n  tag "bad tag"`, /tag 'bad tag' is not a tag/],
    [`identity ${identity}\n  start_time yesterday`, /fluent\.conf:5: <source @type teleport>: start_time: start_time = "yesterday" is not an RFC 3339 time/],
  ];
  for (const [extra, want] of cases) {
    const conf = `<source>\n  @type teleport\n  storage ${join(dir, 'storage')}\n  ${extra}\n</source>\n<match **>\n  @type null\n</match>\n`;
    const recvDir = await tempDirFor(defer, 'ar-tsrc-conf-recv-');
    await assert.rejects(startTestReceiver(conf, recvDir), want, extra);
  }
  await rm(join(dir, 'storage'), { recursive: true, force: true });
  // `start`'s flag spelling never shows.
  await assert.rejects(
    startTestReceiver(`<source>\n  @type teleport\n  storage ${join(dir, 'storage')}\n  identity ${join(dir, 'nope')}\n</source>\n`, await tempDirFor(defer, 'ar-tsrc-conf-recv-')),
    (err: Error) => !err.message.includes('--teleport'),
  );
});

test('an export that fails for good makes /readyz answer 503 with the reason; the receiver keeps serving', async (t) => {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, 'ar-tsrc-fail-');
  const certs = await makeCerts(dir);
  // Exists (the config check passes) but holds no certificate: the export fails once it starts.
  const identity = join(dir, 'identity');
  await writeFile(identity, 'not an identity file\n');
  const conf = mtlsSource(certs, { parse: SEED_PARSE }) +
    teleportSource({ port: 1, identity, storage: join(dir, 'storage'), startMs: Date.parse('2024-01-01T00:00:00Z') }) +
    '<source>\n  @type prometheus\n  bind 127.0.0.1\n  port 0\n</source>\n<match **>\n  @type null\n</match>\n';
  const recv = await startTestReceiver(conf, await tempDirFor(defer, 'ar-tsrc-fail-recv-'));
  defer(() => recv.receiver.close());
  const metrics = recv.receiver.ports[2]!; // sources in config order: http, teleport, prometheus
  const ready = await waitFor('/readyz reports the failed export', async () => {
    const a = await httpGet(metrics, '/readyz');
    return a.status === 503 ? a : undefined;
  }, 15_000);
  assert.match(ready.body, /source .*\(@type teleport\): export stopped: .+; fix it and reload \(SIGHUP\) or restart/);
  assert.ok(recv.log.lines.some((l) => l.includes('teleport source failed')), 'the failure is logged');
  // in_http still answers.
  const client = new MtlsClient(recv.port, certs, 1);
  defer(() => client.close());
  const answer = await client.post('test.log', JSON.stringify({ event: 'x', time: '2024-01-01T00:00:00Z' }));
  assert.equal(answer.status, 200);
});
