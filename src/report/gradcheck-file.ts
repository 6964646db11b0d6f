import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFileAtomically } from '../atomic-file.js';
import { UserError } from '../errors.js';
import { errorCode, fileError } from '../file-errors.js';
import type { ParamCheck } from '../gradcheck.js';

export const GRADCHECK_FILE = 'gradcheck.json';

/** A gradient check kept beside a run, so that later reports show it too. */
export interface SavedGradcheck {
  readonly cell?: string; // absent in files from before the gated cells: rnn
  readonly L?: number;
  readonly H: number;
  readonly K: number;
  readonly T: number;
  readonly seed: number;
  readonly checks: readonly ParamCheck[];
}

export async function saveGradcheck(folder: string, saved: SavedGradcheck): Promise<void> {
  // JSON has no NaN: a missing relative error is written as null.
  const path = join(folder, GRADCHECK_FILE);
  try {
    await replaceFileAtomically(path, `${JSON.stringify(saved, (_, v: unknown) => (Number.isNaN(v) ? null : v), 2)}\n`);
  } catch (error) {
    throw fileError(error, `cannot write ${path}`, 'free some space or fix the folder\'s permissions');
  }
}

/** The saved check, or undefined when the run has none. */
export async function readGradcheck(folder: string): Promise<SavedGradcheck | undefined> {
  const path = join(folder, GRADCHECK_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw fileError(error, `cannot read ${path}`, 'delete it, or pass --gradcheck to run the check again');
  }
  const damaged = (): UserError => new UserError(`${path} is damaged (delete it, or pass --gradcheck to run the check again)`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    if (error instanceof SyntaxError) throw damaged();
    throw error;
  }
  const saved = value as Partial<SavedGradcheck> | null;
  const dims = [saved?.H, saved?.K, saved?.T, saved?.seed];
  if (!dims.every(Number.isSafeInteger) || !Array.isArray(saved?.checks)) throw damaged();
  const checks = saved.checks.map((c: Partial<Record<keyof ParamCheck, unknown>>) => {
    if (typeof c?.name !== 'string' || typeof c.passed !== 'boolean' || typeof c.maxAbsError !== 'number') throw damaged();
    return { ...c, maxRelError: typeof c.maxRelError === 'number' ? c.maxRelError : Number.NaN } as ParamCheck;
  });
  return { ...(saved as SavedGradcheck), checks };
}
