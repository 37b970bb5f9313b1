// Fluentd's EventRouter (lib/fluent/event_router.rb, docs/compatibility.md §5): directives
// in file order; for a tag, the matching <filter>s up to the FIRST matching
// <match> form its pipeline; later rules never see the event. Pipelines are
// built once per tag and cached, so a request only walks a prebuilt array.

import type { Logger } from 'pino';
import type { Event, Filter, FilterStep, Output } from '../plugin-api.ts';
import type { TagMatcher } from './pattern.ts';

export interface Rule {
  readonly kind: 'filter' | 'match';
  readonly matcher: TagMatcher;
  readonly filter?: Filter;
  readonly output?: Output;
}

interface Pipeline {
  readonly filters: readonly Filter[];
  readonly output: Output | undefined;
  /** Some filter has `begin` (dedup): the emit runs the commit protocol. */
  readonly stepped: boolean;
}

// Bounded: tags come from URLs, so an unbounded cache would be a memory leak
// anyone could trigger. Fluentd's own cache is bounded the same way.
const PIPELINE_CACHE_LIMIT = 1024;

export class EventRouter {
  readonly #rules: readonly Rule[];
  readonly #cache = new Map<string, Pipeline>();
  readonly #noMatch: NoMatchWarning;

  constructor(rules: readonly Rule[], log: Logger, unmatched: UnmatchedEvents = new UnmatchedEvents()) {
    this.#rules = rules;
    this.#noMatch = new NoMatchWarning(log, unmatched);
  }

  /** Runs filters, hands the rest to the matched output; resolves when it is durable. */
  emit(tag: string, events: Event[]): Promise<void> | void {
    const pipeline = this.#pipeline(tag);
    if (pipeline.stepped) return this.#emitStepped(pipeline, tag, events);
    let stream = events;
    for (const filter of pipeline.filters) {
      stream = filter.filter(tag, stream);
      if (stream.length === 0) return;
    }
    if (pipeline.output === undefined) {
      this.#noMatch.emitted(tag, stream.length);
      return;
    }
    return pipeline.output.emit(tag, stream);
  }

  /**
   * Filters with `begin` reserve their decision; once the output's emit resolved
   * (the buffer acknowledged the append) every step is committed, in order,
   * before this resolves, so the input answers 2xx only after the commit.
   */
  async #emitStepped(pipeline: Pipeline, tag: string, events: Event[]): Promise<void> {
    const steps: FilterStep[] = [];
    try {
      let stream = events;
      for (const filter of pipeline.filters) {
        if (filter.begin) {
          const step = await filter.begin(tag, stream);
          steps.push(step);
          stream = step.events;
        } else {
          stream = filter.filter(tag, stream);
        }
        if (stream.length === 0) break;
      }
      if (stream.length > 0) {
        if (pipeline.output === undefined) this.#noMatch.emitted(tag, stream.length);
        else await pipeline.output.emit(tag, stream);
      }
    } catch (err) {
      for (const step of steps) step.abort();
      throw err;
    }
    for (const step of steps) await step.commit();
  }

  #pipeline(tag: string): Pipeline {
    let pipeline = this.#cache.get(tag);
    if (pipeline) return pipeline;
    const filters: Filter[] = [];
    let output: Output | undefined;
    for (const rule of this.#rules) {
      if (!rule.matcher.match(tag)) continue;
      if (rule.kind === 'filter') filters.push(rule.filter!);
      else {
        output = rule.output;
        break;
      }
    }
    pipeline = { filters, output, stepped: filters.some((f) => f.begin !== undefined) };
    if (this.#cache.size >= PIPELINE_CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(tag, pipeline);
    return pipeline;
  }
}

/**
 * Fluentd's NoMatchMatch (match.rb): `no patterns matched` is logged on the
 * 1st, 2nd, 4th … 256th unmatched emit, then every 512th — one counter per
 * router, counted per emit call, not per record.
 */
class NoMatchWarning {
  readonly #log: Logger;
  readonly #unmatched: UnmatchedEvents;
  #count = 0;
  constructor(log: Logger, unmatched: UnmatchedEvents) {
    this.#log = log;
    this.#unmatched = unmatched;
  }
  emitted(tag: string, records: number): void {
    this.#unmatched.dropped(tag, records);
    const c = ++this.#count;
    const sampled = c < 512 ? (c & (c - 1)) === 0 : c % 512 === 0;
    if (sampled) this.#log.warn({ tag }, 'no patterns matched');
    else this.#log.trace({ tag }, 'no patterns matched');
  }
}

/** Past this many distinct tags (they come from URLs), further new ones are counted under OTHER_TAG. */
const MAX_TAGS = 500;
const OTHER_TAG = '_other';

/**
 * Events no `<match>` took, by tag, for every router of a pipeline: the running
 * totals (/metrics) and what a summary has not reported yet. Fluentd only has
 * the sampled warn line, which names one tag and no count.
 */
export class UnmatchedEvents {
  /** tag → events dropped since start. */
  readonly total = new Map<string, number>();
  /** tag → events dropped since the last summary. */
  #pending = new Map<string, number>();

  dropped(tag: string, records: number): void {
    const t = this.total.has(tag) || this.total.size < MAX_TAGS ? tag : OTHER_TAG;
    this.total.set(t, (this.total.get(t) ?? 0) + records);
    this.#pending.set(t, (this.#pending.get(t) ?? 0) + records);
  }

  /** What was dropped since the last call, and starts a new period. */
  takePending(): ReadonlyMap<string, number> {
    const p = this.#pending;
    this.#pending = new Map();
    return p;
  }
}

/** Logs, every `seconds`, one warn line with the events dropped for want of a `<match>`, by tag (none when nothing was). */
export function startUnmatchedSummary(unmatched: UnmatchedEvents, log: Logger, seconds: number): () => void {
  const timer = setInterval(() => {
    const pending = unmatched.takePending();
    if (pending.size === 0) return;
    let events = 0;
    const parts: string[] = [];
    for (const [tag, n] of pending) {
      events += n;
      parts.push(`${tag} (${n})`);
    }
    log.warn({ events, tags: Object.fromEntries(pending), interval: seconds },
      `${events} event${events === 1 ? '' : 's'} dropped in the last ${seconds}s because no <match> takes their tag: ${parts.join(', ')}; add a <match> for them or stop sending them`);
  }, seconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
