// Backfill progress (issue 7 §9): on a TTY one line rewritten in place — position between the
// start time and now, events/s, ETA, sessions in flight; off a TTY the same figures as a
// structured log line every `intervalMs`.
import type { Logger } from 'pino';

export interface ProgressSource {
  readonly startMs: number;
  positionMs(): number;
  eventsSent(): number;
  sessionsInFlight(): number;
}

export class Progress {
  readonly #src: ProgressSource;
  readonly #log: Logger;
  readonly #tty: NodeJS.WriteStream | undefined;
  readonly #timer: NodeJS.Timeout;
  #lastSent = 0;
  #lastPos = 0;
  #lastAt = Date.now();

  constructor(src: ProgressSource, log: Logger, tty: NodeJS.WriteStream | undefined, intervalMs: number) {
    this.#src = src;
    this.#log = log;
    this.#tty = tty;
    this.#lastPos = src.startMs;
    this.#timer = setInterval(() => this.tick(), tty !== undefined ? 500 : intervalMs);
    this.#timer.unref();
  }

  figures(): { percent: number; eventsPerSec: number; etaSec: number | null; sessionsInFlight: number; position: string; sent: number } {
    const now = Date.now();
    const pos = Math.max(this.#src.positionMs(), this.#src.startMs);
    const sent = this.#src.eventsSent();
    const dt = Math.max(1, now - this.#lastAt) / 1000;
    const eventsPerSec = (sent - this.#lastSent) / dt;
    const posRate = (pos - this.#lastPos) / dt; // ms of history per second
    this.#lastSent = sent;
    this.#lastPos = pos;
    this.#lastAt = now;
    const span = Math.max(1, now - this.#src.startMs);
    return {
      percent: Math.min(100, (100 * (pos - this.#src.startMs)) / span),
      eventsPerSec: Math.round(eventsPerSec),
      etaSec: posRate > 0 ? Math.round((now - pos) / posRate) : null,
      sessionsInFlight: this.#src.sessionsInFlight(),
      position: new Date(pos).toISOString(),
      sent,
    };
  }

  tick(): void {
    const f = this.figures();
    if (this.#tty !== undefined) {
      const width = 30;
      const filled = Math.round((f.percent / 100) * width);
      const eta = f.etaSec === null ? '--' : `${f.etaSec}s`;
      this.#tty.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${f.percent.toFixed(1)}% ${f.position} ${f.eventsPerSec} ev/s ETA ${eta} sessions ${f.sessionsInFlight}\x1b[K`);
    } else {
      this.#log.info(f, 'Export progress');
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#tty !== undefined) this.#tty.write('\n');
  }
}
