export type { CheckpointData, CheckpointOptions, CheckpointState, CorpusFingerprint, LossPoint } from './data.js';
export { decodeCheckpoint } from './decode.js';
export { encodeCheckpoint } from './encode.js';
export { checkpointFromBytes } from './browser.js';
export { loadCheckpoint, loadCheckpointFile, PROTO_PATH, saveCheckpoint } from './file.js';
export { corpusFingerprint, sameCorpus } from './fingerprint.js';
export { checkpointJson, describeCheckpoint, plannedLength } from './inspect.js';
export { nominalOptions } from './nominal.js';
export { CHECKPOINT_FORMAT_VERSION } from './schema.js';
