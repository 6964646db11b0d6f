import type { CheckpointData } from '../checkpoint/index.js';
import { createFastStepper } from '../model/kernel-stepper.js';
import { TextScorer } from '../score-text.js';
import { describeUnknown, encodeKnown } from '../symbols.js';
import { BadRequest } from './requests.js';

export interface Candidate {
  readonly char: string;
  readonly p: number;
}

export interface ScoredPosition {
  readonly char: string;
  /** -log2 p(this character | those before it); null for the first, which is only read. */
  readonly bits: number | null;
  /** The five likeliest characters after this one, likeliest first (ties: the lower id). */
  readonly top: Candidate[];
}

export interface TextScoreDetail {
  readonly characters: number;
  readonly predictions: number;
  readonly natsPerChar: number;
  readonly bitsPerChar: number;
  readonly positions: ScoredPosition[];
}

/** Characters scored between turns of the event loop: about 30 ms of the default GRU. */
const SLICE = 1000;
const TOP = 5;

/**
 * The text's score as `char-rnn eval` computes it (the same TextScorer, so the same bits), and
 * for each position the model's probability of its character and its five likeliest next ones,
 * from a stepper fed the text from a zero state. Works in slices, giving the event loop a turn
 * between them; stops with the signal's reason once it is aborted.
 */
export async function scoreWithDetail(checkpoint: CheckpointData, text: string, signal?: AbortSignal): Promise<TextScoreDetail> {
  const { cell, L, H, K, vocab } = checkpoint.model;
  const { ids, unknown } = encodeKnown(text, vocab);
  if (unknown.length > 0) throw new BadRequest(`the text has ${describeUnknown(unknown)} (use only characters the model was trained on)`, 'text');
  const scorer = new TextScorer(checkpoint, false);
  const stepper = createFastStepper(checkpoint.state.params, { cell, L, H, K }, checkpoint.options.dtype);
  const chars = Array.from(vocab, (cp) => String.fromCodePoint(cp));
  const positions: ScoredPosition[] = [];
  let probabilities = new Float64Array(K);
  let next = new Float64Array(K);
  for (let start = 0; start < ids.length; start += SLICE) {
    const end = Math.min(ids.length, start + SLICE);
    scorer.add(textOf(ids.subarray(start, end), chars));
    for (let i = start; i < end; i++) {
      stepper.feed(ids[i]);
      softmaxInto(stepper.scores(), next);
      const bits = i === 0 ? null : -Math.log2(probabilities[ids[i]]);
      positions.push({ char: chars[ids[i]], bits, top: topOf(next, chars) });
      [probabilities, next] = [next, probabilities];
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
  }
  const { natsPerChar, characters, predictions } = scorer.score();
  return { characters, predictions, natsPerChar, bitsPerChar: natsPerChar / Math.LN2, positions };
}

function textOf(ids: Uint32Array, chars: readonly string[]): string {
  let text = '';
  for (const id of ids) text += chars[id];
  return text;
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

/** The TOP likeliest ids' characters and probabilities, likeliest first; ties go to the lower id. */
export function topOf(p: Float64Array, chars: readonly string[]): Candidate[] {
  const best: number[] = [];
  for (let k = 0; k < p.length; k++) {
    if (best.length === TOP && p[k] <= p[best[TOP - 1]]) continue;
    let at = Math.min(best.length, TOP - 1);
    if (best.length < TOP) best.push(k);
    while (at > 0 && p[best[at - 1]] < p[k]) {
      best[at] = best[at - 1];
      at--;
    }
    best[at] = k;
  }
  return best.map((k) => ({ char: chars[k], p: p[k] }));
}
