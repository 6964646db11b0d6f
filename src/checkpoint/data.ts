import type { SavedField, TrainConfig } from '../train-options.js';
import type { Intervals } from '../train/intervals.js';

/** A loss measured at a step; the history of these redraws the learning curve. */
export interface LossPoint {
  readonly step: number;
  readonly loss: number;
}

/**
 * Every option a run saves, as the run resolved it (the intervals as it fixed them): the table's
 * options that the checkpoint keeps in TrainOptions (src/train-options.ts), and the cosine's
 * horizon in steps, fixed when the run started. Epochs Infinity: the time budget alone bounds the run.
 */
export type CheckpointOptions = { readonly [F in SavedField]: (TrainConfig & Intervals)[F] } & { readonly lrHorizon: number };

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
