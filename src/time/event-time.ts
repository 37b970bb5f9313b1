// Fluentd's EventTime: whole seconds plus nanoseconds, so sub-second precision
// survives from the parser to the stdout line (`%N`) without float rounding.

export class EventTime {
  readonly sec: number;
  readonly nsec: number;
  constructor(sec: number, nsec = 0) {
    this.sec = sec;
    this.nsec = nsec;
  }

  static now(): EventTime {
    const ns = process.hrtime.bigint() - hrtimeOrigin + wallOriginNs;
    return new EventTime(Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n));
  }

  /** Ruby `Float#to_f` view, as Fluentd's `time.to_f`. */
  toFloat(): number {
    return this.sec + this.nsec / 1e9;
  }
}

// Wall clock with nanosecond steps: Date.now() gives ms, hrtime gives a
// monotonic ns counter; anchor one to the other once.
const hrtimeOrigin = process.hrtime.bigint();
const wallOriginNs = BigInt(Date.now()) * 1_000_000n;
