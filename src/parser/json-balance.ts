// A hostile-input guard for the exact JSON parser (issue 12.8): a body of 200,000 `[`
// or 50,000 `{"a":` is refused by Oj only at its end, after the exact parser has built
// one container per level — 10–25 MB of garbage per request, and V8 let the heap grow
// to ~1 GB under a stream of them. This scan allocates nothing: it follows strings
// and comments the way the exact parser does and counts open containers; when they
// do not balance, the text cannot be one JSON document and the parser need not run.
// It only ever says "unbalanced" for text the exact parser refuses too.

/**
 * The offset at which `text` is known to be refused (a closer with no opener, or
 * the end with containers still open), or -1 when the brackets balance (the exact
 * parser then decides). `text` is the JSON text, or its UTF-8 bytes: every byte
 * this scan looks at is ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte
 * character, so the bytes can be checked before they are decoded into a string.
 */
export function unbalancedAt(text: string | Uint8Array): number {
  const len = text.length;
  const at: (i: number) => number = typeof text === 'string' ? (i) => text.charCodeAt(i) : (i) => text[i] ?? NaN;
  let depth = 0;
  let i = 0;
  while (i < len) {
    const c = at(i);
    if (c === 0x22) {
      // A string: up to the next unescaped quote (NUL or the end inside it: refused).
      let j = i + 1;
      for (;;) {
        if (j >= len) return len;
        const d = at(j);
        if (d === 0x22) break;
        if (d === 0) return j;
        j += d === 0x5c ? 2 : 1;
      }
      i = j + 1;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      i++;
    } else if (c === 0x5d || c === 0x7d) {
      if (--depth < 0) return i;
      i++;
    } else if (c === 0x2f && at(i + 1) === 0x2a) {
      let close = i + 2;
      while (close < len && !(at(close) === 0x2a && at(close + 1) === 0x2f)) close++;
      if (close >= len) return -1; // the parser reports the missing value itself
      i = close + 2;
    } else if (c === 0x2f && at(i + 1) === 0x2f) {
      let j = i + 2;
      for (; j < len; j++) {
        const d = at(j);
        if (d === 0x0a || d === 0x0d || d === 0x0c || d === 0) break;
      }
      i = j;
    } else if (c === 0) {
      break; // Oj reads a C string: the text ends here
    } else {
      i++;
    }
  }
  return depth === 0 ? -1 : i;
}
