import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from './errors.js';
import { errorCode, fileError } from './file-errors.js';
import { BEST_CHECKPOINT, LAST_CHECKPOINT, RUNS_FOLDER } from './run-folder.js';

// Finding runs to read: the newest one, and the checkpoint a path names.

/**
 * The folder of the run that trained most recently under `parent` (a numbered run folder, or
 * `parent` itself for runs from before numbered folders): the one whose checkpoint was written last.
 */
export function newestRun(parent: string = RUNS_FOLDER): string | undefined {
  let newest: { path: string; time: number } | undefined;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw fileError(error, `cannot list ${parent}`, 'check its permissions');
  }
  for (const folder of [parent, ...names.map((name) => join(parent, name))]) {
    for (const file of [LAST_CHECKPOINT, BEST_CHECKPOINT]) {
      const time = modifiedTime(join(folder, file));
      if (time !== undefined && (newest === undefined || time > newest.time)) newest = { path: folder, time };
    }
  }
  return newest?.path;
}

/** The newest run's folder, or a UserError saying how to make one. */
export function requireNewestRun(parent: string = RUNS_FOLDER): string {
  const folder = newestRun(parent);
  if (folder === undefined) throw new UserError(`no training run found in ${parent}/ (train one with 'npx parallel-char-rnn train', or name a checkpoint file)`);
  return folder;
}

/** The checkpoint a path names: a file as it is, a run folder's `preferred` checkpoint (or its other one). */
export function checkpointIn(path: string, preferred: typeof LAST_CHECKPOINT | typeof BEST_CHECKPOINT): string {
  if (!isFolder(path)) return path;
  const other = preferred === LAST_CHECKPOINT ? BEST_CHECKPOINT : LAST_CHECKPOINT;
  for (const name of [preferred, other]) if (existsSync(join(path, name))) return join(path, name);
  throw new UserError(`${path} holds no checkpoint (${preferred} or ${other}): give a run folder or a checkpoint file written by 'char-rnn train'`);
}
/** The run folder a path names: the folder itself, or the folder a checkpoint file lies in. */
export function runFolderOf(path: string): string {
  return isFolder(path) ? path : dirname(path);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // not there, or not readable: the loader names the problem
  }
}

function modifiedTime(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined; // a folder without this checkpoint
  }
}
