// Go's time.ParseDuration syntax, which upstream's --ttl and every duration in the TOML use
// (docs/compatibility-event-handler.md §1.1, §2): `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+` or a bare `0`,
// units ns, us/µs/μs, ms, s, m, h. "87600h", "1h30m", "1.5s", "-2m" all parse; "10", "5d" do not.

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3, // U+00B5 micro sign
  'μs': 1e-3, // U+03BC greek mu
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)/y;

/** Milliseconds for a Go duration string, or undefined when Go would reject it. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (m === null) return undefined;
    const [, num, unit] = m;
    // Go needs at least one digit on one side of the dot: ".s" and "s" are errors.
    if (num === '' || num === '.') return undefined;
    const ms = UNIT_MS[unit];
    if (ms === undefined) return undefined;
    total += Number(num) * ms;
  }
  return sign * total;
}
