// The shapes of `char-rnn serve`'s HTTP API (docs/web.md), which the server sends and the page
// reads: one definition that both import. No imports, so that the page's build takes it whole.

export type RunState = 'training' | 'stopped' | 'finished';

/**
 * A run as GET /api/runs lists it. What is not known yet (a run that has saved no checkpoint) or
 * could not be read (`error` set) is null.
 */
export interface RunSummary {
  readonly name: string;
  readonly cell: string | null;
  readonly layers: number | null;
  readonly hidden: number | null;
  readonly dtype: string | null;
  readonly step: number | null;
  readonly epoch: number | null;
  readonly bestValLoss: number | null;
  readonly state: RunState;
  readonly updatedAt: string | null;
  readonly error?: string;
}

/** A history.csv row (src/history/history-row.ts) as JSON: valLoss is null at the steps without validation. */
export interface HistoryRowJson {
  readonly step: number;
  readonly epoch: number;
  readonly charsSeen: number;
  readonly loss: number;
  readonly smoothLoss: number;
  readonly valLoss: number | null;
  readonly charsPerSec: number;
  readonly wallSeconds: number;
}

/** A line of samples.jsonl (src/history/samples.ts). */
export interface SampleJson {
  readonly step: number;
  readonly epoch: number;
  readonly text: string;
}

/** GET /api/runs/NAME: the run, its history rows after ?since, its samples, and its pace. */
export interface RunDetail {
  readonly run: RunSummary;
  readonly history: readonly HistoryRowJson[];
  readonly samples: readonly SampleJson[];
  readonly charsPerSec: number | null;
  readonly etaSeconds: number | null;
}
