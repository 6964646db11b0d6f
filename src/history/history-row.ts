import { UserError } from '../errors.js';
import { damagedLine, parseLines } from './lines.js';

/**
 * One row of <out>/history.csv: the numbers of one training step. Every loss is in nats per
 * character: loss is the step's mean over its B * T characters, smoothLoss the seed's smooth loss
 * (kept per sequence of T characters in the checkpoint) divided by T, valLoss the validation loss,
 * set only at the steps where validation ran.
 */
export interface HistoryRow {
  readonly step: number;
  readonly epoch: number;
  readonly charsSeen: number;
  readonly loss: number;
  readonly smoothLoss: number;
  readonly valLoss: number | undefined;
  /** Characters per second of training time (time inside the steps, evaluations left out) since this session of the run started. */
  readonly charsPerSec: number;
  /** Seconds since the run's first step, evaluations and checkpoints included, summed over resumed sessions. */
  readonly wallSeconds: number;
}

export const HISTORY_HEADER = 'step,epoch,chars_seen,loss_nats_per_char,smooth_loss_nats_per_char,val_loss_nats_per_char,chars_per_sec,wall_seconds';
/** The header of the first format, whose loss and smooth_loss were per sequence of T characters. */
export const HISTORY_HEADER_PER_SEQUENCE = 'step,epoch,chars_seen,loss,smooth_loss,val_loss,chars_per_sec,wall_seconds';

/** One CSV line with its newline; numbers keep every digit (String round-trips a double). */
export function formatHistoryRow(row: HistoryRow): string {
  const val = row.valLoss === undefined ? '' : String(row.valLoss);
  return `${row.step},${row.epoch},${row.charsSeen},${row.loss},${row.smoothLoss},${val},${Math.round(row.charsPerSec)},${row.wallSeconds.toFixed(3)}\n`;
}

export interface ParsedHistory {
  readonly rows: HistoryRow[];
  /** What was left out and why (a torn last line), for the caller to show. */
  readonly warnings: string[];
}

/**
 * Parses the text of a history file, in either format: the first format's losses per sequence are
 * divided by `seqLength` (T), which only that format needs. A last line that a crash or a full disk
 * cut short (no newline, or not a row) is left out with a warning; any other line that is not a
 * row, or steps that do not increase, mean the file is damaged: a UserError naming the line.
 */
export function parseHistory(text: string, path: string, seqLength?: number): ParsedHistory {
  const headerEnd = text.indexOf('\n');
  const header = headerEnd < 0 ? undefined : text.slice(0, headerEnd).replace(/\r$/, '');
  if (header !== HISTORY_HEADER && header !== HISTORY_HEADER_PER_SEQUENCE) {
    throw new UserError(`${path} is not a history file written by 'char-rnn train' (its first line should be '${HISTORY_HEADER}')`);
  }
  let perChar = 1;
  if (header === HISTORY_HEADER_PER_SEQUENCE) {
    if (seqLength === undefined) throw new UserError(`${path} has losses per sequence (an older char-rnn wrote it): reading it needs the run's sequence length`);
    perChar = seqLength;
  }
  const { items: rows, warnings } = parseLines(text, headerEnd + 1, 2, path, 'a history row', (line) => parseRow(line, perChar));
  for (let i = 1; i < rows.length; i++) {
    if (rows[i].step <= rows[i - 1].step) throw damagedLine(path, i + 2, `has step ${rows[i].step} after step ${rows[i - 1].step}`);
  }
  return { rows, warnings };
}

function parseRow(line: string, perChar: number): HistoryRow | undefined {
  const fields = line.split(',');
  if (fields.length !== 8) return undefined;
  const [step, epoch, charsSeen, loss, smoothLoss, val, charsPerSec, wallSeconds] = fields.map((f) => (f === '' ? Number.NaN : Number(f)));
  const counts = [step, epoch, charsSeen];
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0) || step < 1 || epoch < 1) return undefined;
  if (![loss, smoothLoss, charsPerSec, wallSeconds].every(Number.isFinite)) return undefined;
  if (fields[5] !== '' && !Number.isFinite(val)) return undefined;
  return {
    step, epoch, charsSeen, loss: loss / perChar, smoothLoss: smoothLoss / perChar,
    valLoss: fields[5] === '' ? undefined : val, charsPerSec, wallSeconds,
  };
}
