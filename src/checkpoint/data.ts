import type { OptimizerName } from '../model/optimizers.js';
import type { Dtype } from '../model/precision.js';
import type { LrSchedule } from '../train/schedule.js';

/** A loss measured at a step; the history of these redraws the learning curve. */
export interface LossPoint {
  readonly step: number;
  readonly loss: number;
}

/** Every option of the run, as given to 'char-rnn train'. */
export interface CheckpointOptions {
  readonly seqLength: number; // T
  readonly streams: number; // B
  readonly optimizer: OptimizerName; // files from before the optimizers read as adagrad
  readonly eta: number;
  readonly eps: number;
  readonly clip: number;
  readonly clipNorm: number; // 0: none (and in files from before it)
  readonly decay: number; // rmsprop's; 0.95 in files from before the optimizers
  readonly beta1: number; // adam's; 0.9 in files from before the optimizers
  readonly beta2: number; // adam's; 0.999 in files from before the optimizers
  readonly lrSchedule: LrSchedule; // files from before the schedules: constant
  readonly lrDecay: number;
  readonly lrDecayEvery: number;
  readonly lrMin: number;
  readonly lrHorizon: number; // the cosine's length in steps, fixed when the run started
  readonly warmupSteps: number;
  readonly seed: number;
  readonly valFrac: number;
  readonly dropout: number; // 0 for none; files from before the cells read as 0
  readonly dtype: Dtype; // files from before it read as float64
  readonly epochs: number; // Infinity: the time budget alone bounds the run (0 in the file)
  readonly steps: number | undefined; // undefined: the run is bounded by epochs
  readonly minutes: number | undefined; // the time budget of the whole run, all sessions together; undefined: none
  readonly patience: number; // 0: never stop early (and in files from before it)
  readonly evalEvery: number;
  readonly sampleEvery: number;
  readonly sampleLength: number;
  readonly sampleTemperature: number; // 1 in files from before it
  readonly checkpointEvery: number;
  readonly threads: number; // informational: results do not depend on it
}

/** The text a model was trained on, identified without storing it. */
export interface CorpusFingerprint {
  readonly source: string;
  /** The paths the text was joined from, in order, when there were several (absent otherwise). */
  readonly sources?: readonly string[];
  readonly length: number; // symbols
  readonly sha256: Uint8Array; // 32 bytes, see corpusFingerprint()
}

/** Where training stands; tensors follow the cell's parameter table (src/model/cells/). */
export interface CheckpointState {
  readonly step: number;
  readonly epoch: number; // 1-based
  readonly position: number; // offset of the next sequence within every stream
  readonly streamLength: number; // L
  readonly charsSeen: number;
  readonly seconds: number; // wall-clock seconds trained, all sessions together, as the time budget counts them
  readonly params: Float64Array; // (P)
  readonly optimizerState: Float64Array; // (buffers, P): AdaGrad's or RMSProp's (1, P), Adam's m then v (2, P)
  readonly hidden: Float64Array; // (B, S): each stream's state, the cell's state table per stream
  readonly prngState: Uint32Array; // (4)
  readonly smoothLoss: number; // nats per sequence of T characters; NaN before the first step
  readonly bestLoss: number; // Infinity before the first
  readonly bestStep: number;
  readonly bestMetric: 'val' | 'smooth';
  readonly valLoss: number | undefined; // nats per character
  readonly smoothHistory: readonly LossPoint[];
  readonly valHistory: readonly LossPoint[];
}

/** The model: a registered cell's name, L layers of H units, K symbols. */
export interface CheckpointModel {
  readonly cell: string;
  readonly L: number;
  readonly H: number;
  readonly K: number;
  readonly vocab: Uint32Array; // (K) code points, each once: a corpus's ascending, then any that --extend-vocab appended
}

/** Everything a checkpoint file holds, in the form the trainer uses (proto/checkpoint.proto on disk). */
export interface CheckpointData {
  readonly packageVersion: string;
  readonly createdAt: string; // ISO 8601, UTC
  readonly model: CheckpointModel;
  readonly options: CheckpointOptions;
  readonly corpus: CorpusFingerprint;
  readonly state: CheckpointState;
}

/**
 * What sampling and scoring read of a checkpoint: the model, its weights, the carried state (a
 * no-prime sample goes on from stream 0's) and the precision. A whole checkpoint is one; so is the
 * smaller model a static web export ships without the optimizer's state.
 */
export interface RunnableModel {
  readonly model: CheckpointModel;
  readonly options: Pick<CheckpointOptions, 'dtype'>;
  readonly state: Pick<CheckpointState, 'params' | 'hidden'>;
}
