import { readFile } from 'node:fs/promises';
import { UserError } from './errors.js';
import { fileError } from './file-errors.js';
import { firstInvalidUtf8 } from './utf8.js';

/**
 * A small UTF-8 text file read whole (a prime, a text to score); `label` names it in messages
 * ('prime file'). A leading byte-order mark is dropped, as from a corpus. Unreadable or invalid
 * UTF-8 is a one-line error naming the path (and the byte where the encoding breaks).
 */
export async function readTextFile(path: string, label: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(error, `cannot read ${label} ${path}`, 'pass a readable UTF-8 text file');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (error) {
    const at = firstInvalidUtf8(bytes);
    const where = at < 0 ? 'at its end' : `near byte ${at}`;
    throw new UserError(`${label} ${path} is not valid UTF-8 ${where} (save it as UTF-8 text)`, { cause: error });
  }
}
