/**
 * What the views ask of a model: the HTTP API of 'char-rnn serve' (server-backend.ts) or the
 * model running in the page (local-backend.ts). The shapes are the API's (docs/web.md).
 */
import type { RunDetail, RunSummary } from '../src/serve/api-types.js';

export type { HistoryRowJson as HistoryRow, RunDetail, RunState, RunSummary, SampleJson as SampleRecord } from '../src/serve/api-types.js';

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
