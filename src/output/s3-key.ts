// The S3 object key of a chunk, as fluent-plugin-s3 builds it (docs/compatibility.md §9,
// out_s3.rb `write`), compiled once at configure time into a list of parts
// (pino style: static text kept as strings, strftime formats prebuilt) so that
// building a key is a plain loop. Pure: no network, no clock except
// %{uuid_flush}/%{hms_slice}, so it is tested on its own.
//
// Fluentd's order, which the part list reproduces:
//   1. %{path} and %{file_extension} substituted into s3_object_key_format;
//   2. extract_placeholders: strftime over the whole string with the chunk's
//      timekey in timekey_zone (only when `time` is a chunk key), then ${tag},
//      ${tag[n]}, ${chunk_id}, ${<chunk key>};
//   3. %{time_slice}, %{index}, %{hex_random}, %{uuid_flush} (+ %{hms_slice},
//      %{date_slice} with check_object false); any other %{…} becomes empty
//      (Ruby gsub with a Hash replaces unknown matches with "").

import { randomUUID } from 'node:crypto';
import { Strftime } from '../time/strftime.ts';
import { UTC, type TimeZone } from '../time/zone.ts';
import type { ChunkMetadata } from '../plugin-api.ts';
import { UnrecoverableChunkError } from '../plugin-api.ts';

export interface KeyTemplateOptions {
  /** s3_object_key_format with %{hostname} already replaced. */
  readonly format: string;
  readonly path: string;
  /** gz / json / txt. */
  readonly extension: string;
  readonly timeSliceFormat: string;
  readonly zone: TimeZone;
  readonly indexFormat: string;
  readonly hexRandomLength: number;
  /** `time` is a chunk key: strftime applies to the whole template. */
  readonly chunkKeyTime: boolean;
  readonly chunkKeyTag: boolean;
  /** Record-key chunk keys (${name} placeholders). */
  readonly chunkKeys: readonly string[];
  /** check_object false enables %{hms_slice}/%{date_slice} and disables %{index}. */
  readonly checkObject: boolean;
}

/** What a key is built from: the chunk's identity, never its bytes. */
export interface KeyChunk {
  readonly idHex: string;
  readonly metadata: ChunkMetadata;
}

// Part kinds, as small integers so the build loop is a switch over numbers.
const LITERAL = 0;
const TIME_TEXT = 1; // literal text that goes through strftime
const TAG = 2;
const TAG_PART = 3;
const CHUNK_ID = 4;
const VARIABLE = 5;
const TIME_SLICE = 6;
const INDEX = 7;
const HEX_RANDOM = 8;
const UUID_FLUSH = 9;
const HMS_SLICE = 10;

interface Part {
  readonly kind: number;
  readonly text: string;
  readonly strftime?: Strftime;
  readonly tagIndex?: number;
}

// fluentd output.rb INVALID_PATH_COMPONENT_PATTERN: a tag or chunk key value
// must not climb out of the prefix.
const INVALID_PATH_COMPONENT = /\.\.[/\\]|^[/\\]/;
const INDEX_FORMAT = /^%(0\d*)?([dxX])$/;

export class KeyTemplate {
  readonly parts: readonly Part[];
  /** The key changes with the index (Fluentd's `duplicated path` check). */
  readonly hasIndex: boolean;
  readonly hasUuidFlush: boolean;
  readonly usesTag: boolean;
  readonly #timeSlice: Strftime;
  readonly #zone: TimeZone;
  readonly #indexWidth: number;
  readonly #indexRadix: number;
  readonly #indexUpper: boolean;
  readonly #hexRandomLength: number;
  // Strftime caches its last instant, so each template owns its formatters.
  readonly #hms = new Strftime('%H%M%S');

  constructor(o: KeyTemplateOptions) {
    const m = INDEX_FORMAT.exec(o.indexFormat);
    if (!m) throw new RangeError(`index_format '${o.indexFormat}' does not match %[0N](d|x|X)`);
    this.#indexWidth = m[1] ? Number(m[1].slice(1) || '0') : 0;
    this.#indexRadix = m[2] === 'd' ? 10 : 16;
    this.#indexUpper = m[2] === 'X';
    this.#hexRandomLength = o.hexRandomLength;
    this.#timeSlice = new Strftime(o.timeSliceFormat);
    this.#zone = o.zone;
    const pre = o.format.replaceAll('%{path}', o.path).replaceAll('%{file_extension}', o.extension);
    this.parts = compile(pre, o);
    this.hasIndex = this.parts.some((p) => p.kind === INDEX);
    this.hasUuidFlush = this.parts.some((p) => p.kind === UUID_FLUSH);
    this.usesTag = this.parts.some((p) => p.kind === TAG || p.kind === TAG_PART);
  }

  /** `sprintf(index_format, i)`. */
  formatIndex(index: number): string {
    let s = index.toString(this.#indexRadix);
    if (this.#indexUpper) s = s.toUpperCase();
    return s.length < this.#indexWidth ? s.padStart(this.#indexWidth, '0') : s;
  }

  /** The time slice of a chunk ('' without a timekey, as out_s3 does). */
  timeSlice(metadata: ChunkMetadata): string {
    return metadata.timekey === undefined ? '' : this.#timeSlice.format(metadata.timekey, 0, this.#zone);
  }

  /**
   * The key for `chunk` with `index`. Throws UnrecoverableChunkError when a tag
   * or chunk key value would escape the prefix (Fluentd raises
   * UnrecoverableError there too: retrying cannot help).
   */
  build(chunk: KeyChunk, index: number, now: number = Date.now()): string {
    const md = chunk.metadata;
    let tagParts: string[] | undefined;
    let key = '';
    for (const p of this.parts) {
      switch (p.kind) {
        case LITERAL:
          key += p.text;
          break;
        case TIME_TEXT:
          key += p.strftime!.format(md.timekey!, 0, this.#zone);
          break;
        case TAG:
          if (md.tag === undefined) key += p.text;
          else key += safeComponent(md.tag, 'tag');
          break;
        case TAG_PART: {
          if (md.tag === undefined) {
            key += p.text;
            break;
          }
          tagParts ??= safeComponent(md.tag, 'tag').split('.');
          const i = p.tagIndex! < 0 ? tagParts.length + p.tagIndex! : p.tagIndex!;
          key += i >= 0 && i < tagParts.length ? tagParts[i] : p.text;
          break;
        }
        case CHUNK_ID:
          key += chunk.idHex;
          break;
        case VARIABLE: {
          const v = md.variables?.[p.text];
          key += v === undefined ? '' : safeComponent(v, `\${${p.text}}`);
          break;
        }
        case TIME_SLICE:
          key += this.timeSlice(md);
          break;
        case INDEX:
          key += this.formatIndex(index);
          break;
        case HEX_RANDOM:
          key += hexRandom(chunk.idHex, this.#hexRandomLength);
          break;
        case UUID_FLUSH:
          key += randomUUID();
          break;
        case HMS_SLICE:
          key += this.#hms.format(Math.floor(now / 1000), 0, UTC);
          break;
      }
    }
    return key;
  }
}


/** out_s3 `hex_random`: the chunk id hex reversed (its random tail first), cut to N. */
export function hexRandom(idHex: string, length: number): string {
  let s = '';
  for (let i = idHex.length - 1; i >= 0 && s.length < length; i--) s += idHex[i];
  return s;
}

function safeComponent(value: string, what: string): string {
  if (INVALID_PATH_COMPONENT.test(value)) {
    throw new UnrecoverableChunkError(`Invalid path component detected in ${what}: ${value}`);
  }
  return value;
}

const PLACEHOLDER = /%\{([^}]+)\}|\$\{(tag(?:\[-?\d+\])?|[-_.@$a-zA-Z0-9]+)\}|%%/g;

function compile(template: string, o: KeyTemplateOptions): Part[] {
  const parts: Part[] = [];
  let text = '';
  const flush = (): void => {
    if (text === '') return;
    // strftime runs over the raw string only when `time` is a chunk key
    // (output.rb extract_placeholders `if @chunk_key_time`).
    if (o.chunkKeyTime && text.includes('%')) parts.push({ kind: TIME_TEXT, text, strftime: new Strftime(text) });
    else parts.push({ kind: LITERAL, text });
    text = '';
  };
  const push = (part: Part): void => {
    flush();
    parts.push(part);
  };
  let last = 0;
  for (const m of template.matchAll(PLACEHOLDER)) {
    text += template.slice(last, m.index);
    last = m.index + m[0].length;
    if (m[0] === '%%') {
      text += '%%';
      continue;
    }
    if (m[1] !== undefined) {
      const name = m[1];
      if (name === 'time_slice' || (name === 'date_slice' && !o.checkObject)) push({ kind: TIME_SLICE, text: m[0] });
      else if (name === 'index' && o.checkObject) push({ kind: INDEX, text: m[0] });
      else if (name === 'hex_random') push({ kind: HEX_RANDOM, text: m[0] });
      else if (name === 'uuid_flush') push({ kind: UUID_FLUSH, text: m[0] });
      else if (name === 'hms_slice' && !o.checkObject) push({ kind: HMS_SLICE, text: m[0] });
      else if (name === 'chunk_id') push({ kind: CHUNK_ID, text: m[0] }); // issue 5 lists %{chunk_id} too
      // anything else: Ruby's gsub(regexp, hash) replaces it with ''
      continue;
    }
    const name = m[2]!;
    if (name === 'chunk_id') push({ kind: CHUNK_ID, text: m[0] });
    else if (name === 'tag' && o.chunkKeyTag) push({ kind: TAG, text: m[0] });
    else if (name.startsWith('tag[') && o.chunkKeyTag) push({ kind: TAG_PART, text: m[0], tagIndex: Number(name.slice(4, -1)) });
    else if (o.chunkKeys.length > 0 && !name.startsWith('tag')) push({ kind: VARIABLE, text: name });
    else text += m[0]; // Fluentd leaves it in place
  }
  text += template.slice(last);
  flush();
  return parts;
}
