import type { RunnableModel } from './checkpoint/data.js';
import { createStepperGroup } from './model/kernel-stepper.js';
import { scoreText } from './score-text.js';
import { encodeKnown } from './symbols.js';

/** One character of a scored text: how surprising it was, and what the model expected after it. */
export interface PositionScore {
  readonly char: string;
  /** -log2 p(this character | the ones before); null for the first, which is only read. */
  readonly bits: number | null;
  /** The likeliest next characters after this one, most probable first (ties: the lower id). */
  readonly top: readonly { readonly char: string; readonly p: number }[];
}

/** A text's score as a whole (scoreText's, what 'char-rnn eval' prints) and character by character. */
export interface PositionScores {
  readonly characters: number;
  readonly predictions: number;
  readonly natsPerChar: number;
  readonly bitsPerChar: number;
  readonly positions: readonly PositionScore[];
}

/**
 * The surprise of every character of `text` and the `top` likeliest characters after each, from a
 * zero state as scoreText reads it. The mean is scoreText's own (the number eval prints); the
 * positions come from the sampler's stepper, whose probabilities agree with it to rounding.
 * Characters outside the vocabulary and texts under two characters are scoreText's UserErrors.
 */
export function scorePositions(checkpoint: RunnableModel, text: string, top = 5): PositionScores {
  const { natsPerChar, characters, predictions } = scoreText(checkpoint, text);
  const { cell, L, H, K, vocab } = checkpoint.model;
  const { ids } = encodeKnown(text, vocab);
  const group = createStepperGroup(checkpoint.state.params, { cell, L, H, K }, checkpoint.options.dtype, 1);
  const chars = Array.from(vocab, (cp) => String.fromCodePoint(cp));
  const probs = new Float64Array(K);
  const id = new Int32Array(1);
  const positions: PositionScore[] = [];
  let bits: number | null = null;
  for (let i = 0; i < ids.length; i++) {
    id[0] = ids[i];
    group.feed(id);
    softmax(group.scores()[0], probs);
    positions.push({ char: chars[ids[i]], bits, top: likeliest(probs, top).map((k) => ({ char: chars[k], p: probs[k] })) });
    if (i + 1 < ids.length) bits = -Math.log2(probs[ids[i + 1]]);
  }
  return { characters, predictions, natsPerChar, bitsPerChar: natsPerChar / Math.LN2, positions };
}

function softmax(scores: Float64Array, out: Float64Array): void {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  let total = 0;
  for (let k = 0; k < scores.length; k++) total += out[k] = Math.exp(scores[k] - max);
  for (let k = 0; k < scores.length; k++) out[k] /= total;
}

/** The ids of the n largest probabilities, largest first, the lower id first among equals. */
function likeliest(probs: Float64Array, n: number): number[] {
  const ids = Array.from(probs.keys());
  ids.sort((a, b) => probs[b] - probs[a] || a - b);
  return ids.slice(0, n);
}
