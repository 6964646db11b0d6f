import protobuf from 'protobufjs';
import { CHECKPOINT_PROTO } from './checkpoint-proto.js';
import type { CheckpointOptions } from './data.js';

/** What every checkpoint's magic field holds. */
export const CHECKPOINT_MAGIC = 'char-rnn checkpoint';

/**
 * The format this code writes, and the newest it reads. 2 added the whole-file SHA-256
 * (Checkpoint.sha256), which a version-2 file must end with; version-1 files have none.
 */
export const CHECKPOINT_FORMAT_VERSION = 2;

/**
 * The Checkpoint message as plain data, field names camel-cased as protobufjs loads them. Every
 * field is optional because a decoded file may lack any of them; uint64 fields are numbers
 * (decoded with longs: Number; the codec keeps them below 2^53).
 */
export interface WireCheckpoint {
  magic?: string;
  formatVersion?: number;
  packageVersion?: string;
  createdAt?: string;
  model?: WireModel | null;
  options?: WireOptions | null;
  corpus?: WireCorpus | null;
  progress?: WireProgress | null;
  tensors?: WireTensors | null;
  history?: WireHistory | null;
  sha256?: Uint8Array; // of every byte before it; see checksum.ts
}

export interface WireModel {
  cell?: string;
  hidden?: number;
  vocabSize?: number;
  vocab?: number[];
  layers?: number;
  params?: WireTensorShape[];
  state?: WireTensorShape[];
}

export interface WireTensorShape {
  name?: string;
  dims?: number[];
}

/** TrainOptions: every saved option under its field name, the names (optimizer, dtype, schedule) as any string. */
export type WireOptions = { -readonly [F in keyof CheckpointOptions]?: CheckpointOptions[F] extends string ? string : number };

export interface WireCorpus {
  source?: string;
  sources?: string[];
  length?: number;
  sha256?: Uint8Array;
}

export interface WireProgress {
  step?: number;
  epoch?: number;
  position?: number;
  streamLength?: number;
  charsSeen?: number;
  prngState?: number[];
  smoothLoss?: number;
  bestLoss?: number;
  bestStep?: number;
  bestMetric?: string;
  valLoss?: number;
  seconds?: number;
}

export interface WireTensors {
  params?: Uint8Array;
  optimizerState?: Uint8Array;
  hidden?: Uint8Array;
  sha256?: Uint8Array;
}

export interface WireLossPoint {
  step?: number;
  loss?: number;
}

export interface WireHistory {
  smooth?: WireLossPoint[];
  val?: WireLossPoint[];
}

let checkpointType: protobuf.Type | undefined;

/** The charrnn.Checkpoint type, parsed on first use from the .proto's text, which the build copies into a module. */
export function checkpointMessageType(): protobuf.Type {
  checkpointType ??= protobuf.parse(CHECKPOINT_PROTO, { keepCase: false }).root.lookupType('charrnn.Checkpoint');
  return checkpointType;
}
