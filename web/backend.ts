/**
 * What the views ask of a model: the HTTP API of 'char-rnn serve' (server-backend.ts) or the
 * model running in the page (local-backend.ts). The shapes are the API's (docs/web.md).
 */
export type RunState = 'training' | 'stopped' | 'finished';

export interface RunSummary {
  readonly name: string;
  readonly cell: string;
  readonly layers: number;
  readonly hidden: number;
  readonly dtype: string;
  readonly step: number;
  readonly epoch: number;
  readonly bestValLoss: number | null;
  readonly state: RunState;
  readonly updatedAt: string;
  readonly error?: string;
}

/** A history.csv row as JSON (src/history/history-row.ts); a row without validation has no valLoss, or null. */
export interface HistoryRow {
  readonly step: number;
  readonly epoch: number;
  readonly charsSeen: number;
  readonly loss: number;
  readonly smoothLoss: number;
  readonly valLoss?: number | null;
  readonly charsPerSec: number;
  readonly wallSeconds: number;
}

export interface SampleRecord {
  readonly step: number;
  readonly epoch: number;
  readonly text: string;
}

export interface RunDetail {
  readonly run: RunSummary;
  readonly history: readonly HistoryRow[];
  readonly samples: readonly SampleRecord[];
  readonly charsPerSec: number | null;
  readonly etaSeconds: number | null;
}

export interface GenerateRequest {
  readonly prime?: string;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly length: number;
  readonly seed?: number;
}

export interface Score {
  readonly characters: number;
  readonly predictions: number;
  readonly natsPerChar: number;
  readonly bitsPerChar: number;
  readonly positions: readonly { readonly char: string; readonly bits: number | null; readonly top: readonly { readonly char: string; readonly p: number }[] }[];
}

/** A model the playground and the shading run: a run of the server, or the one model of a static export. */
export interface ModelBackend {
  /** Streams the text (the prime first) to onText as it is made; resolves with the count of characters generated. */
  generate(request: GenerateRequest, onText: (text: string) => void, signal: AbortSignal): Promise<number>;
  score(text: string): Promise<Score>;
}

/** The served page's runs; a static export has none. */
export interface RunsBackend {
  runs(): Promise<RunSummary[]>;
  run(name: string, since: number): Promise<RunDetail>;
  model(name: string): ModelBackend;
}

/** An error the API (or the local model) gave, with the form field it names. */
export class BackendError extends Error {
  constructor(message: string, readonly field?: string, readonly status?: number) {
    super(message);
  }
}

/** The page's most texts and lengths, as the API's. */
export const LIMITS = { prime: 10_000, scoreText: 10_000, length: 100_000 } as const;
