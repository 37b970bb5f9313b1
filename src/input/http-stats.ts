// What in_http counts for the prometheus source (README "Metrics and health"). The
// request path only bumps plain numbers here; prom-client objects are built from these
// at scrape time, so an idle scraper costs the hot path nothing.

import { LatencyBuckets } from '../buffer/latency.ts';

/**
 * Every path is a tag, so a client can invent tags without end: past this many
 * distinct tags, further new ones are counted under OTHER_TAG.
 */
export const MAX_TAGS = 500;
export const OTHER_TAG = '_other';

/** What one request leaves for the stats once answered. */
export interface RequestNote {
  tag: string | undefined;
  bytes: number;
}

export class HttpStats {
  /** tag → status code → requests answered (no per-request key string). */
  readonly requests = new Map<string, Map<number, number>>();
  readonly #tags = new Set<string>();
  bytesIn = 0;
  /** Time from request headers to the answer written. */
  readonly latency = new LatencyBuckets();
  /** OpenSSL reason (e.g. `certificate_required`) → refused handshakes. */
  readonly tlsFailures = new Map<string, number>();

  request(tag: string, code: number, bytes: number, seconds: number): void {
    let t = tag;
    if (!this.#tags.has(t)) {
      if (this.#tags.size >= MAX_TAGS) t = OTHER_TAG;
      else this.#tags.add(t);
    }
    let byCode = this.requests.get(t);
    if (byCode === undefined) this.requests.set(t, (byCode = new Map()));
    byCode.set(code, (byCode.get(code) ?? 0) + 1);
    this.bytesIn += bytes;
    this.latency.observe(seconds);
  }

  tlsFailure(reason: string): void {
    this.tlsFailures.set(reason, (this.tlsFailures.get(reason) ?? 0) + 1);
  }
}
