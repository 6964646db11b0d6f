import type { RunnableModel } from './checkpoint/data.js';
import { UserError } from './errors.js';
import { createFastStepper } from './model/kernel-stepper.js';
import type { Stepper } from './model/cells/cell.js';
import { TextScorer, tooFew } from './score-text.js';
import { describeUnknown, encodeKnown } from './symbols.js';

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
 * Characters outside the vocabulary and texts under two characters are UserErrors, as scoreText's.
 */
export function scorePositions(checkpoint: RunnableModel, text: string, top = 5): PositionScores {
  const { ids, unknown } = encodeKnown(text, checkpoint.model.vocab);
  if (unknown.length > 0) throw new UserError(`the text has ${describeUnknown(unknown)} (use only characters the model was trained on)`);
  if (ids.length < 2) throw new UserError(`the text has ${tooFew(ids.length, [])}`);
  const scorer = new PositionScorer(checkpoint, top);
  scorer.add(ids);
  return scorer.result();
}

/**
 * scorePositions a piece at a time, for a caller that gives the event loop a turn between pieces
 * (the server): add() the text's symbol ids in order, then result().
 */
export class PositionScorer {
  private readonly textScorer: TextScorer;
  private readonly stepper: Stepper;
  private readonly chars: readonly string[];
  private readonly positions: PositionScore[] = [];
  private expected: Float64Array; // the distribution of the next character, once one is read
  private next: Float64Array;
  private read = 0;

  constructor(checkpoint: RunnableModel, private readonly top = 5) {
    const { cell, L, H, K, vocab } = checkpoint.model;
    this.textScorer = new TextScorer(checkpoint, false);
    this.stepper = createFastStepper(checkpoint.state.params, { cell, L, H, K }, checkpoint.options.dtype);
    this.chars = Array.from(vocab, (cp) => String.fromCodePoint(cp));
    this.expected = new Float64Array(K);
    this.next = new Float64Array(K);
  }

  /** Reads the next symbol ids of the text (all in the vocabulary). */
  add(ids: ArrayLike<number>): void {
    let text = '';
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      text += this.chars[id];
      const bits = this.read === 0 ? null : -Math.log2(this.expected[id]);
      this.stepper.feed(id);
      softmaxInto(this.stepper.scores(), this.next);
      this.positions.push({ char: this.chars[id], bits, top: likeliest(this.next, this.chars, this.top) });
      [this.expected, this.next] = [this.next, this.expected];
      this.read++;
    }
    this.textScorer.add(text);
  }

  result(): PositionScores {
    const { natsPerChar, characters, predictions } = this.textScorer.score();
    return { characters, predictions, natsPerChar, bitsPerChar: natsPerChar / Math.LN2, positions: this.positions };
  }
}

/** p = softmax(scores), with the largest score subtracted first so that exp cannot overflow. */
export function softmaxInto(scores: Float64Array, p: Float64Array): void {
  let max = -Infinity;
  for (const s of scores) if (s > max) max = s;
  let sum = 0;
  for (let k = 0; k < scores.length; k++) {
    p[k] = Math.exp(scores[k] - max);
    sum += p[k];
  }
  for (let k = 0; k < scores.length; k++) p[k] /= sum;
}

/** The n likeliest ids' characters and probabilities, likeliest first; ties go to the lower id. */
export function likeliest(p: Float64Array, chars: readonly string[], n: number): { char: string; p: number }[] {
  const best: number[] = [];
  for (let k = 0; k < p.length; k++) {
    if (best.length === n && p[k] <= p[best[n - 1]]) continue;
    let at = Math.min(best.length, n - 1);
    if (best.length < n) best.push(k);
    while (at > 0 && p[best[at - 1]] < p[k]) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = k;
  }
  return best.map((k) => ({ char: chars[k], p: p[k] }));
}
