// The issue-16 targets, judged from one run of bench/receiver.bench.ts: one line per
// target, met or missed by how much. Throughput ratios come from the same run only
// (the machine is shared; absolute rates move ±50% between runs).

/** One measured point of one server. */
export interface Point {
  connections: number;
  /** Requests/s the generator was held at (absent: as fast as the server answers). */
  rate?: number;
  requests: number; seconds: number; eventsPerSec: number;
  p50ms: number; p99ms: number; errors: number; generatorCpuSeconds: number;
  peakRssMB: number; cpuSeconds: number;
  /** Involuntary context switches of the server (all its processes): the cores were contended. */
  preempted: number;
  /** `workers 2`: the peak of the processes' summed PSS (shared pages counted once). */
  peakPssMB?: number;
  /** `workers 2`: each process's share (primary, worker0, worker1). */
  processes?: Record<string, { cpuSeconds: number; preempted: number; peakRssMB: number; peakPssMB: number }>;
  cpuSecondsPerSecond: number; cpuMicrosPerEvent: number;
  ratioToBare?: number; cpuRatioToBare?: number;
}

export interface Verdict {
  target: string;
  /** undefined: a comparison, not a target. */
  met: boolean | undefined;
  verdict: string;
}

const THROUGHPUT_OF_BARE = 0.75;
const P99_AT_HALF_MS = 5;
const RSS_MB = 150;
const WORKERS2_OVER_ONE = 1.3;
/** bare/ours below this: the generator (or the machine) limited bare, so the ratio is no measure (receiver.bench.ts). */
export const BARE_WELL_ABOVE = 1.2;

const NAMES: Record<string, string> = {
  auditrelayNullOutput: 'auditrelay → out_null',
  auditrelaySeedPipeline: 'seed pipeline',
  auditrelaySeedWorkers2: 'seed pipeline, workers 2',
};

const pct = (x: number): string => `${Math.round(x * 100)}%`;

/** "met (x)" or "missed by y (x)": `by` says how far off, in the target's unit. */
function judge(target: string, met: boolean, measured: string, by: string): Verdict {
  return { target, met, verdict: met ? `met: ${measured}` : `missed by ${by}: ${measured}` };
}

export function verdicts(results: Record<string, Point[]>): Verdict[] {
  const out: Verdict[] = [];
  const unbounded = (name: string): Point[] => (results[name] ?? []).filter((p) => p.rate === undefined);
  for (const p of unbounded('auditrelaySeedPipeline')) {
    if (p.ratioToBare === undefined) continue;
    if (1 / p.ratioToBare < BARE_WELL_ABOVE) {
      // Bare did not outrun us: the generator or a busy machine held it, the ratio says nothing.
      out.push({ target: `seed pipeline ≥ ${THROUGHPUT_OF_BARE}× bare Node's events/s at ${p.connections} connections`, met: undefined,
        verdict: `not judged: bare was held to ${+(1 / p.ratioToBare).toFixed(2)}× ours (< ${BARE_WELL_ABOVE}); CPU per event: ${p.cpuRatioToBare}× bare's efficiency` });
      continue;
    }
    out.push(judge(`seed pipeline ≥ ${THROUGHPUT_OF_BARE}× bare Node's events/s at ${p.connections} connections`, p.ratioToBare >= THROUGHPUT_OF_BARE,
      `${p.ratioToBare}× (CPU per event: ${p.cpuRatioToBare}× bare's efficiency)`, `${pct(THROUGHPUT_OF_BARE / p.ratioToBare - 1)} more events/s needed`));
  }
  for (const [name, label] of Object.entries(NAMES)) {
    const half = results[name]?.find((p) => p.rate !== undefined);
    if (!half) continue;
    const reached = `${half.eventsPerSec} of ${half.rate} ev/s asked`;
    out.push(judge(`${label}: p99 < ${P99_AT_HALF_MS} ms at half its maximum (${half.connections} connections)`, half.p99ms < P99_AT_HALF_MS,
      `p99 ${half.p99ms} ms, p50 ${half.p50ms} ms, ${reached}`, `${+(half.p99ms - P99_AT_HALF_MS).toFixed(2)} ms`));
  }
  for (const name of ['auditrelayNullOutput', 'auditrelaySeedPipeline']) {
    const points = results[name];
    if (!points?.length) continue;
    const peak = Math.max(...points.map((p) => p.peakRssMB));
    out.push(judge(`${NAMES[name]}: peak RSS < ${RSS_MB} MB under sustained load (bin/node-flags)`, peak < RSS_MB,
      `${peak} MB over ${points.length} points`, `${+(peak - RSS_MB).toFixed(1)} MB`));
  }
  const one = unbounded('auditrelaySeedPipeline');
  const two = unbounded('auditrelaySeedWorkers2')[0];
  const same = two && one.find((p) => p.connections === two.connections);
  if (two && same) {
    const ratio = +(two.eventsPerSec / same.eventsPerSec).toFixed(2);
    const shares = Object.entries(two.processes ?? {}).map(([role, s]) => `${role} ${s.cpuSeconds} s CPU, ${s.peakRssMB} MB RSS`).join('; ');
    out.push(judge(`workers 2 ≥ ${WORKERS2_OVER_ONE}× one process at ${two.connections} connections`, ratio >= WORKERS2_OVER_ONE,
      `${ratio}× (${two.eventsPerSec} vs ${same.eventsPerSec} ev/s; CPU ${two.cpuMicrosPerEvent} vs ${same.cpuMicrosPerEvent} µs/event; RSS ${two.peakRssMB} MB, PSS ${two.peakPssMB} MB; ${shares})`,
      `${+(WORKERS2_OVER_ONE - ratio).toFixed(2)}×`));
  }
  const young = results.auditrelaySeedDefaultYoung?.[0];
  const flagged = young && one.find((p) => p.connections === young.connections);
  if (young && flagged) {
    const faster = flagged.eventsPerSec >= young.eventsPerSec ? 'the 1 MB young generation' : "V8's default";
    out.push({
      target: `--max-semi-space-size=1 vs V8's default young generation, seed pipeline at ${young.connections} connections`, met: undefined,
      verdict: `${flagged.eventsPerSec} vs ${young.eventsPerSec} ev/s (${faster} faster), CPU ${flagged.cpuMicrosPerEvent} vs ${young.cpuMicrosPerEvent} µs/event, peak RSS ${flagged.peakRssMB} vs ${young.peakRssMB} MB`,
    });
  }
  return out;
}
