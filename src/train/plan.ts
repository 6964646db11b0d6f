import type { TrainConfig } from '../config.js';
import { UserError } from '../errors.js';
import type { EvalSegment } from './messages.js';

/** Held-out text is scored in segments of this many predictions, each from a zero hidden state. */
export const EVAL_SEGMENT_LENGTH = 16384;

/** How the corpus is cut: B training streams of L characters each, then the held-out text. */
export interface StreamPlan {
  readonly trainLength: number;
  readonly streamLength: number; // L: stream s reads ids[s * L, (s + 1) * L)
  readonly stepsPerEpoch: number;
  readonly evalSegments: readonly EvalSegment[];
}

export function planStreams(idCount: number, { streams, seqLength, valFrac }: Pick<TrainConfig, 'streams' | 'seqLength' | 'valFrac'>): StreamPlan {
  const valLength = Math.floor(idCount * valFrac);
  const trainLength = idCount - valLength;
  const streamLength = Math.floor(trainLength / streams);
  if (streamLength < seqLength + 1) {
    throw new UserError(
      `the corpus is too short: ${trainLength} training characters give ${streamLength} per stream, and each of the ${streams} streams needs at least ${seqLength + 1} (use fewer --streams, a shorter --seq-length or a longer text)`,
    );
  }
  const evalSegments: EvalSegment[] = [];
  for (let start = trainLength; start < idCount - 1; start += EVAL_SEGMENT_LENGTH) {
    evalSegments.push({ start, count: Math.min(EVAL_SEGMENT_LENGTH, idCount - 1 - start) });
  }
  return { trainLength, streamLength, stepsPerEpoch: Math.floor((streamLength - 1) / seqLength), evalSegments };
}

/** Where a step reads: the offset of its sequences within every stream, its epoch, and whether it starts that epoch. */
export interface Place {
  readonly position: number;
  readonly epoch: number; // 1-based
  /** The step begins an epoch after the first: every stream starts from a zero state. */
  readonly startsEpoch: boolean;
}

/**
 * Where the run's step `step` (0-based) reads: each epoch takes floor((L - 1) / T) steps at
 * positions 0, T, 2T, ..., since a sequence of T predictions reads T + 1 characters. The
 * coordinator, the workers and the checkpoint check all place steps with this one rule.
 */
export function stepPlace(step: number, seqLength: number, streamLength: number): Place {
  const stepsPerEpoch = Math.floor((streamLength - 1) / seqLength);
  const inEpoch = step % stepsPerEpoch;
  return { position: inEpoch * seqLength, epoch: 1 + Math.floor(step / stepsPerEpoch), startsEpoch: inEpoch === 0 && step > 0 };
}

/** Where the streams stand after `step` steps, as a checkpoint records it: just past the last step's sequences. */
export function placeAfter(step: number, seqLength: number, streamLength: number): { position: number; epoch: number } {
  if (step === 0) return { position: 0, epoch: 1 };
  const last = stepPlace(step - 1, seqLength, streamLength);
  return { position: last.position + seqLength, epoch: last.epoch };
}
