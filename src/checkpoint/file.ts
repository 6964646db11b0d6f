import { readFile } from 'node:fs/promises';
import { replaceFileAtomically } from '../atomic-file.js';
import { errorCode, fileError } from '../file-errors.js';
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

function saveError(error: unknown, path: string): unknown {
  return fileError(error, `cannot write checkpoint ${path}`, 'free some space, fix the folder\'s permissions, or save elsewhere');
}

function loadError(error: unknown, path: string): unknown {
  if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') {
    return new UserError(`checkpoint not found: ${path} (pass a file written by 'char-rnn train')`, { cause: error });
  }
  if (errorCode(error) === 'EISDIR') return new UserError(`${path} is a folder, not a checkpoint file (pass a file written by 'char-rnn train')`, { cause: error });
  return fileError(error, `cannot read checkpoint ${path}`, 'check its permissions, or pass another file');
}
