import type { CheckpointData } from '../checkpoint/index.js';
import { PositionScorer, type PositionScores } from '../score-positions.js';
import { describeUnknown, encodeKnown } from '../symbols.js';
import { BadRequest } from './requests.js';

/** Characters scored between turns of the event loop: about 30 ms of the default GRU. */
const SLICE = 1000;

/**
 * scorePositions (the text's score as `char-rnn eval` computes it, and each position's surprise
 * and five likeliest next characters) in slices, giving the event loop a turn between them;
 * stops with the signal's reason once it is aborted.
 */
export async function scoreWithDetail(checkpoint: CheckpointData, text: string, signal?: AbortSignal): Promise<PositionScores> {
  const { ids, unknown } = encodeKnown(text, checkpoint.model.vocab);
  if (unknown.length > 0) throw new BadRequest(`the text has ${describeUnknown(unknown)} (use only characters the model was trained on)`, 'text');
  const scorer = new PositionScorer(checkpoint);
  for (let start = 0; start < ids.length; start += SLICE) {
    scorer.add(ids.subarray(start, Math.min(ids.length, start + SLICE)));
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  }
  return scorer.result();
}
