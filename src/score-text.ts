import type { RunnableModel } from './checkpoint/data.js';
import { UserError } from './errors.js';
import { stateLength } from './model/cells/cell.js';
import { cellNamed } from './model/cells/registry.js';
import { createScorer, type Scorer, type ScoreStream } from './model/scorer.js';
import { describeUnknown, lookupTable, visitSymbols } from './symbols.js';

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
export function scoreText(checkpoint: RunnableModel, text: string, options: ScoreTextOptions = {}): TextScore {
  const scorer = new TextScorer(checkpoint, options.skipUnknown === true);
  scorer.add(text);
  const { skipped, characters } = scorer;
  if (skipped.length > 0 && options.skipUnknown !== true) {
    throw new UserError(`the text has ${describeUnknown(skipped.map((s) => s.codePoint))} (use only characters the model was trained on, or set skipUnknown to remove them)`);
  }
  if (characters < 2) throw new UserError(`the text has ${tooFew(characters, skipped)}`);
  return scorer.score();
}

/**
 * scoreText for a text handed over a piece at a time (a file read in chunks), in memory that does
 * not grow with the text: each piece is scored as it comes, and only the unknown characters are
 * kept. Once one is found without skipUnknown, the rest is only searched for more of them.
 */
export class TextScorer {
  private readonly lookup: Int32Array;
  private readonly stream: ScoreStream;
  private knownCount = 0;
  private readonly unknown = new Map<number, number>(); // code point -> count, in order of first appearance
  private readonly onKnown = (id: number): void => {
    this.knownCount++;
    if (this.skipUnknown || this.unknown.size === 0) this.stream.push(id);
  };
  private readonly onUnknown = (cp: number): void => {
    this.unknown.set(cp, (this.unknown.get(cp) ?? 0) + 1);
  };

  constructor(checkpoint: RunnableModel, private readonly skipUnknown: boolean) {
    this.lookup = lookupTable(checkpoint.model.vocab);
    this.stream = scorerFor(checkpoint).stream();
  }

  add(text: string): void {
    visitSymbols(text, this.lookup, this.onKnown, this.onUnknown);
  }

  /** Characters of the text so far that the vocabulary has. */
  get characters(): number {
    return this.knownCount;
  }

  /** The characters the vocabulary lacks, so far. */
  get skipped(): SkippedCharacter[] {
    return [...this.unknown].map(([codePoint, count]) => ({ character: String.fromCodePoint(codePoint), codePoint, count }));
  }

  /** The score of the text so far: at least two known characters, and none unknown unless skipUnknown. */
  score(): TextScore {
    if (!this.skipUnknown && this.unknown.size > 0) throw new RangeError('a text with unknown characters is not scored unless skipUnknown');
    const characters = this.knownCount;
    if (characters < 2) throw new RangeError(`scoring needs at least 2 characters, got ${characters}`);
    const predictions = characters - 1;
    return { natsPerChar: this.stream.loss() / predictions, characters, predictions, skipped: this.skipped };
  }
}

/**
 * The mean loss in nats of the predictions ids[t] -> ids[t+1] (ids.length - 1 of them, at least
 * one), from a zero hidden state, by the kernels validation uses: the loss is summed one
 * prediction at a time and divided once, as validate() in train.ts does.
 */
export function meanLoss(checkpoint: RunnableModel, ids: Uint32Array): number {
  if (ids.length < 2) throw new RangeError(`scoring needs at least 2 ids, got ${ids.length}`);
  const { cell, L, H, K } = checkpoint.model;
  const predictions = ids.length - 1;
  const state = new Float64Array(stateLength(cellNamed(cell), { cell, L, H, K }));
  return scorerFor(checkpoint).score(ids, 0, predictions, state) / predictions;
}

function scorerFor(checkpoint: RunnableModel): Scorer {
  const { cell, L, H, K, vocab } = checkpoint.model;
  if (vocab.length !== K) throw new RangeError(`the checkpoint's vocabulary lists ${vocab.length} symbols, but K is ${K}`);
  return createScorer(checkpoint.state.params, { cell, L, H, K }, checkpoint.options.dtype);
}

/** '1 character the model knows: at least 2 are needed (...)', for a text too short to score. */
export function tooFew(characters: number, skipped: readonly SkippedCharacter[]): string {
  const noun = characters === 1 ? 'character' : 'characters';
  const known = skipped.length > 0 ? ' the model knows' : '';
  return `${characters} ${noun}${known}: at least 2 are needed (the first is only read; each later one is predicted)`;
}
