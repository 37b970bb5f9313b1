// The world of the `<source> @type teleport` tests: a fake Teleport (mTLS gRPC) with generated
// audit events and recordings, the seed fluent.conf for bin/auditrelay children with the
// teleport source added (the seed's <parse>), audit events to S3 under teleport/logs and the
// recordings (session.<sid>.log, which the seed's `session.*` misses) to S3 under
// teleport/sessions, each through its own file buffer; optionally a dedup filter by uid.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { childWorld, tempDirFor, type ChildWorld } from './world.ts';
import { allLines } from '../e2e/harness.ts';
import { FakeTeleport } from '../event-handler/fake-teleport/server.ts';
import { generate, makeTeleportCerts, writeIdentity } from '../event-handler/fake-teleport/fixtures.ts';
import type { Generated } from '../event-handler/fake-teleport/fixtures.ts';
import { FAST_ENV } from '../event-handler/start-helpers.ts';

export interface TeleportSourceOptions {
  readonly bulk: boolean;
  readonly count: number;
  readonly days: number;
  readonly perSession?: number;
  readonly sessions?: number;
  readonly chunkSize?: number;
  /** A `<filter test.log> @type dedup key uid` before the s3 match. */
  readonly dedup?: boolean;
  /** Of both s3 buffers (default 3600). */
  readonly timekey?: number;
  /** Extra lines inside the teleport <source>. */
  readonly sourceExtra?: string;
}

export interface TeleportSourceWorld extends ChildWorld {
  readonly fake: FakeTeleport;
  readonly gen: Generated;
  readonly identity: string;
  readonly storage: string;
  readonly sessionBuffer: string;
  /** A TOML for `auditrelay-event-handler start` on the same storage and Teleport, posting to `port`. */
  toml(port: number): string;
}

/** The teleport <source>, with the seed <source>'s <parse>. */
export function teleportSource(o: { port: number; identity: string; storage: string; startMs: number; extra?: string }): string {
  return `<source>
  @type teleport
  addr 127.0.0.1:${o.port}
  identity ${o.identity}
  storage ${o.storage}
  start_time ${new Date(o.startMs).toISOString().replace('.000Z', 'Z')}
  batch 50
  timeout 0.2
  ${o.extra ?? ''}
  <parse>
    @type json
    json_parser oj
    time_type string
    time_format %Y-%m-%dT%H:%M:%S
  </parse>
</source>
`;
}

export async function teleportSourceWorld(t: { after(fn: () => Promise<void> | void): void }, prefix: string, o: TeleportSourceOptions): Promise<TeleportSourceWorld> {
  // The exporter's fast retries, read by the children (tuningFromEnv).
  Object.assign(process.env, FAST_ENV);
  const w = await childWorld(t, prefix, o.timekey ?? 3600, 'flush_thread_interval 0.2\nflush_thread_burst_interval 0.1');
  const tcerts = await makeTeleportCerts();
  const fake = new FakeTeleport({ ...tcerts, bulk: o.bulk, chunkSize: o.chunkSize });
  const gen = generate(fake, o.count, o.days, o.perSession ?? 20, o.sessions ?? 6);
  const port = await fake.start();
  w.defer(() => fake.close());
  const keys = await tempDirFor(w.defer, 'ar-tsrc-id-');
  const identity = writeIdentity(keys, tcerts);
  const storage = join(w.dir, 'storage');
  const sessionBuffer = join(w.dir, 'buffer', 's3-sessions');
  let conf = await readFile(w.confPath, 'utf8');
  const seedSessions = /<match session\.\*>\n\s*@type stdout\n<\/match>\n?/;
  if (!seedSessions.test(conf)) throw new Error('seed fluent.conf changed: <match session.*> not found');
  const s3Match = /<match test\.log>\n([\s\S]*?)<\/match>/.exec(conf)![1];
  const sessionsMatch = `<match session.**>\n${s3Match.replace('path teleport/logs', 'path teleport/sessions').replace(w.bufferPath, sessionBuffer)}</match>\n`;
  conf = conf.replace(seedSessions, sessionsMatch);
  if (o.dedup === true) conf = conf.replace('<match test.log>', `<filter test.log>\n  @type dedup\n  key uid\n  path ${join(w.dir, 'dedup')}\n</filter>\n<match test.log>`);
  conf = teleportSource({ port, identity, storage, startMs: gen.startMs, extra: o.sourceExtra }) + conf;
  await writeFile(w.confPath, conf);
  return {
    ...w,
    fake,
    gen,
    identity,
    storage,
    sessionBuffer,
    toml: (receiverPort: number) => `storage = "${storage}"
timeout = "200ms"
batch = 50
start-time = "${new Date(gen.startMs).toISOString().replace('.000Z', 'Z')}"

[forward.fluentd]
ca = "${w.certs.ca}"
cert = "${w.certs.clientCert}"
key = "${w.certs.clientKey}"
url = "https://localhost:${receiverPort}/test.log"
session-url = "https://localhost:${receiverPort}/session"

[teleport]
addr = "127.0.0.1:${port}"
identity = "${identity}"
`,
  };
}

/** The S3 lines under teleport/logs (audit) or teleport/sessions, parsed, in key order. */
export async function s3Records(w: TeleportSourceWorld, what: 'logs' | 'sessions'): Promise<Record<string, unknown>[]> {
  return allLines(await w.s3.objects(`teleport/${what}`)).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** True once both buffer directories hold no chunk. */
export async function buffersEmpty(w: TeleportSourceWorld): Promise<boolean> {
  for (const dir of [w.bufferPath, w.sessionBuffer]) {
    const files = await readdir(dir).catch(() => []);
    if (files.some((f) => f.endsWith('.log'))) return false;
  }
  return true;
}
