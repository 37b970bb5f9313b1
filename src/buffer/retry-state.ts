// Fluentd's retry state machine (plugin_helper/retry_state.rb, docs/compatibility.md §8):
// one per output, created at the first failure, dropped on the next success.
// Times are unix seconds (floats).

export interface RetryOptions {
  readonly type: 'exponential_backoff' | 'periodic';
  readonly wait: number;
  readonly timeout: number;
  readonly forever: boolean;
  readonly maxSteps: number | undefined;
  readonly backoffBase: number;
  readonly maxInterval: number | undefined;
  readonly randomize: boolean;
  /** ±width of the randomisation (Fluentd: 0.125). */
  readonly randomizeWidth: number;
  readonly secondary: boolean;
  readonly secondaryThreshold: number;
}

export class RetryState {
  readonly start: number;
  steps = 0;
  nextTime: number;
  readonly timeoutAt: number;
  current: 'primary' | 'secondary' = 'primary';
  readonly secondaryTransitionAt: number | undefined;
  #secondaryTransitionSteps = 0;
  #hasReachedTimeout = false;
  #hasTimedOut = false;
  readonly #o: RetryOptions;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(o: RetryOptions, now: () => number = () => Date.now() / 1000, random: () => number = Math.random) {
    if (o.randomizeWidth < 0 || o.randomizeWidth > 0.5) throw new RangeError('randomize_width must be between 0 and 0.5');
    this.#o = o;
    this.#now = now;
    this.#random = random;
    this.start = now();
    this.timeoutAt = this.start + o.timeout;
    if (o.secondary) {
      let maxRetryTimeout = o.timeout;
      if (o.maxSteps !== undefined) {
        const byMaxSteps = this.#calcMaxRetryTimeout(o.maxSteps);
        if (byMaxSteps < maxRetryTimeout) maxRetryTimeout = byMaxSteps;
      }
      this.secondaryTransitionAt = this.start + maxRetryTimeout * o.secondaryThreshold;
    }
    // The first retry waits exactly retry_wait (not randomised), as Fluentd.
    this.nextTime = this.start + o.wait;
  }

  /** Use the secondary output for the next attempt. */
  get secondary(): boolean {
    return !this.#o.forever && this.#o.secondary && (this.current === 'secondary' || this.#now() >= (this.secondaryTransitionAt ?? Infinity));
  }

  step(): void {
    this.steps += 1;
    if (!this.#o.forever && this.#o.secondary && this.current !== 'secondary' && this.#now() >= (this.secondaryTransitionAt ?? Infinity)) {
      this.current = 'secondary';
      this.#secondaryTransitionSteps = this.steps;
    }
    this.nextTime = this.#calcNextTime();
    if (this.#hasReachedTimeout) this.#hasTimedOut = this.nextTime >= this.timeoutAt;
    else this.#hasReachedTimeout = this.nextTime >= this.timeoutAt;
  }

  recalcNextTime(): void {
    this.nextTime = this.#calcNextTime();
  }

  /** Retries exhausted: the queue is dropped. */
  get limit(): boolean {
    if (this.#o.forever) return false;
    return this.#hasTimedOut || (this.#o.maxSteps !== undefined && this.steps >= this.#o.maxSteps);
  }

  #randomize(interval: number): number {
    if (!this.#o.randomize) return interval;
    return interval + interval * this.#o.randomizeWidth * (2 * this.#random() - 1.0);
  }

  #calcNextTime(): number {
    const o = this.#o;
    if (o.forever || !o.secondary) {
      const naive = this.#naiveNextTime(this.steps);
      if (o.forever) return naive;
      return naive >= this.timeoutAt ? this.timeoutAt : naive;
    }
    if (this.current === 'primary') {
      const naive = this.#naiveNextTime(this.steps);
      const at = this.secondaryTransitionAt ?? Infinity;
      return naive >= at ? at : naive;
    }
    const naive = this.#naiveNextTime(this.steps - this.#secondaryTransitionSteps);
    return naive >= this.timeoutAt ? this.timeoutAt : naive;
  }

  #naiveNextTime(retryTimes: number): number {
    const interval = this.#o.type === 'periodic' ? this.#o.wait : this.#calcInterval(retryTimes);
    return this.#now() + this.#randomize(interval);
  }

  #calcInterval(num: number): number {
    let interval = this.#rawInterval(num);
    if (this.#o.maxInterval !== undefined && interval > this.#o.maxInterval) return this.#o.maxInterval;
    // Fluentd steps back to the last finite value instead of sleeping forever.
    while (!Number.isFinite(interval) && num > 0) interval = this.#rawInterval(--num);
    return interval;
  }

  #rawInterval(num: number): number {
    return this.#o.wait * this.#o.backoffBase ** num;
  }

  #calcMaxRetryTimeout(maxSteps: number): number {
    if (this.#o.type === 'periodic') return this.#o.wait * maxSteps;
    let total = 0;
    for (let i = 0; i < maxSteps; i++) total += this.#calcInterval(i);
    return total;
  }
}
