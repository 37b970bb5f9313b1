// The pipeline: Fluentd's RootAgent (lib/fluent/root_agent.rb, agent.rb, label.rb): builds
// every plugin of a fluent.conf once at start-up — sources, the top-level
// filter/match chain, and one chain per <label> — and owns their lifecycle.
// @type names are resolved here, so a request only walks prebuilt arrays.

import type { Logger } from 'pino';
import type { ConfigElement } from '../params/element.ts';
import { ConfigError } from '../params/errors.ts';
import type { EmitFn, EmitTally, Event, Filter, Input, Output, PluginContext, PluginEntry } from '../plugin-api.ts';
import { BufferedOutput } from '../buffer/buffered-output.ts';
import type { EventTime } from '../time/event-time.ts';
import type { JsonRecord } from '../value/json-value.ts';
import { createFormatter } from '../format/registry.ts';
import { EventRouter, startUnmatchedSummary, UnmatchedEvents, type Rule } from './event-router.ts';
import { compilePatterns, type TagMatcher } from './pattern.ts';
import { sessionTagWarnings } from './session-trap.ts';
import { loadedClass, type PluginRegistry } from './plugin-registry.ts';
import { workersSeenBy } from '../params/workers.ts';


export interface AgentEnvironment {
  readonly log: Logger;
  readonly hostname: string;
  readonly workerId: number;
  /** `<system> workers` (undefined = 1). */
  readonly workers?: number;
  readonly writeLogLine: (line: string) => void;
  /** Seconds between the summaries of events no <match> took (default 60). */
  readonly unmatchedSummaryInterval?: number;
}

export class Pipeline {
  readonly inputs: Input[] = [];
  readonly outputs: Output[] = [];
  readonly filters: Filter[] = [];
  /** Inputs, filters and outputs with their @type and plugin_id, in config order. */
  readonly plugins: PluginEntry[] = [];
  /** The top-level `<match>`es in file order (monitor_agent's `?tag=`). */
  readonly #rootMatches: { matcher: TagMatcher; entry: PluginEntry }[] = [];
  readonly #labels = new Map<string, EventRouter>();
  readonly #root: EventRouter;
  readonly #env: AgentEnvironment;
  readonly #registry: PluginRegistry;
  /** Events no <match> took, over every router (the summary line and /metrics). */
  readonly unmatched = new UnmatchedEvents();
  #stopSummary: (() => void) | undefined;

  constructor(root: ConfigElement, env: AgentEnvironment, registry: PluginRegistry) {
    this.#env = env;
    this.#registry = registry;
    const labelElements = root.sections('label');
    // Labels first: relabel outputs and sources refer to them by name.
    const labelRules = new Map<string, Rule[]>();
    for (const label of labelElements) {
      if (!label.arg.startsWith('@')) {
        throw new ConfigError('AR_CONF_BAD_VALUE', label.pos, `label name '${label.arg}' must start with @; write <label @${label.arg}>`);
      }
      if (labelRules.has(label.arg)) {
        throw new ConfigError('AR_CONF_DUPLICATE_SECTION', label.pos, `Section <label ${label.arg}> appears twice; merge them into one`);
      }
      labelRules.set(label.arg, []);
    }
    for (const label of labelElements) {
      this.#labels.set(label.arg, new EventRouter(labelRules.get(label.arg)!, env.log.child({ label: label.arg }), this.unmatched));
    }
    for (const label of labelElements) this.#addRules(label, labelRules.get(label.arg)!, label.arg);
    const rootRules: Rule[] = [];
    this.#root = new EventRouter(rootRules, env.log, this.unmatched);
    this.#addRules(root, rootRules, undefined);
    for (const source of root.sections('source')) this.#addSource(source);
    for (const w of sessionTagWarnings(rootRules)) env.log.warn(w);
  }

  async start(): Promise<void> {
    // Filters first: a dedup filter's journal is open when its output hands over the resumed records.
    for (const f of this.filters) await f.start?.();
    for (const o of this.outputs) await o.start?.();
    for (const i of this.inputs) await i.start();
    this.#stopSummary = startUnmatchedSummary(this.unmatched, this.#env.log, this.#env.unmatchedSummaryInterval ?? 60);
  }

  async stop(): Promise<void> {
    this.#stopSummary?.();
    for (const i of this.inputs) await i.stop().catch((err: unknown) => this.#env.log.error({ err }, 'input stop failed'));
    for (const o of this.outputs) await o.stop?.().catch((err: unknown) => this.#env.log.error({ err }, 'output stop failed'));
    for (const f of this.filters) await f.stop?.().catch((err: unknown) => this.#env.log.error({ err }, 'filter stop failed'));
  }

  /** The router an emit into `label` goes to (`@ROOT` = top level). */
  router(label?: string): EventRouter {
    if (label === undefined || label === '@ROOT') return this.#root;
    const r = this.#labels.get(label);
    if (!r) throw new Error(`unknown label ${label}`);
    return r;
  }

  /** Fluentd's plugin_info_by_tag: the first top-level match whose pattern takes `tag`. */
  matchOf(tag: string): PluginEntry | undefined {
    return this.#rootMatches.find((m) => m.matcher.match(tag))?.entry;
  }

  #context(element: ConfigElement, kind: string, type: string): PluginContext {
    const id = element.params.get('@id')?.value;
    element.take('@id');
    const bindings: Record<string, string> = { plugin: `${kind}_${type}` };
    if (id !== undefined) bindings.plugin_id = id;
    const log = this.#env.log.child(bindings);
    const level = element.take('@log_level')?.value;
    if (level !== undefined) log.level = level === 'warning' ? 'warn' : level;
    const ctx: PluginContext = {
      log,
      hostname: this.#env.hostname,
      workerId: this.#env.workerId,
      workers: workersSeenBy(element, this.#env.workers ?? 1),
      writeLogLine: this.#env.writeLogLine,
      emitErrorEvent: (tag, time, record, error) => this.#emitErrorEvent(log, tag, time, record, error),
      emitToLabel: async (label, tag, events) => {
        await this.router(label).emit(tag, events);
      },
      createFormatter: (section, defaultType, fallback) => createFormatter(section, ctx, defaultType, fallback),
      plugins: () => this.plugins,
      matchOf: (tag) => this.matchOf(tag),
      unmatched: () => this.unmatched.total,
    };
    return ctx;
  }

  #typeOf(element: ConfigElement, kind: string, known: readonly string[]): string {
    const type = element.take('@type');
    if (!type) {
      throw new ConfigError('AR_CONF_MISSING', element.pos,
        `<${element.name}${element.arg ? ' ' + element.arg : ''}> has no @type; add one of: ${known.join(', ')}`);
    }
    if (!known.includes(type.value)) {
      throw new ConfigError('AR_CONF_UNKNOWN_TYPE', type.pos,
        `unknown ${kind} plugin '${type.value}'; supported: ${known.join(', ')}`);
    }
    return type.value;
  }

  /** plugin.rb FeatureAvailabilityChecker: a plugin not multi_workers_ready? is a config error with workers > 1. */
  #checkMultiWorkers(element: ConfigElement, type: string, Class: { readonly name: string; readonly multiWorkersReady?: boolean }): void {
    if (Class.multiWorkersReady !== false || workersSeenBy(element, this.#env.workers ?? 1) <= 1) return;
    throw new ConfigError('AR_CONF_WORKERS', element.pos,
      `Plugin '${type}' does not support multi workers configuration (${Class.name}); run it in one worker (<worker 0>) or set workers 1`);
  }

  #checkLabel(element: ConfigElement, label: string): void {
    if (label !== '@ROOT' && !this.#labels.has(label)) {
      throw new ConfigError('AR_CONF_BAD_VALUE', element.params.get('@label')?.pos ?? element.pos,
        `@label ${label} refers to no <label ${label}> section; add one or fix the name`);
    }
  }

  #addRules(parent: ConfigElement, rules: Rule[], inLabel: string | undefined): void {
    const preceding: Filter[] = [];
    for (const element of parent.elements) {
      if (element.name !== 'filter' && element.name !== 'match') continue;
      element.used = true;
      const matcher = compilePatterns(element.arg, element.pos);
      if (element.name === 'filter') {
        const type = this.#typeOf(element, 'filter', this.#registry.known.filters);
        const Class = loadedClass(this.#registry.filters, 'filters', type);
        this.#checkMultiWorkers(element, type, Class);
        const filter = new Class(element, this.#context(element, 'filter', type));
        this.filters.push(filter);
        if (filter.precedes) preceding.push(filter);
        const entry = this.#note(element, 'filter', type, filter, inLabel);
        rules.push({ kind: 'filter', matcher, filter: talliedFilter(filter, entry.tally) });
        this.#env.log.info({ pattern: element.arg, type }, 'adding filter');
      } else {
        const type = this.#typeOf(element, 'output', this.#registry.known.outputs);
        const Class = loadedClass(this.#registry.outputs, 'outputs', type);
        this.#checkMultiWorkers(element, type, Class);
        const label = element.params.get('@label')?.value;
        if (label !== undefined) this.#checkLabel(element, label);
        const output = new Class(element, this.#context(element, 'output', type));
        this.outputs.push(output);
        for (const f of preceding) f.precedes!(output);
        const entry = this.#note(element, 'output', type, output, inLabel);
        if (inLabel === undefined) this.#rootMatches.push({ matcher, entry });
        // A buffered output counts its own emits (counters()); the others are counted here.
        rules.push({ kind: 'match', matcher, output: output instanceof BufferedOutput ? output : talliedOutput(output, entry.tally) });
        this.#env.log.info({ pattern: element.arg, type }, 'adding match');
      }
    }
  }

  #addSource(element: ConfigElement): void {
    const type = this.#typeOf(element, 'input', this.#registry.known.inputs);
    const Class = loadedClass(this.#registry.inputs, 'inputs', type);
    this.#checkMultiWorkers(element, type, Class);
    const label = element.take('@label')?.value;
    if (label !== undefined) this.#checkLabel(element, label);
    const router = this.router(label);
    const tally: EmitTally = { records: 0, calls: 0 };
    const emit: EmitFn = (tag, events) => {
      tally.records += events.length;
      tally.calls += 1;
      return router.emit(tag, events);
    };
    const input = new Class(element, this.#context(element, 'input', type), emit);
    this.inputs.push(input);
    this.#note(element, 'input', type, input, label, tally);
    this.#env.log.info({ type }, 'adding source');
  }

  #note(element: ConfigElement, category: PluginEntry['category'], type: string, plugin: Input | Filter | Output,
    label: string | undefined, tally: EmitTally = { records: 0, calls: 0 }): PluginEntry {
    // Fluentd names a plugin without @id `object:<object_id in hex>`; ours counts, so it is stable across restarts.
    const pluginId = element.params.get('@id')?.value ?? `object:${(0x3e8 + this.plugins.length * 0x14).toString(16)}`;
    const entry: PluginEntry = { category, type, pluginId, plugin, element, label, tally };
    this.plugins.push(entry);
    return entry;
  }

  #emitErrorEvent(log: Logger, tag: string, time: EventTime, record: JsonRecord, error: Error): void {
    const errorRouter = this.#labels.get('@ERROR');
    if (errorRouter) {
      const events: Event[] = [{ time, record }];
      Promise.resolve(errorRouter.emit(tag, events)).catch((err: unknown) => log.error({ err, tag }, 'emit into @ERROR failed'));
      return;
    }
    log.warn({ error_class: error.name, error: error.message, tag, time: time.sec, record }, 'dump an error event');
  }
}

/** The filter as its rule calls it: counts the records it lets through (Fluentd's filter emit_records, measure_metrics). */
function talliedFilter(filter: Filter, tally: EmitTally): Filter {
  const passed = (n: number): void => {
    tally.records += n;
    tally.calls += 1;
  };
  const counted: Filter = {
    filter: (tag, events) => {
      const out = filter.filter(tag, events);
      passed(out.length);
      return out;
    },
  };
  const begin = filter.begin?.bind(filter);
  if (begin) {
    counted.begin = (tag, events) => {
      const step = begin(tag, events);
      if (!(step instanceof Promise)) {
        passed(step.events.length);
        return step;
      }
      return step.then((s) => {
        passed(s.events.length);
        return s;
      });
    };
  }
  return counted;
}

/** An unbuffered output as its rule calls it: counts emits and records (Fluentd's emit_count / emit_records). */
function talliedOutput(output: Output, tally: EmitTally): Output {
  return {
    emit: (tag, events) => {
      tally.records += events.length;
      tally.calls += 1;
      return output.emit(tag, events);
    },
  };
}
