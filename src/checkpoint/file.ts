import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { replaceFileAtomically } from '../atomic-file.js';
import { errorCode, fileError } from '../file-errors.js';
import { UserError } from '../errors.js';
import type { CheckpointData } from './data.js';
import { decodeCheckpoint } from './decode.js';
import { encodeCheckpoint } from './encode.js';
import { nodeSha256 } from './node-sha256.js';
import { BYTES_NAME } from './browser.js';

/** proto/checkpoint.proto at the package root; this module compiles to dist/src/checkpoint/. */
export const PROTO_PATH = fileURLToPath(new URL('../../../proto/checkpoint.proto', import.meta.url));

/** Writes the checkpoint atomically (atomic-file.ts): a reader sees the old file or the new one, never a part. */
export async function saveCheckpoint(path: string, data: CheckpointData): Promise<void> {
  const bytes = encodeCheckpoint(data, nodeSha256);
  try {
    await replaceFileAtomically(path, bytes);
  } catch (error) {
    throw saveError(error, path);
  }
}

/**
 * The checkpoint in a file written by training, or in its bytes (read by any means: a fetch, a
 * database); a missing, damaged or foreign file is a UserError saying what to do.
 */
export async function loadCheckpoint(source: string | Uint8Array): Promise<CheckpointData> {
  if (source instanceof Uint8Array) return decodeCheckpoint(source, BYTES_NAME, nodeSha256);
  if (typeof source !== 'string') throw new UserError(`loadCheckpoint takes a path or a Uint8Array, got ${Object.prototype.toString.call(source)} (wrap an ArrayBuffer as new Uint8Array(buffer))`);
  return (await loadCheckpointFile(source)).data;
}

/** The checkpoint, the size of its file (for 'char-rnn inspect') and its bytes (for 'char-rnn export', which hashes them). */
export async function loadCheckpointFile(path: string): Promise<{ data: CheckpointData; fileBytes: number; bytes: Uint8Array }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw loadError(error, path);
  }
  return { data: decodeCheckpoint(bytes, path, nodeSha256), fileBytes: bytes.length, bytes };
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
