// `<system> workers 2` (issue 16 §3, src/cli/supervisor.ts): a real bin/auditrelay
// primary with two cluster workers, file buffer + s3 to s3rver behind the
// conditional-PUT proxy. Posts over 16 keep-alive connections reach both workers
// (each buffers in its own <path>/worker<N>/); both flush chunks of the same time
// slice at once, so their %{index} probes collide and If-None-Match keeps the
// objects apart; kill -9 of one worker → the primary starts it again and it
// resumes its buffer; SIGTERM → exit 0 and no worker left. Every acknowledged uid
// is in S3 exactly once at the end. A second test checks <worker 0> sections, the
// per-worker prometheus ports (worker_id label) and the aggregate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { newTally, REPO_ROOT, runLoad, startChild, type Child, type LoadTally } from '../support/child.ts';
import { allLines, MtlsClient, tally, waitFor } from '../e2e/harness.ts';
import { childWorld, tempDirFor } from '../support/world.ts';
import { cleanup } from '../support/cleanup.ts';
import { loadReceiver, startReceiver } from '../../src/receiver.ts';
import { EventTime } from '../../src/time/event-time.ts';
import { restartDelayMs } from '../../src/cli/supervisor.ts';
import { aggregateMetrics, workerHost } from '../../src/input/prometheus-aggregate.ts';
import { createProcessLog } from '../../src/log.ts';
import { parseConfigString } from '../../src/config/parser.ts';
import { ConditionalProxy } from '../support/conditional-proxy.ts';
import type { CertFiles } from '../support/certs.ts';

const run = promisify(execFile);
const WORKERS_2 = '<system>\n  workers 2\n</system>\n';

interface LogLine {
  msg?: string;
  worker?: number;
  pid?: number;
}

function parsed(c: Child): LogLine[] {
  return c.lines.flatMap((l) => {
    try {
      return [JSON.parse(l) as LogLine];
    } catch {
      return [];
    }
  });
}

/** The pid of worker `id` from the primary's nth (1-based) "Worker <id> is running" line. */
function workerPid(c: Child, id: number, nth = 1): number | undefined {
  return parsed(c).filter((l) => l.msg === `Worker ${id} is running`)[nth - 1]?.pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function chunkFiles(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((f) => /^buffer\.[bq][0-9a-f]{32}\.log$/.test(f));
}

/** Runs `senders` loops over one keep-alive connection each for `ms`, then stops them. */
async function loadFor(port: number, certs: CertFiles, load: LoadTally, prefix: string, ms: number): Promise<void> {
  const client = new MtlsClient(port, certs, 16);
  let stop = false;
  const senders = runLoad(client, load, prefix, { senders: 16, pauseMs: 2, stop: () => stop });
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  await senders;
  client.close();
}

test('workers 2: both workers take traffic, kill -9 → restarted and resumed, SIGTERM → exit 0; every 2xx in S3 exactly once', { timeout: 150_000 }, async (t) => {
  const w = await childWorld(t, 'ar-workers-', 3600, 'flush_thread_interval 0.1');
  const proxy = new ConditionalProxy(w.s3.endpoint);
  await proxy.listen();
  w.defer(() => proxy.close());
  const pids = new Set<number>();
  w.defer(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const conf = (await readFile(w.confPath, 'utf8')).replace(`s3_endpoint ${w.s3.endpoint}`, `s3_endpoint ${proxy.endpoint}`);
  await writeFile(w.confPath, WORKERS_2 + conf);
  const dirs = [join(w.bufferPath, 'worker0'), join(w.bufferPath, 'worker1')];
  const start = async (): Promise<Child> => {
    const c = await startChild(w.confPath);
    w.children.push(c);
    await waitFor('both workers running', () => (workerPid(c, 0) && workerPid(c, 1) ? true : undefined), 60_000, 50);
    pids.add(workerPid(c, 0)!).add(workerPid(c, 1)!);
    return c;
  };
  const drained = (c: Child, what: string) => waitFor(what, async () => ((await chunkFiles(dirs[0]!)).length + (await chunkFiles(dirs[1]!)).length === 0 ? true : undefined), 60_000, 100)
    .catch((err: Error) => { throw new Error(`${err.message}\n${c.lines.slice(-40).join('\n')}`); });
  const flush = async (c: Child) => {
    c.proc.kill('SIGUSR1'); // the primary forwards it: every worker flushes its chunks
    await drained(c, 'both worker buffers flushed after SIGUSR1');
  };
  const load = newTally();

  const first = await start();
  await loadFor(first.port, w.certs, load, 'a', 1500);
  // timekey 3600: the chunks stay staged, one per worker, in its own directory.
  const staged = await Promise.all(dirs.map(chunkFiles));
  t.diagnostic(`phase a: acknowledged ${load.acked.size}; staged chunks worker0 ${staged[0]!.length}, worker1 ${staged[1]!.length}`);
  assert.ok(staged[0]!.length > 0 && staged[1]!.length > 0, `both workers took traffic: ${JSON.stringify(staged)}`);
  assert.deepEqual(await chunkFiles(w.bufferPath), [], 'no chunk directly in <path> with workers 2');
  // Hold the first two object HEADs until both arrived: the workers probe the same %{index}.
  proxy.gateHeads(2);
  await flush(first);
  t.diagnostic(`phase a flushed: ${proxy.objectPuts} object PUTs, ${proxy.preconditionFailures} answered 412`);
  assert.ok(proxy.preconditionFailures >= 1, 'the two workers never raced for one key: the collision was not tested');

  // kill -9 worker 1 under load: its connections break, worker 0's go on.
  const during = loadFor(first.port, w.certs, load, 'b', 1500);
  await new Promise((r) => setTimeout(r, 700));
  const victim = workerPid(first, 1)!;
  assert.ok((await chunkFiles(dirs[1]!)).length > 0, 'worker 1 holds no chunk before the kill');
  process.kill(victim, 'SIGKILL');
  await during;
  const restarted = await waitFor('worker 1 restarted', () => workerPid(first, 1, 2), 60_000, 50);
  pids.add(restarted);
  assert.notEqual(restarted, victim);
  assert.ok(parsed(first).some((l) => l.msg === 'Worker 1 exited unexpectedly with signal SIGKILL'), 'the primary logged the death');
  assert.equal(first.proc.exitCode, null, 'the primary kept running');
  await flush(first); // the restarted worker uploads what the killed one had buffered
  const inS3 = new Set(allLines(await w.s3.objects()).map((l) => (JSON.parse(l) as { uid: string }).uid));
  const missing = [...load.acked].filter((u) => !inS3.has(u));
  assert.deepEqual(missing, [], 'acknowledged before the kill but not uploaded after the restart');

  await loadFor(first.port, w.certs, load, 'c', 1000);
  const workerPids = [workerPid(first, 0)!, restarted];
  first.proc.kill('SIGTERM');
  assert.equal(await first.exited, 0, `SIGTERM: exit 0\n${first.stderr()}`);
  await waitFor('every worker exited', () => (workerPids.every((p) => !alive(p)) ? true : undefined), 10_000, 50);
  const stayed = (await chunkFiles(dirs[0]!)).length + (await chunkFiles(dirs[1]!)).length;
  assert.ok(stayed > 0, 'flush_at_shutdown false: the chunks stay for the next start');

  const second = await start();
  await flush(second);
  const counts = tally(allLines(await w.s3.objects()).map((l) => (JSON.parse(l) as { uid: string }).uid));
  const lost = [...load.acked].filter((u) => !counts.has(u));
  const twice = [...counts].filter(([, n]) => n > 1);
  const unknown = [...counts.keys()].filter((u) => !load.sent.has(u));
  t.diagnostic(`sent ${load.sent.size}, acknowledged ${load.acked.size}, refused ${load.refused}; in S3 ${counts.size} uids; lost ${lost.length}, twice ${twice.length}, unknown ${unknown.length}; ${proxy.preconditionFailures} PUTs answered 412`);
  assert.ok(load.acked.size >= 100, `only ${load.acked.size} events acknowledged: the load did not run`);
  assert.deepEqual(lost, [], 'acknowledged events missing from S3');
  assert.deepEqual(twice, [], 'events stored more than once');
  assert.deepEqual(unknown, [], 'uids in S3 that were never sent');
});

/** Two consecutive free ports (prometheus listens on port + worker id). */
async function freePortPair(): Promise<number> {
  const listen = (port: number) => new Promise<number | undefined>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  for (;;) {
    const base = (await listen(0))!;
    if (base < 65535 && (await listen(base + 1)) !== undefined) return base;
  }
}

async function getText(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(res.status, 200, `${path} on ${port}`);
  return res.text();
}

test('workers 2: <worker 0> sections run in worker 0 only; prometheus per worker (port + id, worker_id) and aggregated; SIGHUP forwarded; workers stop when the primary is killed', { timeout: 120_000 }, async (t) => {
  const w = await childWorld(t, 'ar-workers-sections-', 60, '');
  const pids = new Set<number>();
  w.defer(() => {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const shared = await freePortPair();
  const only0 = await freePortPair();
  const conf = await readFile(w.confPath, 'utf8');
  await writeFile(w.confPath, WORKERS_2 + conf +
    `<source>\n  @type prometheus\n  port ${shared}\n</source>\n` +
    `<worker 0>\n  <source>\n    @type prometheus\n    port ${only0}\n  </source>\n</worker>\n`);
  const c = await startChild(w.confPath);
  w.children.push(c);
  await waitFor('both workers running', () => (workerPid(c, 0) && workerPid(c, 1) ? true : undefined), 60_000, 50);
  pids.add(workerPid(c, 0)!).add(workerPid(c, 1)!);

  const listening = parsed(c).filter((l) => l.msg === 'listening prometheus http server') as (LogLine & { port: number })[];
  assert.deepEqual(listening.map((l) => `${l.worker}:${l.port}`).sort(), [`0:${only0}`, `0:${shared}`, `1:${shared + 1}`].sort(),
    'the shared source in both workers (port + worker id), the <worker 0> one only in worker 0');
  const m0 = await getText(shared, '/metrics');
  const m1 = await getText(shared + 1, '/metrics');
  assert.match(m0, /fluentd_output_status_buffer_queue_length\{[^}]*worker_id="0"/);
  assert.match(m1, /fluentd_output_status_buffer_queue_length\{[^}]*worker_id="1"/);
  const all = await getText(shared, '/aggregated_metrics');
  assert.match(all, /worker_id="0"/);
  assert.match(all, /worker_id="1"/);
  assert.equal(all.match(/^# TYPE fluentd_output_status_buffer_queue_length /gm)?.length, 1, 'one family, samples of both workers');
  // Inside <worker 0> the plugin sees workers 1 (Fluentd's system_config_override): no worker_id label.
  assert.doesNotMatch(await getText(only0, '/metrics'), /worker_id=/);
  assert.equal(await getText(shared + 1, '/healthz'), 'ok\n');
  // SIGHUP reaches every worker through the primary: each reloads in place.
  c.proc.kill('SIGHUP');
  await waitFor('both workers reloaded', () => {
    const reloaded = parsed(c).filter((l) => l.msg === 'config reloaded').map((l) => l.worker).sort();
    return reloaded.length === 2 && reloaded[0] === 0 && reloaded[1] === 1 ? true : undefined;
  }, 60_000, 50);
  assert.equal(workerPid(c, 0, 2), undefined, 'no worker was restarted for it');
  assert.match(await getText(shared + 1, '/metrics'), /worker_id="1"/);
  // kill -9 of the primary: the workers see their IPC channel close and stop on their own.
  c.proc.kill('SIGKILL');
  await c.exited;
  await waitFor('both workers stopped after the primary died', () => ([...pids].every((p) => !alive(p)) ? true : undefined), 30_000, 50);
});

/** loadReceiver on `text` (workers from its <system>); the ConfigError message, or undefined when it loads. */
async function loadError(dir: string, text: string, workerId = 0): Promise<string | undefined> {
  const file = join(dir, `c${Math.random().toString(16).slice(2)}.conf`);
  writeFileSync(file, text);
  try {
    await loadReceiver({ configPath: file, processLog: createProcessLog({ level: 'silent' }), workerId });
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

test('workers config errors are Fluentd\'s: <worker> ids, plugins not multi-worker ready, a file buffer path that is no directory', async (t) => {
  const dir = await tempDirFor(cleanup(t), 'ar-workers-conf-');
  const sys = (n: number) => `<system>\n  workers ${n}\n</system>\n`;
  const match = (inner = '') => `<match **>\n  @type null\n${inner}</match>\n`;
  assert.equal(await loadError(dir, sys(2) + '<worker 0-1>\n' + match() + '</worker>\n'), undefined);
  assert.match(await loadError(dir, sys(2) + '<worker>\n</worker>\n') ?? '', /Missing worker id on <worker> directive/);
  assert.match(await loadError(dir, sys(2) + '<worker 2>\n</worker>\n') ?? '',
    /:4: worker id 2 specified by <worker> directive is not allowed\. Available worker id is between 0 and 1 \[AR_CONF_WORKERS\]/);
  assert.match(await loadError(dir, sys(3) + '<worker 2-1>\n</worker>\n') ?? '', /greater first_worker_id<2> than last_worker_id<1>/);
  assert.match(await loadError(dir, sys(3) + '<worker 0-1>\n</worker>\n<worker 1-2>\n</worker>\n') ?? '',
    /specified worker_id<1> collisions is detected on <worker> directive\. Available worker id\(s\): \[2\]/);
  assert.match(await loadError(dir, sys(2) + '<worker 0>\n  <system>\n  </system>\n</worker>\n') ?? '', /<worker> section cannot have <system> directive/);
  const dedup = `<filter **>\n  @type dedup\n  path ${dir}/dedup\n  key uid\n</filter>\n`;
  assert.match(await loadError(dir, sys(2) + dedup + match()) ?? '', /Plugin 'dedup' does not support multi workers configuration \(DedupFilter\)/);
  assert.equal(await loadError(dir, sys(2) + `<worker 0>\n${dedup}${match()}</worker>\n`), undefined, 'inside <worker 0> it sees workers 1');
  const filePath = `  <buffer>\n    @type file\n    path ${dir}/buf.*.log\n  </buffer>\n`;
  const fileOut = `<match **>\n  @type file\n  path ${dir}/out\n${filePath}</match>\n`;
  assert.match(await loadError(dir, sys(2) + fileOut) ?? '',
    /Plugin 'file' does not support multi workers configuration \(Fluent::Plugin::FileBuffer\): file buffer with multi workers should be configured to use directory 'path'/);
  assert.equal(await loadError(dir, sys(1) + fileOut), undefined);
  // "#{worker_id}": $SERVERENGINE_WORKER_ID, '' outside a worker (literal_parser.rb).
  const before = process.env.SERVERENGINE_WORKER_ID;
  process.env.SERVERENGINE_WORKER_ID = '1';
  t.after(() => {
    if (before === undefined) delete process.env.SERVERENGINE_WORKER_ID;
    else process.env.SERVERENGINE_WORKER_ID = before;
  });
  const root = parseConfigString('<match **>\n  @type stdout\n  @id "out_#{worker_id}"\n</match>\n', 'x.conf', dir);
  assert.equal(root.elements[0]!.params.get('@id')?.value, 'out_1');
});

test('workers 2 refused before any fork: a plugin that is not multi-worker ready, --no-supervisor', async (t) => {
  const dir = await tempDirFor(cleanup(t), 'ar-workers-cli-');
  const file = join(dir, 'fluent.conf');
  writeFileSync(file, `<system>\n  workers 2\n</system>\n<filter **>\n  @type dedup\n  path ${dir}/dedup\n  key uid\n</filter>\n<match **>\n  @type null\n</match>\n`);
  const bad = await startFailing(file, []);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /fluent\.conf:4: Plugin 'dedup' does not support multi workers configuration/);
  writeFileSync(file, '<match **>\n  @type null\n</match>\n');
  const noSup = await startFailing(file, ['--workers', '2', '--no-supervisor']);
  assert.equal(noSup.code, 1);
  assert.match(noSup.stderr, /invalid number of workers \(must be 1 or unspecified\) with --no-supervisor: 2/);
});

async function startFailing(file: string, args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    await run(join(REPO_ROOT, 'bin/auditrelay'), ['-c', file, ...args], { timeout: 60_000 });
    return { code: 0, stderr: '' };
  } catch (err) {
    const e = err as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

test('a file buffer with workers 2: worker N in <path>/worker<N>/, worker 0 also resumes <path>/ of a workers 1 run', async (t) => {
  const defer = cleanup(t);
  const dir = await tempDirFor(defer, 'ar-workers-resume-');
  const buf = join(dir, 'buf');
  const match = `<match t>\n  @type file\n  path ${dir}/out/t\n  <buffer>\n    @type file\n    path ${buf}\n  </buffer>\n</match>\n`;
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const one = file('one.conf', match);
  const two = file('two.conf', `<system>\n  workers 2\n</system>\n${match}`);
  const quiet = () => createProcessLog({ level: 'silent' });
  const run = async (configPath: string, workerId: number, body: (r: Awaited<ReturnType<typeof startReceiver>>) => Promise<void>) => {
    const r = await startReceiver({ configPath, processLog: quiet(), workerId });
    try {
      await body(r);
    } finally {
      await r.close();
    }
  };
  await run(one, 0, async (r) => {
    await r.agent.router().emit('t', [{ time: new EventTime(1_700_000_000), record: { uid: 'from-workers-1' } }]);
  });
  assert.equal((await chunkFiles(buf)).length, 1, 'workers 1: the chunk is in <path>/ (flush_at_shutdown false)');
  await run(two, 1, async (r) => {
    await r.agent.router().emit('t', [{ time: new EventTime(1_700_000_000), record: { uid: 'worker-1' } }]);
  });
  assert.equal((await chunkFiles(join(buf, 'worker1'))).length, 1, 'worker 1 buffers in worker1/');
  assert.equal((await chunkFiles(buf)).length, 1, 'worker 1 leaves <path>/ alone');
  await run(two, 0, async (r) => {
    await r.flushAll();
  });
  assert.deepEqual(await chunkFiles(buf), [], 'worker 0 resumed and flushed the chunk of the workers 1 run');
  const out = await readdir(join(dir, 'out'));
  const written = (await Promise.all(out.map((f) => readFile(join(dir, 'out', f), 'utf8')))).join('');
  assert.match(written, /from-workers-1/);
  assert.doesNotMatch(written, /worker-1"/, 'worker 1\'s chunk stays for worker 1');
});

test('restart backoff is bounded: at once, then 1 s doubling to 30 s; restart_worker_interval is the floor', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => restartDelayMs(n, 0)), [0, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.deepEqual([1, 2, 4].map((n) => restartDelayMs(n, 5)), [5000, 5000, 5000]);
});

test('/aggregated_metrics merges the workers\' texts family by family (one HELP/TYPE, every worker\'s samples)', () => {
  const w = (id: number) => `# HELP a_total A.\n# TYPE a_total counter\na_total{worker_id="${id}"} ${id + 1}\n\n# HELP b B.\n# TYPE b gauge\nb{worker_id="${id}"} 7\n`;
  assert.equal(aggregateMetrics([w(0), w(1)]),
    '# HELP a_total A.\n# TYPE a_total counter\na_total{worker_id="0"} 1\na_total{worker_id="1"} 2\n\n' +
    '# HELP b B.\n# TYPE b gauge\nb{worker_id="0"} 7\nb{worker_id="1"} 7\n');
  assert.deepEqual([workerHost('0.0.0.0'), workerHost('::'), workerHost('10.0.0.1')], ['127.0.0.1', '::1', '10.0.0.1']);
});
