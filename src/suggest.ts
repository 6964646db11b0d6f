/**
 * The candidate a mistyped word was most likely meant to be, or undefined when none is close:
 * within a third of the word's length in edits (one edit for short words), or the one candidate
 * the word begins (at least 3 characters). Ties go to the candidate listed first.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const allowed = Math.max(1, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = allowed + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  if (best !== undefined) return best;
  const extended = word.length >= 3 ? candidates.filter((candidate) => candidate.startsWith(word)) : [];
  return extended.length === 1 ? extended[0] : undefined;
}

/** Insertions, deletions, substitutions and swaps of two neighbours ('trian' is one from 'train'): optimal string alignment. */
export function editDistance(a: string, b: string): number {
  // d[i][j]: the distance between a's first i and b's first j characters
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const substitution = d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, substitution);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
