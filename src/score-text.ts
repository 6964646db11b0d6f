import type { CheckpointData } from './checkpoint/index.js';
import { UserError } from './errors.js';
import { stateLength } from './model/cells/cell.js';
import { cellNamed } from './model/cells/registry.js';
import { createScorer } from './model/scorer.js';
import { describeUnknown, encodeKnown } from './symbols.js';

/** Options of scoreText(). */
export interface ScoreTextOptions {
  /** Remove characters missing from the vocabulary from the text instead of throwing. Default false. */
  readonly skipUnknown?: boolean;
}

/** A character of the text that the checkpoint's vocabulary lacks. */
export interface SkippedCharacter {
  readonly character: string;
  readonly codePoint: number;
  /** How many times it occurs in the text. */
  readonly count: number;
}

/** A model's loss on a text read as one stream from a zero hidden state. */
export interface TextScore {
  /** The mean of -ln p(next character) over the predictions; divide by Math.LN2 for bits. */
  readonly natsPerChar: number;
  /** Characters (code points) the model read: the text's, less the skipped ones. */
  readonly characters: number;
  /** characters - 1: the first character is only read, every later one is predicted. */
  readonly predictions: number;
  /** The characters removed from the text, in order of first appearance (empty unless skipUnknown). */
  readonly skipped: readonly SkippedCharacter[];
}

/**
 * The loss of the model in `checkpoint` on `text`, as validation in training computes it: from
 * a zero hidden state the model reads the text's first character and predicts the second, reads
 * the second and predicts the third, and so on, so N characters give N - 1 predictions. Unlike
 * validation, which restarts from a zero state every 16,384 predictions, the text is one stream.
 * A character the vocabulary lacks is a UserError naming it, or with skipUnknown is removed from
 * the stream; fewer than two characters left is a UserError.
 */
export function scoreText(checkpoint: CheckpointData, text: string, options: ScoreTextOptions = {}): TextScore {
  const { ids, skipped } = knownIds(text, checkpoint.model.vocab);
  if (skipped.length > 0 && options.skipUnknown !== true) {
    throw new UserError(`the text has ${describeUnknown(skipped.map((s) => s.codePoint))} (use only characters the model was trained on, or set skipUnknown to remove them)`);
  }
  if (ids.length < 2) throw new UserError(`the text has ${tooFew(ids.length, skipped)}`);
  return { natsPerChar: meanLoss(checkpoint, ids), characters: ids.length, predictions: ids.length - 1, skipped };
}

/** The text as ids of the vocabulary, without the characters it lacks; those are listed with their counts. */
export function knownIds(text: string, vocab: Uint32Array): { ids: Uint32Array; skipped: SkippedCharacter[] } {
  const { ids, unknown } = encodeKnown(text, vocab);
  if (unknown.length === 0) return { ids, skipped: [] };
  const counts = new Map<number, number>(unknown.map((cp) => [cp, 0]));
  for (const ch of text) {
    const cp = ch.codePointAt(0) as number;
    const count = counts.get(cp);
    if (count !== undefined) counts.set(cp, count + 1);
  }
  return { ids, skipped: unknown.map((cp) => ({ character: String.fromCodePoint(cp), codePoint: cp, count: counts.get(cp) as number })) };
}

/**
 * The mean loss in nats of the predictions ids[t] -> ids[t+1] (ids.length - 1 of them, at least
 * one), from a zero hidden state, by the kernels validation uses: the loss is summed one
 * prediction at a time and divided once, as validate() in train.ts does.
 */
export function meanLoss(checkpoint: CheckpointData, ids: Uint32Array): number {
  const { cell, L, H, K, vocab } = checkpoint.model;
  if (vocab.length !== K) throw new RangeError(`the checkpoint's vocabulary lists ${vocab.length} symbols, but K is ${K}`);
  if (ids.length < 2) throw new RangeError(`scoring needs at least 2 ids, got ${ids.length}`);
  const predictions = ids.length - 1;
  const dims = { cell, L, H, K };
  const state = new Float64Array(stateLength(cellNamed(cell), dims));
  return createScorer(checkpoint.state.params, dims, checkpoint.options.dtype).score(ids, 0, predictions, state) / predictions;
}


/** '1 character the model knows: at least 2 are needed (...)', for a text too short to score. */
export function tooFew(characters: number, skipped: readonly SkippedCharacter[]): string {
  const noun = characters === 1 ? 'character' : 'characters';
  const known = skipped.length > 0 ? ' the model knows' : '';
  return `${characters} ${noun}${known}: at least 2 are needed (the first is only read; each later one is predicted)`;
}
