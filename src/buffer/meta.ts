// The `.meta` file next to each file chunk, Fluentd's layout
// (buffer/file_chunk.rb write_metadata, docs/compatibility.md §8): `\xC1\x00` + uint32 BE
// length + msgpack map {timekey, tag, variables, seq, id, s, c, m}. We add one
// key, `auditrelay`, that Fluentd's restore_metadata ignores: the committed
// byte length (so a torn tail can be cut on resume) and the output's chunk
// attributes (the S3 key reserved before the first PUT).

import { encode, decode } from '@msgpack/msgpack';
import type { ChunkMetadata } from '../plugin-api.ts';

const HEADER = Buffer.from([0xc1, 0x00]);
export const EXTRA_KEY = 'auditrelay';

export interface ChunkMeta {
  readonly metadata: ChunkMetadata;
  readonly id: Buffer;
  /** Record count (`s`). */
  readonly records: number;
  /** created_at, unix seconds (`c`). */
  readonly createdAt: number;
  /** modified_at, unix seconds (`m`). */
  readonly modifiedAt: number;
  /** Committed data length; undefined for a chunk written by Fluentd itself. */
  readonly committedBytes: number | undefined;
  readonly attributes: Readonly<Record<string, string>>;
  /** Newline-terminated records: the data file itself tells what was committed (file-chunk.ts). */
  readonly lineRecords?: boolean;
}

export class MetaDecodeError extends Error {
  override readonly name = 'MetaDecodeError';
}

export function encodeMeta(meta: ChunkMeta): Buffer {
  const map = {
    timekey: meta.metadata.timekey ?? null,
    tag: meta.metadata.tag ?? null,
    variables: meta.metadata.variables ?? null,
    seq: 0,
    id: meta.id,
    s: meta.records,
    c: meta.createdAt,
    m: meta.modifiedAt,
    [EXTRA_KEY]: meta.lineRecords
      ? { len: meta.committedBytes ?? 0, attrs: meta.attributes, lines: true }
      : { len: meta.committedBytes ?? 0, attrs: meta.attributes },
  };
  const body = encode(map);
  const out = Buffer.allocUnsafe(6 + body.byteLength);
  HEADER.copy(out, 0);
  out.writeUInt32BE(body.byteLength, 2);
  out.set(body, 6);
  return out;
}

/** FileChunk#restore_metadata: new format first, then the old bare-msgpack one. */
export function decodeMeta(bin: Buffer): ChunkMeta {
  let data: unknown;
  if (bin.length > 6 && bin[0] === 0xc1 && bin[1] === 0x00) {
    const size = bin.readUInt32BE(2);
    if (6 + size > bin.length) throw new MetaDecodeError(`invalid meta data: length ${size} beyond file end ${bin.length - 6}`);
    data = tryDecode(bin.subarray(6, 6 + size));
  } else {
    data = tryDecode(bin);
  }
  if (data === undefined || data === null || typeof data !== 'object' || Array.isArray(data) || data instanceof Uint8Array) {
    throw new MetaDecodeError('invalid meta data');
  }
  const d = data as Record<string, unknown>;
  if (!(d.id instanceof Uint8Array) || d.id.length === 0) throw new MetaDecodeError('invalid unique_id');
  const c = toInt(d.c);
  const m = toInt(d.m);
  if (!(c > 0)) throw new MetaDecodeError('invalid created_at');
  if (!(m > 0)) throw new MetaDecodeError('invalid modified_at');
  const metadata: { timekey?: number; tag?: string; variables?: Record<string, string> } = {};
  if (typeof d.timekey === 'number' || typeof d.timekey === 'bigint') metadata.timekey = Number(d.timekey);
  if (typeof d.tag === 'string') metadata.tag = d.tag;
  if (d.variables && typeof d.variables === 'object') {
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.variables as Record<string, unknown>)) vars[k] = v === null || v === undefined ? '' : String(v);
    metadata.variables = vars;
  }
  const extra = d[EXTRA_KEY] as { len?: unknown; attrs?: unknown; lines?: unknown } | undefined;
  const attributes: Record<string, string> = {};
  if (extra?.attrs && typeof extra.attrs === 'object') {
    for (const [k, v] of Object.entries(extra.attrs as Record<string, unknown>)) if (typeof v === 'string') attributes[k] = v;
  }
  return {
    metadata,
    id: Buffer.from(d.id),
    records: toInt(d.s ?? 0),
    createdAt: c,
    modifiedAt: m,
    committedBytes: extra && extra.len !== undefined ? toInt(extra.len) : undefined,
    attributes,
    lineRecords: extra?.lines === true,
  };
}

function tryDecode(bytes: Uint8Array): unknown {
  try {
    return decode(bytes, { useBigInt64: false });
  } catch {
    return undefined;
  }
}

function toInt(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'bigint') return Number(v);
  return Number.NaN;
}
