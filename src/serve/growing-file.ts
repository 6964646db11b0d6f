import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { errorCode } from '../file-errors.js';

/**
 * The items of a file a trainer appends lines to (history.csv, samples.jsonl), read again on every
 * poll at the cost of what was appended since: parsing a 100,000-row history whole takes 250 ms,
 * which would hold up every other request. Only whole lines are parsed; a line being written is
 * read once its newline is there. A file replaced (another inode: a resumed run rewrites it), cut
 * shorter, or whose new items do not follow the old ones (`follows`) is parsed again whole.
 */
export class GrowingFile<T> {
  private state: { ino: number; consumed: number; header: string; items: T[] } | undefined;

  /**
   * parse(text) gives the items of whole lines of the file, its `headerLines` first lines
   * included; follows(before, after) says whether an item may come after another.
   */
  constructor(
    private readonly path: string,
    private readonly headerLines: number,
    private readonly follows: (before: T, after: T) => boolean = () => true,
  ) {}

  /** The items of the file's whole lines; undefined when there is no such file. */
  read(parse: (text: string) => T[]): T[] | undefined {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { ino, size } = fstatSync(fd);
      const known = this.state;
      if (known !== undefined && known.ino === ino && size >= known.consumed) {
        if (size === known.consumed) return known.items;
        const added = wholeLines(readBytes(fd, known.consumed, size - known.consumed));
        const items = added.length === 0 ? [] : parse(known.header + added.toString('utf8'));
        const last = known.items.at(-1);
        if (items.length === 0 || last === undefined || this.follows(last, items[0])) {
          known.items.push(...items);
          known.consumed += added.length;
          return known.items;
        }
      }
      const whole = wholeLines(readBytes(fd, 0, size));
      const text = whole.toString('utf8');
      const header = text.split('\n').slice(0, this.headerLines).map((line) => `${line}\n`).join('');
      if (header.split('\n').length - 1 < this.headerLines) {
        this.state = undefined; // the header is not whole yet
        return [];
      }
      this.state = { ino, consumed: whole.length, header, items: parse(text) };
      return this.state.items;
    } finally {
      closeSync(fd);
    }
  }
}

function readBytes(fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const n = readSync(fd, buffer, read, length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return buffer.subarray(0, read);
}

/** The bytes up to and including the last newline: the lines a writer has finished. */
function wholeLines(bytes: Buffer): Buffer {
  return bytes.subarray(0, bytes.lastIndexOf(0x0a) + 1);
}
