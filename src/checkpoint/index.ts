export type { CheckpointData, CheckpointOptions, CheckpointState, CorpusFingerprint, LossPoint } from './data.js';
export { decodeCheckpoint } from './decode.js';
export { encodeCheckpoint } from './encode.js';
export { loadCheckpoint, loadCheckpointFile, saveCheckpoint } from './file.js';
export { corpusFingerprint, sameCorpus } from './fingerprint.js';
export { checkpointJson, describeCheckpoint, plannedLength } from './inspect.js';
export { CHECKPOINT_FORMAT_VERSION, PROTO_PATH } from './schema.js';
