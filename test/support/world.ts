// The set-ups tests share: an S3 store (s3rver) behind the conditional-PUT proxy with a temp dir,
// and the e2e world (certificates + S3 store + temp dir). Everything is torn down LIFO through
// cleanup(t), so a failing test still removes its keys and directories.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanup, type Defer } from './cleanup.ts';
import { startS3, type TestS3 } from './s3.ts';
import { ConditionalProxy } from './conditional-proxy.ts';
import { makeCerts, type CertFiles } from './certs.ts';
import { MtlsClient, S3Store, seedConf } from '../e2e/harness.ts';
import { killChild, type Child } from './child.ts';
import { startTestReceiver, type TestReceiver } from './receiver.ts';

interface HasAfter {
  after(fn: () => Promise<void> | void): void;
}

/** A temp dir removed at the end of the test. */
export async function tempDirFor(defer: Defer, prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export interface ProxiedS3World {
  readonly defer: Defer;
  readonly s3: TestS3;
  readonly proxy: ConditionalProxy;
  readonly dir: string;
}

/** s3rver with `buckets`, the conditional-PUT proxy in front of it, and a temp dir. */
export async function proxiedS3World(t: HasAfter, buckets: readonly string[], prefix: string, proxyOptions?: ConstructorParameters<typeof ConditionalProxy>[1]): Promise<ProxiedS3World> {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, prefix);
  const s3 = await startS3(buckets);
  defer(() => s3.close());
  const proxy = new ConditionalProxy(s3.endpoint, proxyOptions);
  await proxy.listen();
  defer(() => proxy.close());
  return { defer, s3, proxy, dir };
}

export interface E2eWorld {
  readonly defer: Defer;
  readonly certs: CertFiles;
  readonly s3: S3Store;
  readonly dir: string;
}

/** mTLS certificates, a started S3 store and a temp dir: what every e2e receiver test needs. */
export async function e2eWorld(t: HasAfter, prefix: string): Promise<E2eWorld> {
  const defer = cleanup(t);
  const certs = await makeCerts();
  defer(() => rm(certs.dir, { recursive: true, force: true }));
  const dir = await tempDirFor(defer, prefix);
  const s3 = new S3Store();
  defer(() => s3.remove());
  await s3.start();
  return { defer, certs, s3, dir };
}

export interface ChildWorld extends E2eWorld {
  readonly bufferPath: string;
  readonly confPath: string;
  /** bin/auditrelay children started by the test; killed at the end. */
  readonly children: Child[];
}

/** The e2e world plus a seed fluent.conf on disk for bin/auditrelay children (kill/restart tests). */
export async function childWorld(t: HasAfter, prefix: string, timekey: number, bufferExtra: string): Promise<ChildWorld> {
  const w = await e2eWorld(t, prefix);
  const children: Child[] = [];
  w.defer(() => Promise.all(children.map(killChild)));
  const bufferPath = join(w.dir, 'buffer', 's3-events');
  const confPath = join(w.dir, 'fluent.conf');
  await writeFile(confPath, seedConf({ certs: w.certs, endpoint: w.s3.endpoint, bufferPath, timekey, bufferExtra }));
  return { ...w, bufferPath, confPath, children };
}

export interface MetricsWorld extends E2eWorld {
  readonly r: TestReceiver;
  /** mTLS client of the seed in_http source. */
  readonly client: MtlsClient;
  /** Port of the `<source> @type prometheus` (the config's second source). */
  readonly metrics: number;
}

/**
 * An in-process receiver on the seed fluent.conf (s3 output `@id s3_out`, `timekey` as given,
 * quick flush and retry timings plus `bufferExtra`) with `sources` appended (a prometheus one).
 */
export async function metricsWorld(t: HasAfter, prefix: string, sources: string, o: { timekey?: number; bufferExtra?: string; sockets?: number } = {}): Promise<MetricsWorld> {
  const w = await e2eWorld(t, prefix);
  const conf = seedConf({
    certs: w.certs, endpoint: w.s3.endpoint, bufferPath: join(w.dir, 'buffer'), timekey: o.timekey ?? 1,
    bufferExtra: `flush_thread_interval 0.1\nflush_thread_burst_interval 0.05\nretry_wait 0.2\nretry_max_interval 0.5\n${o.bufferExtra ?? ''}`,
  }).replace('<match test.log>\n  @type s3', '<match test.log>\n  @type s3\n  @id s3_out');
  const r = await startTestReceiver(conf + sources, w.dir);
  w.defer(() => r.receiver.close());
  const client = new MtlsClient(r.port, w.certs, o.sockets ?? 1);
  w.defer(() => client.close());
  return { ...w, r, client, metrics: r.receiver.ports[1]! };
}
