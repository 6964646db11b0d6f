import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import type { CheckpointData } from './data.js';
import { decodeCheckpoint } from './decode.js';
import { encodeCheckpoint } from './encode.js';

/**
 * Writes the checkpoint atomically: the bytes go to a temporary file beside the target, are
 * synced, and are renamed over it, then the folder is synced so the rename survives a crash.
 * A reader sees the old file or the new one, never a part; on failure the old file is untouched
 * and the temporary file removed. Creates the folder if needed.
 */
export async function saveCheckpoint(path: string, data: CheckpointData): Promise<void> {
  const bytes = encodeCheckpoint(data);
  const folder = dirname(path);
  const temp = tempPathFor(path);
  let created = false;
  try {
    await mkdir(folder, { recursive: true });
    const handle = await open(temp, 'wx');
    created = true;
    unfinished.add(temp);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    if (created) await unlink(temp).catch((cleanupError: unknown) => rethrowUnlessMissing(cleanupError, error, temp));
    throw saveError(error, path);
  } finally {
    unfinished.delete(temp);
  }
  await syncFolder(folder);
}

/** Temporary files of saves under way, so that a process leaving at once can remove them. */
const unfinished = new Set<string>();

/**
 * Removes the temporary files of saves still under way, for a process about to exit at once
 * (a second Ctrl-C): their targets keep their previous content, and no debris is left beside them.
 */
export function removeUnfinishedSaves(): void {
  for (const temp of unfinished) {
    try {
      unlinkSync(temp);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
  unfinished.clear();
}

export async function loadCheckpoint(path: string): Promise<CheckpointData> {
  return (await loadCheckpointFile(path)).data;
}

/** The checkpoint and the size of its file, for 'char-rnn inspect'. */
export async function loadCheckpointFile(path: string): Promise<{ data: CheckpointData; fileBytes: number }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw loadError(error, path);
  }
  return { data: decodeCheckpoint(bytes, path), fileBytes: bytes.length };
}

/** `.NAME.PID.RANDOM.tmp` beside the target: same file system, so the rename is atomic. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

async function syncFolder(folder: string): Promise<void> {
  if (process.platform === 'win32') return; // folders cannot be opened for syncing there
  const handle = await open(folder, 'r');
  try {
    await handle.sync().catch(ignoreUnsupportedSync);
  } finally {
    await handle.close();
  }
}

/** Some file systems cannot sync a folder (EINVAL); the rename is done, so the save stands. */
function ignoreUnsupportedSync(error: unknown): void {
  const code = errorCode(error);
  if (code !== 'EINVAL' && code !== 'ENOTSUP') throw error;
}

/** A temporary file already gone needs no removal; one that cannot be removed is reported with the first error. */
function rethrowUnlessMissing(cleanupError: unknown, error: unknown, temp: string): void {
  if (errorCode(cleanupError) === 'ENOENT') return;
  throw new AggregateError([error, cleanupError], `saving a checkpoint failed, and its temporary file ${temp} could not be removed`);
}

/** File-system errors the user can fix become UserErrors; anything else (a bug) passes through. */
function saveError(error: unknown, path: string): unknown {
  const code = errorCode(error);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UserError(`cannot write checkpoint ${path}: ${code} (check the folder's permissions, or save elsewhere)`, { cause: error });
    case 'ENOSPC':
    case 'EDQUOT':
      return new UserError(`cannot write checkpoint ${path}: ${code} (free some disk space, or save elsewhere)`, { cause: error });
    case 'EISDIR':
      return new UserError(`cannot write checkpoint ${path}: it is a folder (give a file path)`, { cause: error });
    case 'ENOTDIR':
    case 'EEXIST':
      return new UserError(`cannot write checkpoint ${path}: ${code} (part of the path is a file, not a folder; save elsewhere)`, { cause: error });
    default:
      return error;
  }
}

function loadError(error: unknown, path: string): unknown {
  const code = errorCode(error);
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new UserError(`checkpoint not found: ${path} (pass a file written by 'char-rnn train')`, { cause: error });
    case 'EISDIR':
      return new UserError(`${path} is a folder, not a checkpoint file (pass a file written by 'char-rnn train')`, { cause: error });
    case 'EACCES':
    case 'EPERM':
    case 'EIO':
    case 'ELOOP':
    case 'ENAMETOOLONG':
      return new UserError(`cannot read checkpoint ${path}: ${code} (check its permissions, or pass another file)`, { cause: error });
    default:
      return error;
  }
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
