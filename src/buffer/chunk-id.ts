// Fluentd's unique_id (lib/fluent/unique_id.rb, docs/compatibility.md §8): 16 bytes =
// [ (usec_since_epoch << 12 | rand(0xfff)) as two 32-bit BE words, rand32, rand32 ].
// The time prefix makes ids sort by creation; the hex form names chunk files.

import { randomInt } from 'node:crypto';

export function generateChunkId(nowMs: number = Date.now()): Buffer {
  const usec = BigInt(Math.floor(nowMs * 1000));
  const u1 = (usec << 12n) | BigInt(randomInt(0xfff));
  const id = Buffer.allocUnsafe(16);
  id.writeBigUInt64BE(u1 & 0xffffffffffffffffn, 0);
  id.writeUInt32BE(randomInt(0xffffffff), 8);
  id.writeUInt32BE(randomInt(0xffffffff), 12);
  return id;
}

export function chunkIdHex(id: Buffer): string {
  return id.toString('hex');
}

// FileChunk.unique_id_from_path: `.b<hex>.` or `.q<hex>.` in the base name.
const STATE_IN_PATH = /\.(b|q)([0-9a-f]+)\.[^/]*$/;

/** 'staged' / 'queued' from a chunk file name, as FileChunk.assume_chunk_state. */
export function chunkStateFromPath(path: string): { state: 'staged' | 'queued'; idHex: string } | undefined {
  const m = STATE_IN_PATH.exec(path);
  if (!m) return undefined;
  return { state: m[1] === 'b' ? 'staged' : 'queued', idHex: m[2] };
}
