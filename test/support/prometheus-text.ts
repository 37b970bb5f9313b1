// A strict reader of the Prometheus text format (exposition format 0.0.4), for the
// prometheus source's tests: every line must be HELP, TYPE or a sample of a family
// whose TYPE came first; histograms must be cumulative and end with +Inf = _count.

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/;
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
  /** The value of the one sample with this name whose labels include `labels`; throws if none or several. */
  one(name: string, labels?: Record<string, string>): number;
  /** Sum over the samples of a name whose labels include `labels` (0 when none). */
  sum(name: string, labels?: Record<string, string>): number;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text;
  while (rest.length > 0) {
    const m = LABEL.exec(rest);
    if (!m) throw new Error(`bad labels in: ${line}`);
    if (Object.hasOwn(out, m[1]!)) throw new Error(`label ${m[1]} twice in: ${line}`);
    out[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(m[0].length);
  }
  return out;
}

function family(name: string, types: Map<string, string>): string | undefined {
  if (types.has(name)) return name;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = name.endsWith(suffix) ? name.slice(0, -suffix.length) : '';
    if (base && types.get(base) === 'histogram') return base;
  }
  return undefined;
}

const matches = (s: Sample, name: string, labels: Record<string, string>): boolean =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

export function parsePrometheus(text: string): Scrape {
  if (!text.endsWith('\n')) throw new Error('exposition does not end with a newline');
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# HELP ')) {
      if (!NAME.test(line.slice(7).split(' ')[0]!)) throw new Error(`bad HELP: ${line}`);
      continue;
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type, extra] = line.slice(7).split(' ');
      if (!NAME.test(name ?? '') || !['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type ?? '') || extra !== undefined) throw new Error(`bad TYPE: ${line}`);
      if (types.has(name!)) throw new Error(`TYPE twice: ${line}`);
      types.set(name!, type!);
      continue;
    }
    if (line.startsWith('#')) throw new Error(`unknown comment: ${line}`);
    const m = SAMPLE.exec(line);
    if (!m || !VALUE.test(m[4]!)) throw new Error(`bad sample: ${line}`);
    if (!family(m[1]!, types)) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: m[1]!, labels: m[3] ? parseLabels(m[3], line) : {}, value: Number(m[4]!.replace('Inf', 'Infinity')) });
  }
  checkHistograms(types, samples);
  const scrape: Scrape = {
    types,
    samples,
    one(name, labels = {}) {
      const hits = samples.filter((s) => matches(s, name, labels));
      if (hits.length !== 1) throw new Error(`${hits.length} samples of ${name} ${JSON.stringify(labels)}`);
      return hits[0]!.value;
    },
    sum: (name, labels = {}) => samples.filter((s) => matches(s, name, labels)).reduce((a, s) => a + s.value, 0),
  };
  return scrape;
}

function checkHistograms(types: Map<string, string>, samples: Sample[]): void {
  for (const [name, type] of types) {
    if (type !== 'histogram') continue;
    const series = new Map<string, Sample[]>();
    for (const s of samples.filter((x) => x.name === `${name}_bucket`)) {
      const { le, ...rest } = s.labels;
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), s]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${name} buckets not cumulative for ${key}`);
      }
      const last = buckets.at(-1)!;
      const count = samples.find((s) => s.name === `${name}_count` && JSON.stringify(s.labels) === key);
      if (last.labels.le !== '+Inf' || count?.value !== last.value) throw new Error(`${name} ${key}: +Inf bucket ${last.value} ≠ _count ${count?.value}`);
    }
  }
}
