import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { makeFolder, removeStaleTemporaryFiles } from './atomic-file.js';
import { UserError } from './errors.js';
import { errorCode, fileError } from './file-errors.js';
import { takeLock } from './folder-lock.js';

/** Where runs go unless --out names a folder: each new run in a numbered folder of its own. */
export const RUNS_FOLDER = 'checkpoints';
const RUN_PREFIX = 'run-';
export const LAST_CHECKPOINT = 'last.ckpt';
export const BEST_CHECKPOINT = 'best.ckpt';
/** Everything a run writes into its folder; a new run never overwrites these without --force. */
export const RUN_FILES = [LAST_CHECKPOINT, BEST_CHECKPOINT, 'history.csv', 'samples.jsonl', 'report.html', 'loss.svg', 'loss.png', 'gradcheck.json'] as const;

const OUT_HINT = 'pass --out with a folder you can write to';
const CHECKPOINTS: readonly string[] = [LAST_CHECKPOINT, BEST_CHECKPOINT];

/** Where a new run keeps the files of the run it replaces until it has saved a checkpoint of its own. */
const REPLACED = '.replaced-run';
/** The same while the files are being moved there: a folder of this name is a move that did not finish. */
const REPLACING = '.replacing-run';

/** A run folder this process trains in, locked against other trainers until release(). */
export interface RunFolder {
  readonly path: string;
  /** Temporary files of saves that a killed trainer left behind, removed when the folder was claimed. */
  readonly removedDebris: readonly string[];
  /** What the claim found and did about an earlier run, in a line each for the user. */
  readonly notes: readonly string[];
  /** A new run is checked and about to write: the files of the run it replaces (--force, or an unfinished start) are moved aside. */
  replaceEarlier(): void;
  /** The new run has saved a checkpoint: the files of the run it replaced are deleted. */
  settle(): void;
  /**
   * Removes the lock. A new run that saved no checkpoint leaves nothing: its files are removed and
   * those of the run it replaced put back; the folder goes too when this process created it.
   */
  release(): void;
}

/**
 * Creates the next numbered run folder under `parent` (run-1, run-2, ...). mkdir either creates
 * a folder or fails with EEXIST, so two trainers starting at once never get the same one.
 */
export function newRunFolder(parent: string = RUNS_FOLDER): { path: string; created: string[] } {
  const created = prepareFolder(parent);
  let next = 1 + Math.max(0, ...runNumbers(parent));
  for (let retries = 0; ; ) {
    const path = join(parent, `${RUN_PREFIX}${next}`);
    try {
      mkdirSync(path);
      return { path, created: [...created, path] };
    } catch (error) {
      const code = errorCode(error);
      // ENOENT: a trainer that failed meanwhile removed the parent it had created, empty then.
      if (code === 'ENOENT' && retries++ < 3) created.push(...prepareFolder(parent));
      else if (code === 'EEXIST') next++;
      else throw fileError(error, `cannot create the run folder ${path}`, OUT_HINT);
    }
  }
}

/**
 * Claims `path` for a trainer: creates it if needed (`created`: the folders a caller made for it),
 * locks it, removes the debris of killed trainers, and finishes or undoes a replacement that a
 * killed trainer left. For a new run it refuses a folder that holds another run's checkpoints
 * unless `force`; the files of that run, or of an unfinished start (files but no checkpoint), are
 * moved aside only by replaceEarlier(), once the new run is checked, and deleted by settle() once
 * it has saved a checkpoint. Every refusal is a UserError naming what to do.
 */
export function claimRunFolder(path: string, { newRun, force, created }: { newRun: boolean; force: boolean; created?: readonly string[] }): RunFolder {
  const createdHere = created ?? prepareFolder(path);
  /** A run that stopped before writing anything (a missing corpus) leaves no empty folders behind. */
  const removeIfUnused = (): void => {
    for (const folder of [...createdHere].reverse()) removeIfEmpty(folder);
  };
  const lock = takeLock(path);
  try {
    const notes = finishReplacement(path);
    const earlier = newRun ? runFiles(path) : [];
    if (earlier.some((name) => CHECKPOINTS.includes(name)) && !force) {
      const resume = earlier.includes(LAST_CHECKPOINT) ? `continue it with --resume ${join(path, LAST_CHECKPOINT)}, ` : '';
      throw new UserError(`${path} holds another run (${earlier.join(', ')}): ${resume}leave out --out to start a new numbered run, or pass --force to replace it`);
    }
    if (earlier.length > 0 && !earlier.some((name) => CHECKPOINTS.includes(name))) {
      notes.push(`${path} holds the files of a start that saved no checkpoint (${earlier.join(', ')}): this run takes its place`);
    }
    const removedDebris = removeStaleTemporaryFiles(path);
    let phase: 'claimed' | 'writing' | 'settled' = 'claimed';
    return {
      path,
      removedDebris,
      notes,
      replaceEarlier: () => {
        if (!newRun || phase !== 'claimed') return;
        moveAside(path, earlier);
        phase = 'writing';
      },
      settle: () => {
        if (phase !== 'writing') return;
        phase = 'settled';
        removeAside(path);
      },
      release: () => {
        try {
          if (phase === 'writing') putBack(path);
        } finally {
          lock.release();
          removeIfUnused();
        }
      },
    };
  } catch (error) {
    lock.release();
    removeIfUnused();
    throw fileError(error, `cannot prepare the run folder ${path}`, OUT_HINT);
  }
}

/**
 * Finishes or undoes what a trainer killed while replacing the run in a folder left (see
 * claimRunFolder), so that a resume finds that folder's own checkpoints. Returns what it did, a line each.
 */
export function recoverRunFolder(folder: string): string[] {
  if (!existsSync(join(folder, REPLACED)) && !existsSync(join(folder, REPLACING))) return [];
  const lock = takeLock(folder);
  try {
    return finishReplacement(folder);
  } catch (error) {
    throw fileError(error, `cannot prepare the run folder ${folder}`, OUT_HINT);
  } finally {
    lock.release();
  }
}

/** The files of a run in `folder`, in RUN_FILES's order. */
function runFiles(folder: string): string[] {
  return RUN_FILES.filter((name) => existsSync(join(folder, name)));
}

/**
 * Moves `names` into the folder's REPLACED folder: first into REPLACING, renamed once all are
 * there, so that a trainer killed in the middle leaves a move that finishReplacement() undoes.
 */
function moveAside(folder: string, names: readonly string[]): void {
  if (names.length === 0) return;
  const moving = join(folder, REPLACING);
  try {
    mkdirSync(moving);
    for (const name of names) renameSync(join(folder, name), join(moving, name));
    renameSync(moving, join(folder, REPLACED));
  } catch (error) {
    throw fileError(error, `cannot move the earlier run in ${folder} aside`, OUT_HINT);
  }
}

function removeAside(folder: string): void {
  try {
    rmSync(join(folder, REPLACED), { recursive: true, force: true });
  } catch (error) {
    throw fileError(error, `cannot delete the run this one replaced, in ${join(folder, REPLACED)}`, 'delete that folder yourself');
  }
}

/** Undoes a replacement: the new run's files go, and those moved aside (if any) come back. */
function putBack(folder: string): void {
  try {
    for (const name of runFiles(folder)) unlinkSync(join(folder, name));
    const aside = join(folder, REPLACED);
    if (!existsSync(aside)) return;
    for (const name of readdirSync(aside)) renameSync(join(aside, name), join(folder, name));
    rmdirSync(aside);
  } catch (error) {
    throw fileError(error, `cannot put back the earlier run in ${folder}`, `move the files of ${join(folder, REPLACED)} back yourself`);
  }
}

/**
 * What a trainer killed while replacing a run left: a move aside that did not finish is undone;
 * a finished one is settled if the new run saved a checkpoint, and undone if not.
 */
function finishReplacement(folder: string): string[] {
  const moving = join(folder, REPLACING);
  if (existsSync(moving)) {
    for (const name of readdirSync(moving)) renameSync(join(moving, name), join(folder, name));
    rmdirSync(moving);
    return [`put back the run in ${folder} that a killed trainer had begun to move aside`];
  }
  if (!existsSync(join(folder, REPLACED))) return [];
  if (runFiles(folder).some((name) => CHECKPOINTS.includes(name))) {
    removeAside(folder);
    return [`deleted the run in ${folder} that a killed trainer had replaced after saving its first checkpoint`];
  }
  putBack(folder);
  return [`put back the run in ${folder} that a trainer killed before its first checkpoint was replacing`];
}

/** rmdir refuses a folder that is not empty, so another trainer's new run in it is never lost. */
function removeIfEmpty(folder: string): void {
  try {
    rmdirSync(folder);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw error;
  }
}

function runNumbers(parent: string): number[] {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch (error) {
    // Gone since prepareFolder: a trainer that failed meanwhile removed the parent it had
    // created, empty then; newRunFolder's mkdir creates it again.
    if (errorCode(error) === 'ENOENT') return [];
    throw fileError(error, `cannot read the run folder ${parent}`, OUT_HINT);
  }
  return names
    .filter((name) => name.startsWith(RUN_PREFIX) && /^\d+$/.test(name.slice(RUN_PREFIX.length)))
    .map((name) => Number(name.slice(RUN_PREFIX.length)));
}

/** Creates the folder (a bounded walk: see makeFolder), or says in one line why it cannot be used. */
function prepareFolder(path: string): string[] {
  try {
    return makeFolder(path);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') throw new UserError(`${path} is a file, not a folder (${OUT_HINT})`, { cause: error });
    throw fileError(error, `cannot create the run folder ${path}`, OUT_HINT);
  }
}
