// A whole exporter world for start's tests: a fake Teleport (mTLS gRPC), the real receiver
// behind mTLS with `<match **> @type stdout`, certs for both, an identity file and a TOML.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { makeCerts } from '../support/certs.ts';
import type { CertFiles } from '../support/certs.ts';
import { mtlsSource, startTestReceiver } from '../support/receiver.ts';
import type { TestReceiver } from '../support/receiver.ts';
import { FakeTeleport } from './fake-teleport/server.ts';
import { generate, makeTeleportCerts, tempDir, writeIdentity } from './fake-teleport/fixtures.ts';
import type { Generated, TeleportCerts } from './fake-teleport/fixtures.ts';
import { loadStartConfig } from '../../src/event-handler/start/start-config.ts';
import { eventBody } from '../../src/event-handler/forward/event-json.ts';
import type { StartConfig, StartFlagName } from '../../src/event-handler/start/start-config.ts';

export interface World {
  readonly dir: string;
  readonly fake: FakeTeleport;
  readonly tcerts: TeleportCerts;
  readonly fcerts: CertFiles;
  readonly recv: TestReceiver;
  readonly identity: string;
  readonly gen: Generated;
  readonly tomlPath: string;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly bulk: boolean;
  readonly count: number;
  readonly days: number;
  readonly perSession?: number;
  readonly sessions?: number;
  readonly unavailableEvery?: number;
  readonly chunkSize?: number;
  readonly exportEndDelayMs?: number;
  readonly extraToml?: string;
  readonly extraClientCas?: readonly string[];
  /** Sections between the receiver's <source> and its stdout <match> (e.g. filters). */
  readonly receiverFilters?: string;
}

export function receiverConf(c: CertFiles, filters = ''): string {
  // time_key no_such_key: events keep their own `time` field, so bodies compare whole.
  return `${mtlsSource(c, { parse: '@type json\n    time_key no_such_key' })}${filters}<match **>
  @type stdout
</match>
`;
}

export async function makeWorld(o: WorldOptions): Promise<World> {
  const dir = tempDir();
  const [tcerts, fcerts] = await Promise.all([makeTeleportCerts(), makeCerts(join(dir))]);
  const fake = new FakeTeleport({ ...tcerts, bulk: o.bulk, unavailableEvery: o.unavailableEvery, chunkSize: o.chunkSize, exportEndDelayMs: o.exportEndDelayMs, extraClientCas: o.extraClientCas });
  const gen = generate(fake, o.count, o.days, o.perSession ?? 20, o.sessions ?? 6);
  const port = await fake.start();
  const recv = await startTestReceiver(receiverConf(fcerts, o.receiverFilters), tempDir('ar-recv-'));
  const identity = writeIdentity(dir, tcerts);
  const tomlPath = join(dir, 'teleport-event-handler.toml');
  writeFileSync(
    tomlPath,
    `storage = "${join(dir, 'storage')}"
timeout = "200ms"
batch = 50
start-time = "${new Date(gen.startMs).toISOString().replace('.000Z', 'Z')}"
${o.extraToml ?? ''}
[forward.fluentd]
ca = "${fcerts.ca}"
cert = "${fcerts.clientCert}"
key = "${fcerts.clientKey}"
url = "https://localhost:${recv.port}/test.log"
session-url = "https://localhost:${recv.port}/session"

[teleport]
addr = "127.0.0.1:${port}"
identity = "${identity}"
`,
  );
  return {
    dir,
    fake,
    tcerts,
    fcerts,
    recv,
    identity,
    gen,
    tomlPath,
    async close() {
      await recv.receiver.close();
      await fake.close();
    },
  };
}

export function config(w: World, flags: Partial<Record<StartFlagName, string>> = {}): StartConfig {
  return loadStartConfig({ configPath: w.tomlPath, flags: { 'exit-on-last-event': 'true', ...flags }, env: {}, cwd: w.dir });
}

export function quietLog(): Logger {
  return pino({ level: process.env.AR_TEST_LOG ? 'debug' : 'silent' });
}

export interface Received {
  readonly tag: string;
  readonly body: Record<string, unknown>;
}

/** out_stdout lines `<time> <tag>: <json>` → tag + record. */
export function received(w: World): Received[] {
  const out: Received[] = [];
  for (const line of w.recv.log.rawLines()) {
    const m = / (\S+): (\{.*\})$/.exec(line);
    if (m !== null) out.push({ tag: m[1], body: JSON.parse(m[2]) as Record<string, unknown> });
  }
  return out;
}

/** Fast retries for tests (defaults are upstream's 1 s..10 s, 5 s pauses). */
export const FAST = { backoffBaseMs: 20, backoffMaxMs: 100, roundPauseMs: 50, pollIntervalMs: 100, missingDelayMs: 200, probeRetryMs: 50, rpcRetryMs: 30 } as const;

export const FAST_ENV = {
  AUDITRELAY_EXPORTER_BACKOFF_BASE_MS: '20',
  AUDITRELAY_EXPORTER_BACKOFF_MAX_MS: '100',
  AUDITRELAY_EXPORTER_ROUND_PAUSE_MS: '50',
  AUDITRELAY_EXPORTER_POLL_INTERVAL_MS: '100',
  AUDITRELAY_EXPORTER_MISSING_DELAY_MS: '200',
  AUDITRELAY_EXPORTER_PROBE_RETRY_MS: '50',
  AUDITRELAY_EXPORTER_RPC_RETRY_MS: '30',
};

/**
 * `bodies` grouped by the fake's bulk chunk they belong to (per UTC day, runs of `chunkSize` in
 * time order), each list in the order given: chunks interleave on the bulk path, their own order
 * must hold.
 */
export function byChunk(fake: FakeTeleport, chunkSize: number, bodies: readonly string[]): Map<string, string[]> {
  const chunkOf = new Map<string, string>();
  const seen = new Map<number, number>();
  for (const e of fake.events) {
    const day = Math.floor(e.timeMs / 86_400_000);
    const i = seen.get(day) ?? 0;
    seen.set(day, i + 1);
    chunkOf.set(eventBody(e.json), `${day}-${Math.floor(i / chunkSize)}`);
  }
  const out = new Map<string, string[]>();
  for (const b of bodies) {
    const key = chunkOf.get(b) ?? 'not an event of the fake';
    const list = out.get(key) ?? [];
    list.push(b);
    out.set(key, list);
  }
  return out;
}

export type LogLine = Record<string, unknown>;

/** A logger whose JSON lines are kept, and handed to `onLine` synchronously inside the log call. */
export function captureLog(onLine?: (l: LogLine) => void): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const sink = new Writable({
    write: (c: Buffer, _e, cb) => {
      for (const text of c.toString().split('\n').filter(Boolean)) {
        const l = JSON.parse(text) as LogLine;
        lines.push(l);
        onLine?.(l);
      }
      cb();
    },
  });
  return { log: pino({ level: 'info' }, sink) as Logger, lines };
}

/**
 * The bulk path reads several chunks at once, so order holds within each chunk only: groups
 * `lines` by the chunk (day, index within the day / chunkSize) of the fake event whose expected
 * line it is (`expected[i]` stands for `fake.events[i]`). Lines that match no expected one are
 * grouped under 'unexpected', so a duplicate or a stranger still fails the comparison.
 */
export function perChunk(fake: FakeTeleport, chunkSize: number, expected: readonly string[], lines: readonly string[]): { expected: Map<string, string[]>; actual: Map<string, string[]> } {
  const chunkOfLine = new Map<string, string>();
  const seen = new Map<number, number>();
  fake.events.forEach((e, i) => {
    const day = Math.floor(e.timeMs / 86_400_000);
    const n = seen.get(day) ?? 0;
    seen.set(day, n + 1);
    if (i < expected.length) chunkOfLine.set(expected[i]!, `${day}-${Math.floor(n / chunkSize)}`);
  });
  const group = (list: readonly string[]): Map<string, string[]> => {
    const out = new Map<string, string[]>();
    for (const l of list) {
      const key = chunkOfLine.get(l) ?? 'unexpected';
      out.set(key, [...(out.get(key) ?? []), l]);
    }
    return out;
  };
  return { expected: group(expected), actual: group(lines) };
}
