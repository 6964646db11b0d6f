import { UserError } from '../errors.js';

/**
 * One row of <out>/history.csv: the numbers of one training step, as the loop computed them.
 * loss and smoothLoss are in nats per sequence of T characters (as on the progress bar);
 * valLoss is in nats per character, and only set at the steps where validation ran.
 */
export interface HistoryRow {
  readonly step: number;
  readonly epoch: number;
  readonly charsSeen: number;
  readonly loss: number;
  readonly smoothLoss: number;
  readonly valLoss: number | undefined;
  /** Characters per second since this session of the run started training, as on the progress bar. */
  readonly charsPerSec: number;
  /** Seconds spent training since the run's first step, summed over resumed sessions. */
  readonly wallSeconds: number;
}

export const HISTORY_HEADER = 'step,epoch,chars_seen,loss,smooth_loss,val_loss,chars_per_sec,wall_seconds';

/** One CSV line with its newline; numbers keep every digit (String round-trips a double). */
export function formatHistoryRow(row: HistoryRow): string {
  const val = row.valLoss === undefined ? '' : String(row.valLoss);
  return `${row.step},${row.epoch},${row.charsSeen},${row.loss},${row.smoothLoss},${val},${Math.round(row.charsPerSec)},${row.wallSeconds.toFixed(3)}\n`;
}

export interface ParsedHistory {
  readonly rows: HistoryRow[];
  /** Offset in the text just past each row's line (ends[i] for rows[i]), to cut the file at a step. */
  readonly ends: number[];
}

/**
 * Parses the text of a history file. A last line without its newline is a write that a crash cut
 * short and is left out; any other line that is not a row, or steps that do not increase, mean
 * the file is damaged: a UserError naming the line.
 */
export function parseHistory(text: string, path: string): ParsedHistory {
  const rows: HistoryRow[] = [];
  const ends: number[] = [];
  const headerEnd = text.indexOf('\n');
  if (headerEnd < 0 || text.slice(0, headerEnd).replace(/\r$/, '') !== HISTORY_HEADER) {
    throw new UserError(`${path} is not a history file written by 'char-rnn train' (its first line should be '${HISTORY_HEADER}')`);
  }
  let start = headerEnd + 1;
  for (let lineNumber = 2; start < text.length; lineNumber++) {
    const end = text.indexOf('\n', start);
    if (end < 0) break; // a torn last write
    const row = parseRow(text.slice(start, end).replace(/\r$/, ''));
    if (row === undefined) throw new UserError(`${path} is damaged: line ${lineNumber} is not a history row (train again, or delete the file)`);
    const previous = rows.at(-1);
    if (previous !== undefined && row.step <= previous.step) {
      throw new UserError(`${path} is damaged: line ${lineNumber} has step ${row.step} after step ${previous.step} (train again, or delete the file)`);
    }
    rows.push(row);
    ends.push(end + 1);
    start = end + 1;
  }
  return { rows, ends };
}

function parseRow(line: string): HistoryRow | undefined {
  const fields = line.split(',');
  if (fields.length !== 8) return undefined;
  const [step, epoch, charsSeen, loss, smoothLoss, val, charsPerSec, wallSeconds] = fields.map((f) => (f === '' ? Number.NaN : Number(f)));
  const counts = [step, epoch, charsSeen];
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0) || step < 1 || epoch < 1) return undefined;
  if (![loss, smoothLoss, charsPerSec, wallSeconds].every(Number.isFinite)) return undefined;
  if (fields[5] !== '' && !Number.isFinite(val)) return undefined;
  return { step, epoch, charsSeen, loss, smoothLoss, valLoss: fields[5] === '' ? undefined : val, charsPerSec, wallSeconds };
}
