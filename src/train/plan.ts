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

/**
 * Where a step's sequences start: a step that would read past the end of the streams starts the
 * next epoch at position 0, from zero states. The coordinator and the workers both step through
 * positions with this one rule.
 */
export function wrapPosition(position: number, epoch: number, seqLength: number, streamLength: number): { position: number; epoch: number; wrapped: boolean } {
  if (position + seqLength + 1 > streamLength) return { position: 0, epoch: epoch + 1, wrapped: true };
  return { position, epoch, wrapped: false };
}

/**
 * Where the streams stand after `step` steps, as the loop moves them with wrapPosition: each
 * epoch takes floor((L - 1) / T) steps, and the wrap to the next waits for the step after its last.
 */
export function placeAfter(step: number, seqLength: number, streamLength: number): { position: number; epoch: number } {
  if (step === 0) return { position: 0, epoch: 1 };
  const stepsPerEpoch = Math.floor((streamLength - 1) / seqLength);
  return { position: (((step - 1) % stepsPerEpoch) + 1) * seqLength, epoch: 1 + Math.floor((step - 1) / stepsPerEpoch) };
}
