/**
 * The checkpoint decoder without Node: bytes in (a fetch()'s arrayBuffer, a file input's), the
 * checked checkpoint out. Nothing this module reaches imports a Node built-in; a test walks its
 * compiled import graph to keep it so.
 */
import type { CheckpointData } from './data.js';
import { decodeCheckpoint } from './decode.js';

export type { CheckpointData, CheckpointModel, CheckpointOptions, CheckpointState, CorpusFingerprint, LossPoint } from './data.js';

/** What errors call a checkpoint given as bytes. */
export const BYTES_NAME = 'the checkpoint given as bytes';

/** The checkpoint these bytes hold; a damaged or foreign file is a UserError saying what is wrong, naming it `name`. */
export function checkpointFromBytes(bytes: Uint8Array, name: string = BYTES_NAME): CheckpointData {
  return decodeCheckpoint(bytes, name);
}
