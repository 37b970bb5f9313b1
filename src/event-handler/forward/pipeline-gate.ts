// The waiting half shared by both ordered audit pipelines (forwarder.ts pool,
// pipelined-pipeline.ts single connection): a push waits for room in the
// in-flight window, drain waits for the window to empty, and the first failure
// is sticky — every later push or drain throws it.

export class PipelineGate {
  readonly #inFlight: () => number;
  #roomWaiters: (() => void)[] = [];
  #drainWaiters: (() => void)[] = [];
  #error: unknown;

  constructor(inFlight: () => number) {
    this.#inFlight = inFlight;
  }

  get failed(): boolean {
    return this.#error !== undefined;
  }

  /** Throws the sticky failure, if any. */
  check(): void {
    if (this.#error !== undefined) throw this.#error;
  }

  /** Resolves once fewer than `max` are in flight (or throws the failure). */
  async room(max: number): Promise<void> {
    while (this.#inFlight() >= max) {
      this.check();
      await new Promise<void>((r) => this.#roomWaiters.push(r));
    }
    this.check();
  }

  /** Resolves when nothing is in flight (or throws the failure). */
  async drain(): Promise<void> {
    while (this.#inFlight() > 0 && this.#error === undefined) await new Promise<void>((r) => this.#drainWaiters.push(r));
    this.check();
  }

  fail(err: unknown): void {
    this.#error ??= err;
    this.wake();
  }

  /** Call after the window changed: wakes pushes, and drains once empty or failed. */
  wake(): void {
    const rooms = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const r of rooms) r();
    if (this.#inFlight() === 0 || this.#error !== undefined) {
      const drains = this.#drainWaiters;
      this.#drainWaiters = [];
      for (const r of drains) r();
    }
  }
}
