import { readFile } from 'node:fs/promises';
import { errorCode, replaceFileAtomically } from '../atomic-file.js';
import { UserError } from '../errors.js';
import type { CheckpointData } from './data.js';
import { decodeCheckpoint } from './decode.js';
import { encodeCheckpoint } from './encode.js';

/** Writes the checkpoint atomically (atomic-file.ts): a reader sees the old file or the new one, never a part. */
export async function saveCheckpoint(path: string, data: CheckpointData): Promise<void> {
  const bytes = encodeCheckpoint(data);
  try {
    await replaceFileAtomically(path, bytes);
  } catch (error) {
    throw saveError(error, path);
  }
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

/** Some file systems cannot sync a folder (EINVAL); the rename is done, so the save stands. */

/** A temporary file already gone needs no removal; one that cannot be removed is reported with the first error. */

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

