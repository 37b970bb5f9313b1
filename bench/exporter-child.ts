// One `start` run alone in its process for bench/exporter.bench.ts, so that the exporter neither
// shares an event loop with the receiver nor with the fake Teleport (each is its own process in
// production). Args: <teleport-event-handler.toml> <flags as JSON> <cwd>. Runs to the last
// event: sends 'starting' just before runStart, then {auditEvents, seconds, cpuSeconds, loopBusy} of runStart alone (module loading and
// process start left out) and exits.
import { pino } from 'pino';
import { loadStartConfig } from '../src/event-handler/start/start-config.ts';
import type { StartFlagName } from '../src/event-handler/start/start-config.ts';
import { runStart } from '../src/event-handler/start/start.ts';

const [configPath, flagsJson, cwd] = process.argv.slice(2);
const flags = JSON.parse(flagsJson) as Partial<Record<StartFlagName, string>>;
const cfg = loadStartConfig({ configPath, flags: { 'exit-on-last-event': 'true', ...flags }, env: {}, cwd });
process.send!('starting'); // the receiver's counters start here
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
const t0 = performance.now();
const r = await runStart(cfg, { log: pino({ level: 'silent' }) });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const loopBusy = performance.eventLoopUtilization(elu0).utilization;
process.send!({ auditEvents: r.auditEvents, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, loopBusy }, () => process.exit(0));
