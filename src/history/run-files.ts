import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import { parseHistory, type ParsedHistory } from './history-row.js';
import { parseSamples, type ParsedSamples } from './samples.js';

/** The files a run writes beside its checkpoints. */
export const HISTORY_FILE = 'history.csv';
export const SAMPLES_FILE = 'samples.jsonl';

/** The parsed history of the run in `folder`, or undefined when it has none. */
export async function readHistory(folder: string): Promise<(ParsedHistory & { readonly text: string }) | undefined> {
  const path = join(folder, HISTORY_FILE);
  const text = await readOptional(path);
  return text === undefined ? undefined : { ...parseHistory(text, path), text };
}

/** The samples kept by the run in `folder` (none when it has no samples file). */
export async function readSamples(folder: string): Promise<ParsedSamples & { readonly text: string }> {
  const path = join(folder, SAMPLES_FILE);
  const text = (await readOptional(path)) ?? '';
  return { ...parseSamples(text, path), text };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'EISDIR' || code === 'EACCES' || code === 'EPERM' || code === 'ENOTDIR') {
      throw new UserError(`cannot read ${path}: ${code} (it should be a file written by 'char-rnn train')`, { cause: error });
    }
    throw error;
  }
}
