import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorCode, fileError } from '../file-errors.js';
import { parseHistory, type ParsedHistory } from './history-row.js';
import { parseSamples, type ParsedSamples } from './samples.js';

/** The files a run writes beside its checkpoints. */
export const HISTORY_FILE = 'history.csv';
export const SAMPLES_FILE = 'samples.jsonl';

export interface ReadHistoryOptions {
  /** The run's T (its checkpoint's seqLength): a history file of the first format, with losses per sequence, needs it. */
  readonly seqLength?: number;
}

/**
 * The parsed history of the run in `folder` (losses per character), or undefined when it has
 * none; `warnings` says what was left out (a torn last line), for the caller to show.
 */
export async function readHistory(folder: string, { seqLength }: ReadHistoryOptions = {}): Promise<ParsedHistory | undefined> {
  const path = join(folder, HISTORY_FILE);
  const text = await readOptional(path);
  return text === undefined ? undefined : parseHistory(text, path, seqLength);
}

/** The samples kept by the run in `folder` (none when it has no samples file), with warnings as readHistory's. */
export async function readSamples(folder: string): Promise<ParsedSamples & { readonly text: string }> {
  const path = join(folder, SAMPLES_FILE);
  const text = (await readOptional(path)) ?? '';
  return { ...parseSamples(text, path), text };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileError(error, `cannot read ${path}`, "it should be a file written by 'char-rnn train'");
  }
}
