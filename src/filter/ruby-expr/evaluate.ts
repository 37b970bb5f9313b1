// Interprets a parsed `${...}` expression against one event. Plain switches
// over a prebuilt AST: no eval, no closures or RegExps made per event.
// Runtime failures are Ruby-like FilterErrors (NoMethodError on nil, TypeError,
// KeyError…); record_transformer catches them per event (docs/compatibility.md §4).

import type { TimeZone } from '../../time/zone.ts';
import { Strftime } from '../../time/strftime.ts';
import { EventTime } from '../../time/event-time.ts';
import type { JsonRecord } from '../../value/json-value.ts';
import { rubyError } from '../errors.ts';
import type { CallNode, Node } from './parser.ts';
import { RubyTime } from './ruby-time.ts';
import { charAt, charLength, requireString, strip, substitute } from './ruby-string.ts';
import type { RubyValue } from './value.ts';
import {
  className, floatValue, hashGet, hashSize, inspect, isFloat, isHash, isInteger, makeFloat, makeInteger,
  noMethod, plus, rubyEquals, toF, toI, toS, truthy,
} from './value.ts';

/** The variables of one event, reused from event to event by the filter. */
export class Scope {
  tag = '';
  tagParts: string[] = [];
  tagPrefix: string[] = [];
  tagSuffix: string[] = [];
  readonly hostname: string;
  readonly workerId: number;
  readonly localZone: TimeZone;
  record: JsonRecord = {};
  eventTime: EventTime = new EventTime(0);
  /**
   * Fluentd builds one `Time.at(time)` per event and shares it between all
   * <record> values, so `time.utc` (which mutates) in one value is seen by the
   * next. Created on first use; reset per event by `setEvent`.
   */
  time: RubyTime | null = null;

  constructor(hostname: string, workerId: number, localZone: TimeZone) {
    this.hostname = hostname;
    this.workerId = workerId;
    this.localZone = localZone;
  }

  setEvent(eventTime: EventTime, record: JsonRecord): void {
    this.eventTime = eventTime;
    this.record = record;
    this.time = null;
  }
}

export function evaluate(node: Node, scope: Scope): RubyValue {
  switch (node.k) {
    case 'lit':
      return node.v;
    case 'str': {
      let out = '';
      for (const p of node.parts) out += typeof p === 'string' ? p : toS(evaluate(p, scope));
      return out;
    }
    case 'var':
      return variable(node.name, scope);
    case 'timeNow': {
      const now = EventTime.now();
      return new RubyTime(now.sec, now.nsec, scope.localZone, false);
    }
    case 'timeAt':
      return timeAt(evaluate(node.arg, scope), scope.localZone);
    case 'index':
      return index(evaluate(node.recv, scope), evaluate(node.arg, scope));
    case 'call': {
      const recv = evaluate(node.recv, scope);
      if (node.safe && recv === null) return null;
      return call(node, recv, scope);
    }
    case 'not':
      return !truthy(evaluate(node.e, scope));
    case 'neg':
      return negate(evaluate(node.e, scope));
    case 'and': {
      const a = evaluate(node.a, scope);
      return truthy(a) ? evaluate(node.b, scope) : a;
    }
    case 'or': {
      const a = evaluate(node.a, scope);
      return truthy(a) ? a : evaluate(node.b, scope);
    }
    case 'add':
      return plus(evaluate(node.a, scope), evaluate(node.b, scope));
    case 'eq':
      return rubyEquals(evaluate(node.a, scope), evaluate(node.b, scope));
    case 'ne':
      return !rubyEquals(evaluate(node.a, scope), evaluate(node.b, scope));
    case 'cond':
      return truthy(evaluate(node.c, scope)) ? evaluate(node.a, scope) : evaluate(node.b, scope);
  }
}

function variable(name: string, scope: Scope): RubyValue {
  switch (name) {
    case 'tag': return scope.tag;
    case 'record': return scope.record;
    case 'tag_parts': return scope.tagParts;
    case 'tag_prefix': return scope.tagPrefix;
    case 'tag_suffix': return scope.tagSuffix;
    case 'hostname': return scope.hostname;
    case 'worker_id': return scope.workerId;
    default:
      if (scope.time === null) scope.time = new RubyTime(scope.eventTime.sec, scope.eventTime.nsec, scope.localZone, false);
      return scope.time;
  }
}

function timeAt(v: RubyValue, zone: TimeZone): RubyTime {
  if (v instanceof RubyTime) return new RubyTime(v.sec, v.nsec, zone, false);
  if (isInteger(v)) return new RubyTime(Number(v), 0, zone, false);
  if (isFloat(v)) return RubyTime.fromFloat(floatValue(v), zone);
  throw rubyError('TypeError', `can't convert ${v === null ? 'nil' : className(v)} into an exact number`);
}

function integerIndex(v: RubyValue): number {
  if (isInteger(v)) return Number(v);
  if (isFloat(v)) return Math.trunc(floatValue(v));
  throw rubyError('TypeError', `no implicit conversion of ${v === null ? 'nil' : className(v)} into Integer`);
}

function index(recv: RubyValue, key: RubyValue): RubyValue {
  if (Array.isArray(recv)) {
    const i = integerIndex(key);
    const at = i < 0 ? recv.length + i : i;
    return at >= 0 && at < recv.length ? recv[at] : null;
  }
  if (isHash(recv)) return typeof key === 'string' ? (hashGet(recv, key) ?? null) : null;
  if (typeof recv === 'string') {
    if (typeof key === 'string') return recv.includes(key) ? key : null;
    return charAt(recv, integerIndex(key));
  }
  if (typeof recv === 'number' && Number.isInteger(recv)) {
    const bit = integerIndex(key);
    return bit < 0 ? 0 : Number((BigInt(recv) >> BigInt(bit)) & 1n);
  }
  throw noMethod('[]', recv);
}

function negate(v: RubyValue): RubyValue {
  if (typeof v === 'bigint') return makeInteger(-v);
  if (isInteger(v)) return v === 0 ? 0 : -v;
  if (isFloat(v)) return makeFloat(-floatValue(v));
  throw noMethod('-@', v);
}

// Hash#dig / Array#dig: stops at nil, TypeError on a value that cannot dig.
function dig(recv: RubyValue, keys: RubyValue[]): RubyValue {
  let v = recv;
  for (let i = 0; i < keys.length; i++) {
    if (i > 0 && v === null) return null;
    if (!Array.isArray(v) && !isHash(v)) throw rubyError('TypeError', `${className(v)} does not have #dig method`);
    v = index(v, keys[i]);
  }
  return v;
}

function fetch(recv: RubyValue, args: RubyValue[]): RubyValue {
  if (isHash(recv)) {
    const key = args[0];
    const v = typeof key === 'string' ? hashGet(recv, key) : undefined;
    if (v !== undefined) return v;
    if (args.length > 1) return args[1];
    throw rubyError('KeyError', `key not found: ${inspect(key)}`);
  }
  if (Array.isArray(recv)) {
    const i = integerIndex(args[0]);
    const at = i < 0 ? recv.length + i : i;
    if (at >= 0 && at < recv.length) return recv[at];
    if (args.length > 1) return args[1];
    throw rubyError('IndexError', `index ${i} outside of array bounds: ${-recv.length}...${recv.length}`);
  }
  throw noMethod('fetch', recv);
}

function evalArgs(node: CallNode, scope: Scope): RubyValue[] {
  const out: RubyValue[] = [];
  for (const a of node.args) out.push(evaluate(a, scope));
  return out;
}

function call(node: CallNode, recv: RubyValue, scope: Scope): RubyValue {
  const name = node.name;
  switch (name) {
    case 'to_s': return toS(recv);
    case 'to_i': return toI(recv);
    case 'to_f': return toF(recv);
    case 'nil?': return recv === null;
    case 'upcase': return requireString(recv, name).toUpperCase();
    case 'downcase': return requireString(recv, name).toLowerCase();
    case 'strip': return strip(requireString(recv, name));
    case 'sub':
    case 'gsub': {
      const s = requireString(recv, name);
      const args = evalArgs(node, scope);
      return substitute(s, args[0], args[1], name === 'gsub');
    }
    case 'length':
    case 'size':
      if (typeof recv === 'string') return charLength(recv);
      if (Array.isArray(recv)) return recv.length;
      if (isHash(recv)) return hashSize(recv);
      if (name === 'size' && isInteger(recv)) return 8; // Integer#size: bytes of a machine word
      throw noMethod(name, recv);
    case 'empty?':
      if (typeof recv === 'string' || Array.isArray(recv)) return recv.length === 0;
      if (isHash(recv)) return hashSize(recv) === 0;
      throw noMethod(name, recv);
    case 'dig':
      if (!Array.isArray(recv) && !isHash(recv)) throw noMethod(name, recv);
      return dig(recv, evalArgs(node, scope));
    case 'fetch':
      return fetch(recv, evalArgs(node, scope));
    default:
      if (!(recv instanceof RubyTime)) throw noMethod(name, recv);
      return timeMethod(node, recv, scope);
  }
}

function timeMethod(node: CallNode, t: RubyTime, scope: Scope): RubyValue {
  switch (node.name) {
    case 'utc':
    case 'gmtime':
      t.utc = true; // Ruby's Time#utc converts the receiver in place and returns it
      return t;
    case 'localtime':
      t.utc = false;
      return t;
    case 'getutc':
    case 'getgm':
      return new RubyTime(t.sec, t.nsec, t.zone, true);
    case 'getlocal':
      return new RubyTime(t.sec, t.nsec, t.zone, false);
    case 'strftime':
      return strftime(node, t, evaluate(node.args[0], scope));
    case 'iso8601':
    case 'xmlschema': {
      const digits = node.args.length === 0 ? 0 : integerIndex(evaluate(node.args[0], scope));
      return t.xmlschema(digits);
    }
    case 'zone': return t.zoneName();
    case 'utc_offset':
    case 'gmt_offset': return t.offset();
    case 'usec': return Math.floor(t.nsec / 1000);
    case 'nsec': return t.nsec;
  }
  const c = t.civil();
  switch (node.name) {
    case 'year': return c.year;
    case 'month':
    case 'mon': return c.month;
    case 'day':
    case 'mday': return c.day;
    case 'hour': return c.hour;
    case 'min': return c.min;
    case 'sec': return c.sec;
    case 'wday': return c.wday;
    case 'yday': return c.yday;
  }
  throw noMethod(node.name, t);
}

function strftime(node: CallNode, t: RubyTime, fmt: RubyValue): string {
  if (typeof fmt !== 'string') {
    throw rubyError('TypeError', `no implicit conversion of ${fmt === null ? 'nil' : className(fmt)} into String`);
  }
  // A computed format is compiled again only when it changes (one-entry cache per call site).
  if (node.strftime === null || node.strftimeFormat !== fmt) {
    node.strftime = new Strftime(fmt);
    node.strftimeFormat = fmt;
  }
  return node.strftime.format(t.sec, t.nsec, t.renderZone());
}
