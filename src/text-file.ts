import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from './errors.js';
import { fileError } from './file-errors.js';
import { firstInvalidUtf8 } from './utf8.js';

export interface TextChunkOptions {
  /** Bytes read at a time; small values exist to test chunk boundaries. */
  readonly chunkBytes?: number;
  /** What to do about invalid UTF-8, for its message (default: save it as UTF-8 text). */
  readonly fixEncoding?: string;
}

// Decoded, 256 KB is at most 512 KB of UTF-16: Node makes strings under about 1 MB on the JS heap,
// where the young generation soon frees them, and larger ones outside it, where tens of MB of
// them wait for a full collection.
const DEFAULT_CHUNK_BYTES = 256 * 1024;
const HINT = 'pass a readable UTF-8 text file';

/** A small UTF-8 text file read whole (a prime): textChunks joined. */
export async function readTextFile(path: string, label: string): Promise<string> {
  let text = '';
  for await (const chunk of textChunks(path, label)) text += chunk;
  return text;
}

/**
 * A UTF-8 text file (a file, a pipe) decoded a chunk at a time, so that a text of any length takes
 * a few MB; `label` names it in messages ('text file'). A leading byte-order mark is dropped, as
 * from a corpus. Unreadable or invalid UTF-8 is a one-line error naming the path (and the byte
 * where the encoding breaks, counted from the file's start).
 */
export async function* textChunks(path: string, label: string, options: TextChunkOptions = {}): AsyncGenerator<string> {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`chunkBytes must be a positive integer, got ${chunkBytes}`);
  const unreadable = (error: unknown): unknown => fileError(error, `cannot read ${label} ${path}`, HINT);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw unreadable(error);
  }
  const read = (into: Uint8Array): Promise<number> => {
    const bytesRead = handle.read(into, 0, chunkBytes, null).then(({ bytesRead: n }) => n, (error: unknown) => {
      throw unreadable(error);
    });
    bytesRead.catch(() => {}); // awaited below, or not at all when the reader stops early: no unhandled rejection then
    return bytesRead;
  };
  // two buffers: the next chunk is read while this one is decoded and used
  const buffers = [new Uint8Array(chunkBytes), new Uint8Array(chunkBytes)];
  let next = read(buffers[0]);
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    // the last bytes read, up to 3: a sequence the decoder found broken may have begun in them
    let tail = new Uint8Array(0);
    let offset = 0; // of chunk[0] in the file
    for (let i = 1; ; i++) {
      const bytesRead = await next;
      if (bytesRead === 0) break;
      const chunk = buffers[1 - (i % 2)].subarray(0, bytesRead);
      next = read(buffers[i % 2]);
      let text: string;
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch (error) {
        const at = firstInvalidUtf8(concat(tail, chunk));
        throw invalidUtf8(label, path, `near byte ${at < 0 ? offset : offset - tail.length + at}`, options.fixEncoding, error);
      }
      tail = concat(tail, chunk.subarray(-3)).slice(-3);
      offset += bytesRead;
      yield text;
    }
    let end: string;
    try {
      end = decoder.decode();
    } catch (error) {
      throw invalidUtf8(label, path, 'at its end', options.fixEncoding, error);
    }
    yield end;
  } finally {
    await next.catch(() => {}); // a read in flight must end before its file is closed; its error is no longer anyone's
    await handle.close();
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function invalidUtf8(label: string, path: string, where: string, fix = 'save it as UTF-8 text', cause: unknown): UserError {
  return new UserError(`${label} ${path} is not valid UTF-8 ${where} (${fix})`, { cause });
}
