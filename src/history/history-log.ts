import { join } from 'node:path';
import { BackgroundFile } from './background-file.js';
import { formatHistoryRow, HISTORY_HEADER, type HistoryRow } from './history-row.js';
import { RECENT_STEPS } from './recent-loss.js';
import { HISTORY_FILE, readHistory, readSamples, SAMPLES_FILE } from './run-files.js';
import { formatSample } from './samples.js';

/** Rows wait in memory until this many are pending or this much training time has passed. */
const WRITE_EVERY_ROWS = 500;
const WRITE_EVERY_SECONDS = 1;

export interface HistoryStart {
  /** Where the files go: the run's --out. */
  readonly out: string;
  /** The folder whose history this run continues (a resumed run's checkpoint folder); default out. */
  readonly from?: string;
  /** The step training starts from: 0, or the resumed checkpoint's step. */
  readonly step: number;
  /** B * T: characters one step reads. */
  readonly charsPerStep: number;
  /** T: a history file of the first format, with losses per sequence, is rewritten per character. */
  readonly seqLength: number;
}

/** One step as the loop saw it; losses in nats per character. */
export interface StepRecord {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly smoothLoss: number;
  /** Seconds since this session started training, evaluations included. */
  readonly seconds: number;
  /** Characters per second of this session's training time (inside the steps). */
  readonly charsPerSec: number;
}

type MutableRow = { -readonly [F in keyof HistoryRow]: HistoryRow[F] };

/**
 * What training did, as files beside the checkpoints: one row a step in history.csv and every
 * sample printed in samples.jsonl. The loop calls record() every step: it only keeps the row in
 * memory; the rows are written in the background about once a second, and flush() writes the
 * rest (at evaluations, checkpoints, the end and Ctrl-C) and waits.
 *
 * A resumed run keeps the rows up to the checkpoint's step and the samples drawn before it, and
 * drops what was written after that checkpoint, so that the curve has no gap and no step twice.
 * The kept rows are written again in the current format, without a torn last line.
 */
export class HistoryLog {
  #pending: MutableRow[] = [];
  #lastWriteSeconds = 0;

  private constructor(
    private readonly rows: BackgroundFile,
    private readonly samples: BackgroundFile,
    private readonly charsPerStep: number,
    /** Seconds of the sessions before this one. */
    private readonly earlierSeconds: number,
    kept: MutableRow | undefined,
    /** The kept rows' last RECENT_STEPS losses, oldest first: the recent loss goes on from them. */
    readonly recentLosses: readonly number[],
    /** What a resume left out of the files it continues (a torn last line), for the loop to show. */
    readonly warnings: readonly string[],
  ) {
    if (kept !== undefined) this.#pending.push(kept);
  }

  static async open({ out, from = out, step, charsPerStep, seqLength }: HistoryStart): Promise<HistoryLog> {
    const history = step > 0 ? await readHistory(from, { seqLength }) : undefined;
    const rows = history?.rows ?? [];
    const keptRows = countWhile(rows, (row) => row.step <= step);
    let keptText = '';
    for (let i = 0; i < keptRows - 1; i++) keptText += formatHistoryRow(rows[i]);
    // The last kept row stays pending: an evaluation at the resumed step may still fill its val_loss.
    const last = keptRows > 0 ? { ...rows[keptRows - 1] } : undefined;

    const samples = step > 0 ? await readSamples(from) : undefined;
    // A sample "at step s" is drawn after the checkpoint at step s: the resumed run draws it again.
    const keptSamples = samples === undefined ? 0 : countWhile(samples.samples, (sample) => sample.step < step);
    const samplesText = samples !== undefined && keptSamples > 0 ? samples.text.slice(0, samples.ends[keptSamples - 1]) : '';

    return new HistoryLog(
      new BackgroundFile(join(out, HISTORY_FILE), `${HISTORY_HEADER}\n${keptText}`),
      new BackgroundFile(join(out, SAMPLES_FILE), samplesText),
      charsPerStep,
      last?.wallSeconds ?? 0,
      last,
      rows.slice(Math.max(0, keptRows - RECENT_STEPS), keptRows).map((row) => row.loss),
      [...(history?.warnings ?? []), ...(samples?.warnings ?? [])],
    );
  }

  /** The step just done. O(1), no I/O on most steps. */
  record({ step, epoch, loss, smoothLoss, seconds, charsPerSec }: StepRecord): void {
    if (this.#pending.length >= WRITE_EVERY_ROWS || seconds - this.#lastWriteSeconds >= WRITE_EVERY_SECONDS) {
      this.rows.check();
      this.#writePending();
      this.#lastWriteSeconds = seconds;
    }
    this.#pending.push({
      step, epoch, charsSeen: step * this.charsPerStep, loss, smoothLoss, valLoss: undefined, charsPerSec,
      wallSeconds: this.earlierSeconds + seconds,
    });
  }

  /** The validation loss measured after `step` steps goes into that step's row. */
  validation(step: number, loss: number): void {
    const row = this.#pending.at(-1);
    if (row?.step === step) row.valLoss = loss;
  }

  /** A sample printed after `step` steps; written at once (samples are rare). */
  sample(step: number, epoch: number, text: string): void {
    this.samples.write(formatSample({ step, epoch, text }));
  }

  /** Writes every pending row and sample and waits for the writes. */
  async flush(): Promise<void> {
    this.#writePending();
    this.rows.touch();
    this.samples.touch();
    await Promise.all([this.rows.settled(), this.samples.settled()]);
  }

  #writePending(): void {
    const rows = this.#pending;
    if (rows.length === 0) return;
    this.#pending = [];
    let text = '';
    for (const row of rows) text += formatHistoryRow(row);
    this.rows.write(text);
  }
}

function countWhile<T>(items: readonly T[], keep: (item: T) => boolean): number {
  let n = 0;
  while (n < items.length && keep(items[n])) n++;
  return n;
}
