// A histogram kept as plain numbers: observe() is a few comparisons and additions, so
// hot paths (in_http requests, chunk writes) can count without prom-client; the
// prometheus source turns a snapshot into `_bucket`/`_sum`/`_count` lines at scrape time.

/** Bucket bounds in seconds (`le` labels). */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] as const;

export class LatencyBuckets {
  /** Per bucket of LATENCY_BUCKETS (not cumulative), then one for +Inf. */
  readonly counts = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i] += 1;
    this.sum += seconds;
    this.count += 1;
  }
}
