// "did you mean …?" for a misspelt name: the closest known spelling by
// Levenshtein distance, offered only when it is close enough to be a typo
// (at most 2 edits, or a third of the word's length for long words). Used by
// the receiver's unused-parameter warnings (config/unused.ts) and the
// exporter's unknown TOML keys (event-handler/start/start-config.ts).

export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The candidate closest to `word` when it is a plausible typo of it, else undefined. */
export function closestSpelling(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}
