import { readdir, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { join } from 'node:path';
import type { Corpus } from './corpus.js';
import { UserError } from './errors.js';
import { errorCode, fileError } from './file-errors.js';
import { encodeChunks } from './symbols.js';
import { textChunks } from './text-file.js';

/** One file of a joined corpus; `folder` is the folder it was found in when it was not named itself. */
interface CorpusPart {
  readonly path: string;
  readonly folder?: string;
}

const HINT = 'pass --corpus with a UTF-8 text file or a folder of them';

/**
 * The text of several paths, or of a folder, joined in order: a folder gives its files in name
 * order (not its subfolders, nor hidden files such as .DS_Store). Each file ends with a line break
 * (one is added where missing) and a blank line separates it from the next; nothing else changes.
 * A file found in a folder must be text: a binary or non-UTF-8 one is refused by name.
 */
export async function loadCorpusPaths(paths: readonly string[], { chunkBytes }: { readonly chunkBytes?: number } = {}): Promise<Corpus> {
  if (paths.length === 0) throw new RangeError('loadCorpusPaths needs at least one path');
  const parts = (await Promise.all(paths.map(partsOf))).flat();
  const source = paths.join(' + ');
  const encoded = await encodeChunks(() => joinedText(parts, chunkBytes));
  if (encoded === 'empty') throw new UserError(`corpus ${source} holds no text (${HINT} that contains some)`);
  if (encoded === 'changed') throw new UserError(`corpus ${source} changed while it was being read (try again once nothing is writing to it)`);
  return { source, ...(paths.length > 1 ? { sources: [...paths] } : {}), files: parts.length, ...encoded };
}

/** The files a path gives: itself, or a folder's files sorted by name. */
async function partsOf(path: string): Promise<CorpusPart[]> {
  const info = await statOf(path);
  if (info.isFile()) return [{ path }];
  if (!info.isDirectory()) throw new UserError(`corpus ${path} is neither a file nor a folder (a pipe can only be read as the one --corpus)`);
  let names: string[];
  try {
    names = (await readdir(path)).filter((name) => !name.startsWith('.')).sort();
  } catch (error) {
    throw unreadable(error, path);
  }
  const parts: CorpusPart[] = [];
  for (const name of names) {
    const file = join(path, name);
    if ((await statOf(file)).isFile()) parts.push({ path: file, folder: path });
  }
  if (parts.length === 0) throw new UserError(`corpus folder ${path} has no files (put UTF-8 text files in it, or ${HINT})`);
  return parts;
}

async function statOf(path: string): Promise<Stats> {
  try {
    return await stat(path);
  } catch (error) {
    throw unreadable(error, path);
  }
}

function unreadable(error: unknown, path: string): unknown {
  const code = errorCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return new UserError(`corpus file not found: ${path} (${HINT})`);
  return fileError(error, `cannot read corpus ${path}`, HINT);
}

/** The parts' text, decoded a chunk at a time, with a line break ending each file and a blank line between files. */
async function* joinedText(parts: readonly CorpusPart[], chunkBytes: number | undefined): AsyncGenerator<string> {
  let last: string | undefined; // the last character yielded; undefined before any text
  for (const { path, folder } of parts) {
    const fixEncoding = folder === undefined ? undefined : `save it as UTF-8 text, or move it out of ${folder}`;
    let first = true;
    for await (const chunk of textChunks(path, 'corpus file', { chunkBytes, fixEncoding })) {
      if (chunk === '') continue;
      if (folder !== undefined && chunk.includes('\0')) {
        throw new UserError(`corpus file ${path} is binary, not text (it holds NUL characters): move it out of ${folder}, or name the text files with --corpus`);
      }
      if (first && last !== undefined) yield last === '\n' ? '\n' : '\n\n';
      first = false;
      yield chunk;
      last = chunk[chunk.length - 1];
    }
  }
}
