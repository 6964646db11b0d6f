import { UserError } from './errors.js';

/** The encoded text: one vocabulary index per code point, over a SharedArrayBuffer. */
export type SymbolIds = Uint8Array | Uint16Array | Uint32Array;

/** Yields the text piece by piece; called once per pass, so it must be restartable. */
export type ChunkSource = () => AsyncIterable<string>;

const MAX_CODE_POINT = 0x10ffff;

/** The narrowest unsigned view that can hold every index in 0..K-1. */
export function idsArrayFor(K: number, buffer: SharedArrayBuffer, length: number): SymbolIds {
  switch (bytesPerSymbol(K)) {
    case 1:
      return new Uint8Array(buffer, 0, length);
    case 2:
      return new Uint16Array(buffer, 0, length);
    default:
      return new Uint32Array(buffer, 0, length);
  }
}

function bytesPerSymbol(K: number): 1 | 2 | 4 {
  return K <= 0x100 ? 1 : K <= 0x10000 ? 2 : 4;
}

/** A zeroed ids array for n symbols of a K-symbol vocabulary, over a fresh SharedArrayBuffer. */
export function newIds(K: number, n: number): SymbolIds {
  return idsArrayFor(K, new SharedArrayBuffer(n * bytesPerSymbol(K)), n);
}

/**
 * A short text (a sampling prime) as ids in an existing vocabulary, and the distinct code points
 * the vocabulary lacks, in order of first appearance; those are left out of ids.
 */
export function encodeKnown(text: string, vocab: Uint32Array): { ids: Uint32Array; unknown: number[] } {
  const ids: number[] = [];
  const unknown = new Set<number>();
  visitSymbols(text, lookupTable(vocab), (id) => ids.push(id), (cp) => unknown.add(cp));
  return { ids: Uint32Array.from(ids), unknown: [...unknown] };
}

/**
 * Hands each code point of text, in order, to known(id) where lookup (lookupTable) has it and to
 * unknown(cp) where it does not.
 */
export function visitSymbols(text: string, lookup: Int32Array, known: (id: number) => void, unknown: (cp: number) => void): void {
  const len = text.length;
  const size = lookup.length;
  for (let i = 0; i < len; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff) cp = pairCodePoint(text, i, cp);
    if (cp > 0xffff) i++;
    const id = cp < size ? lookup[cp] : -1;
    if (id >= 0) known(id);
    else unknown(cp);
  }
}

/** encodeKnown, strict: a text with characters outside the vocabulary is a UserError naming them. */
export function encodeText(text: string, vocab: Uint32Array): SymbolIds {
  const { ids, unknown } = encodeKnown(text, vocab);
  if (unknown.length > 0) {
    const listed = unknown.map(describeCodePoint).join(', ');
    const noun = unknown.length === 1 ? 'character' : 'characters';
    throw new UserError(
      `the text has ${unknown.length} ${noun} not in the vocabulary: ${listed} (use only characters that occur in the corpus)`,
    );
  }
  const encoded = newIds(vocab.length, ids.length);
  encoded.set(ids);
  return encoded;
}

export function decodeIds(ids: ArrayLike<number>, vocab: Uint32Array): string {
  // String.fromCodePoint takes its code points as arguments, so go in slices to stay under
  // the engine's argument-count limit.
  const SLICE = 8192;
  const pieces: string[] = [];
  const codePoints: number[] = [];
  for (let start = 0; start < ids.length; start += SLICE) {
    const end = Math.min(start + SLICE, ids.length);
    codePoints.length = 0;
    for (let i = start; i < end; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < vocab.length)) {
        throw new RangeError(`symbol id ${id} at index ${i} is outside the vocabulary of ${vocab.length} symbols`);
      }
      codePoints.push(vocab[id]);
    }
    pieces.push(String.fromCodePoint(...codePoints));
  }
  return pieces.join('');
}

/**
 * Two passes over the text: the first finds the vocabulary and the length, the second writes
 * the ids into a buffer of exactly that length, so the text is never held whole as a string.
 */
export async function encodeChunks(
  chunks: ChunkSource,
): Promise<{ vocab: Uint32Array; ids: SymbolIds } | 'empty' | 'changed'> {
  const seen = new Uint8Array(MAX_CODE_POINT + 1);
  let n = 0;
  for await (const chunk of chunks()) n += markCodePoints(chunk, seen);
  if (n === 0) return 'empty';

  const vocab = vocabFromSeen(seen);
  const lookup = lookupTable(vocab);
  const ids = newIds(vocab.length, n);
  let pos = 0;
  for await (const chunk of chunks()) {
    pos = encodeChunk(chunk, lookup, ids, pos);
    if (pos < 0) return 'changed';
  }
  return pos === n ? { vocab, ids } : 'changed';
}

/**
 * The code point of the surrogate pair at text[i], given hi = text.charCodeAt(i) is a high
 * surrogate; hi itself when no low surrogate follows it. The loops test for a high surrogate
 * themselves so that the common case costs no call.
 */
function pairCodePoint(text: string, i: number, hi: number): number {
  if (i + 1 < text.length) {
    const lo = text.charCodeAt(i + 1);
    if (lo >= 0xdc00 && lo <= 0xdfff) return ((hi - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
  }
  return hi;
}

/** Sets seen[cp] = 1 for every code point of text; returns how many code points it has. */
function markCodePoints(text: string, seen: Uint8Array): number {
  const len = text.length;
  let n = 0;
  for (let i = 0; i < len; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff) cp = pairCodePoint(text, i, cp);
    if (cp > 0xffff) i++;
    seen[cp] = 1;
    n++;
  }
  return n;
}

function vocabFromSeen(seen: Uint8Array): Uint32Array {
  let K = 0;
  for (let cp = 0; cp < seen.length; cp++) K += seen[cp];
  const vocab = new Uint32Array(K);
  let k = 0;
  for (let cp = 0; cp < seen.length; cp++) if (seen[cp] === 1) vocab[k++] = cp;
  return vocab;
}

/**
 * lookup[cp] is the index of cp in vocab, or -1; sized to the largest code point in vocab (any
 * order), and never past U+10FFFF: no string holds a code point above it, so entries beyond (a
 * checkpoint's vocabulary is read from a file) could never be looked up.
 */
export function lookupTable(vocab: Uint32Array): Int32Array {
  let size = 0;
  for (const cp of vocab) if (cp <= MAX_CODE_POINT) size = Math.max(size, cp + 1);
  const lookup = new Int32Array(size).fill(-1);
  for (let k = 0; k < vocab.length; k++) if (vocab[k] < size) lookup[vocab[k]] = k;
  return lookup;
}

/**
 * Writes the ids of text into ids from pos on; returns the next pos, or -1 on a code point not
 * in lookup or when ids is full (a typed array drops writes past its end without a word).
 */
function encodeChunk(text: string, lookup: Int32Array, ids: SymbolIds, pos: number): number {
  const len = text.length;
  const size = lookup.length;
  const end = ids.length;
  for (let i = 0; i < len; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff) cp = pairCodePoint(text, i, cp);
    if (cp > 0xffff) i++;
    const id = cp < size ? lookup[cp] : -1;
    if (id < 0 || pos >= end) return -1;
    ids[pos++] = id;
  }
  return pos;
}

/** Characters of a list of unknown ones that a message names before '... and N more'. */
const NAMED_AT_MOST = 20;

/** '2 characters not in the checkpoint's vocabulary: "é" (U+00E9), "😀" (U+1F600)', at most 20 named. */
export function describeUnknown(unknown: readonly number[]): string {
  const noun = unknown.length === 1 ? 'character' : 'characters';
  const named = unknown.slice(0, NAMED_AT_MOST).map(describeCodePoint).join(', ');
  const more = unknown.length > NAMED_AT_MOST ? ` and ${unknown.length - NAMED_AT_MOST} more` : '';
  return `${unknown.length} ${noun} not in the checkpoint's vocabulary: ${named}${more}`;
}

/** '"é" (U+00E9)'; JSON quoting keeps control characters and lone surrogates on one line. */
export function describeCodePoint(cp: number): string {
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(String.fromCodePoint(cp))} (U+${hex})`;
}
