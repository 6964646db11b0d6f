import { UserError } from '../errors.js';

/** The records of a line-per-record file, the offset just past each one's line, and what was left out. */
export interface ParsedLines<T> {
  readonly items: T[];
  readonly ends: number[];
  readonly warnings: string[];
}

/**
 * Parses text[start..] one line at a time (line numbers from firstLine) with `parse`. A run writes
 * whole lines, so a last line that a crash or a full disk cut short (no newline, or not a record)
 * is left out with a warning; any other line that is not a record means the file is damaged: a
 * UserError naming the line, as `what` ('a history row') calls a record.
 */
export function parseLines<T>(text: string, start: number, firstLine: number, path: string, what: string, parse: (line: string) => T | undefined): ParsedLines<T> {
  const items: T[] = [];
  const ends: number[] = [];
  const warnings: string[] = [];
  for (let lineNumber = firstLine; start < text.length; lineNumber++) {
    const newline = text.indexOf('\n', start);
    const end = newline < 0 ? text.length : newline;
    const item = newline < 0 ? undefined : parse(text.slice(start, end).replace(/\r$/, ''));
    if (item === undefined) {
      if (end + 1 < text.length) throw damagedLine(path, lineNumber, `is not ${what}`);
      const why = newline < 0 ? 'has no end (a write cut short by a crash or a full disk)' : 'is damaged';
      warnings.push(`${path}: its last line, line ${lineNumber}, ${why} and is left out`);
      break;
    }
    items.push(item);
    ends.push(end + 1);
    start = end + 1;
  }
  return { items, ends, warnings };
}

export function damagedLine(path: string, lineNumber: number, problem: string): UserError {
  return new UserError(`${path} is damaged: line ${lineNumber} ${problem} (train again, or delete the file)`);
}
