// One `start` run alone in its process for bench/exporter.bench.ts, so that the exporter shares
// an event loop with neither the receiver nor the fake Teleport (each is its own process in
// production). Args: <teleport-event-handler.toml> <flags as JSON> <cwd>. Sends 'starting' just
// before runStart and 'steady' (below), runs to the last event, sends the figures and exits. Two spans: the whole
// runStart, and the steady state from the first progress line with events answered to the end
// (what a long backfill sees: connecting, TLS handshakes and the cold JIT left out).
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loadStartConfig } from '../src/event-handler/start/start-config.ts';
import type { StartFlagName } from '../src/event-handler/start/start-config.ts';
import { runStart } from '../src/event-handler/start/start.ts';

export interface Span {
  readonly events: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly loopBusy: number;
}

interface Mark {
  readonly sent: number;
  readonly at: number;
  readonly cpu: NodeJS.CpuUsage;
  readonly elu: EventLoopUtilization;
}

type EventLoopUtilization = ReturnType<typeof performance.eventLoopUtilization>;

const mark = (sent: number): Mark => ({ sent, at: performance.now(), cpu: process.cpuUsage(), elu: performance.eventLoopUtilization() });

function span(from: Mark, to: Mark): Span {
  return {
    events: to.sent - from.sent,
    seconds: (to.at - from.at) / 1000,
    cpuSeconds: (to.cpu.user + to.cpu.system - from.cpu.user - from.cpu.system) / 1e6,
    loopBusy: performance.eventLoopUtilization(to.elu, from.elu).utilization,
  };
}

const [configPath, flagsJson, cwd] = process.argv.slice(2);
const flags = JSON.parse(flagsJson) as Partial<Record<StartFlagName, string>>;
const cfg = loadStartConfig({ configPath, flags: { 'exit-on-last-event': 'true', ...flags }, env: {}, cwd });
let steady: Mark | undefined;
const progress = new Writable({
  write(chunk: Buffer, _enc, cb) {
    if (steady === undefined) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('"Export progress"')) continue;
        const sent = (JSON.parse(line) as { sent: number }).sent;
        if (sent > 0) {
          steady = mark(sent);
          process.send!('steady'); // and here again
        }
      }
    }
    cb();
  },
});
process.send!('starting'); // the receiver's counters start here
const start = mark(0);
const r = await runStart(cfg, { log: pino({ level: 'info' }, progress), tuning: { progressIntervalMs: 100 } });
const end = mark(r.auditEvents);
process.send!({ auditEvents: r.auditEvents, whole: span(start, end), steady: steady === undefined ? undefined : span(steady, end) }, () => process.exit(0));
