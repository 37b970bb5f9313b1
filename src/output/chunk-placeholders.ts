// Output#extract_placeholders (output.rb, docs/compatibility.md §8) for paths built from
// a chunk: strftime of the chunk's timekey in timekey_zone, ${tag},
// ${tag[N]}, ${chunk_id} and ${record_key}. Compiled once per template.

import { Strftime } from '../time/strftime.ts';
import { parseZone, type TimeZone } from '../time/zone.ts';
import { UnrecoverableChunkError, type ChunkView } from '../plugin-api.ts';
import type { ChunkKeyInfo } from '../plugin-api.ts';

const TAG_INDEX = /\$\{tag\[(-?\d+)\]\}/g;
const KEY_PLACEHOLDER = /\$\{([-_.@$a-zA-Z0-9]+)\}/g;
// output.rb INVALID_PATH_COMPONENT_PATTERN: `../` or a leading slash would escape the directory.
const INVALID_COMPONENT = /\.\.[/\\]|^[/\\]/;

export class ChunkPlaceholders {
  readonly template: string;
  readonly #keys: ChunkKeyInfo;
  readonly #strftime: Strftime | undefined;
  readonly #zone: TimeZone | undefined;

  constructor(template: string, keys: ChunkKeyInfo) {
    this.template = template;
    this.#keys = keys;
    if (keys.chunkKeyTime) {
      this.#strftime = new Strftime(template);
      this.#zone = parseZone(keys.timekeyZone);
    }
  }

  extract(chunk: ChunkView): string {
    const m = chunk.metadata;
    const k = this.#keys;
    let out = this.template;
    if (this.#strftime && m.timekey !== undefined) out = this.#strftime.format(m.timekey, 0, this.#zone!);
    if (k.chunkKeyTag && m.tag !== undefined) {
      if (out.includes('${tag')) {
        if (INVALID_COMPONENT.test(m.tag)) throw new UnrecoverableChunkError(`Invalid path component detected in tag: ${m.tag}`);
        const parts = m.tag.split('.');
        out = out.replaceAll('${tag}', m.tag).replace(TAG_INDEX, (whole, n: string) => {
          const i = Number(n);
          const part = i < 0 ? parts[parts.length + i] : parts[i];
          return part ?? whole;
        });
      }
    }
    out = out.replace('${chunk_id}', chunk.idHex);
    if (k.recordKeys.length > 0 && m.variables) {
      const vars = m.variables;
      out = out.replace(KEY_PLACEHOLDER, (whole, name: string) => {
        if (name === 'tag') return whole;
        const v = vars[name] ?? '';
        if (INVALID_COMPONENT.test(v)) throw new UnrecoverableChunkError(`Invalid path component detected in ${whole}: ${v}`);
        return v;
      });
    }
    return out;
  }
}
