import type { Corpus } from './corpus.js';
import { UserError } from './errors.js';
import { modelLayout, type ModelDims, type TensorSpec } from './model/cells/cell.js';
import { cellNamed } from './model/cells/registry.js';
import { Prng } from './model/prng.js';
import { describeCodePoint, newIds } from './symbols.js';

/** Whether every symbol of the text is in `vocab`, so that withVocabulary() can encode it. */
export function usesOnly(corpus: Corpus, vocab: Uint32Array): boolean {
  const symbols = new Set(vocab);
  return corpus.vocab.every((codePoint) => symbols.has(codePoint));
}

/** The symbols of the text that `vocab` lacks, ascending. */
export function missingSymbols(corpus: Corpus, vocab: Uint32Array): number[] {
  const symbols = new Set(vocab);
  return Array.from(corpus.vocab).filter((codePoint) => !symbols.has(codePoint));
}

/**
 * The same text re-encoded with another vocabulary (a checkpoint's, for fine-tuning), which
 * must contain every symbol of the text; the missing ones are named otherwise.
 */
export function withVocabulary(corpus: Corpus, vocab: Uint32Array): Corpus {
  const missing = missingSymbols(corpus, vocab);
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).map(describeCodePoint).join(', ');
    throw new UserError(
      `the checkpoint's vocabulary lacks ${missing.length} character${missing.length === 1 ? '' : 's'} of ${corpus.source}: ${shown}${missing.length > 20 ? ', ...' : ''} (pass --extend-vocab to add them, or fine-tune on a text that uses only its characters)`,
    );
  }
  const index = new Map<number, number>();
  vocab.forEach((codePoint, id) => index.set(codePoint, id));
  const remap = Uint32Array.from(corpus.vocab, (codePoint) => index.get(codePoint) as number);
  const ids = newIds(vocab.length, corpus.ids.length);
  for (let i = 0; i < ids.length; i++) ids[i] = remap[corpus.ids[i]];
  return { ...corpus, vocab, ids }; // where it came from (a list of paths too) goes into the checkpoint
}

/** `vocab` with the text's symbols that it lacks appended, so that every old symbol keeps its id. */
export function extendedVocabulary(corpus: Corpus, vocab: Uint32Array): Uint32Array {
  return Uint32Array.from([...vocab, ...missingSymbols(corpus, vocab)]);
}

/**
 * The parameters of a model of `dims` widened to K symbols, the old ones first: a fresh model of
 * K symbols drawn from `seed` as train() draws it, with every entry of an old symbol (and every
 * entry no symbol indexes) taken from `params`. The axes whose size the larger vocabulary
 * changes are the symbol axes: the input weights' columns, the output weights' rows and biases.
 */
export function widenedParams(params: Float64Array, dims: ModelDims, K: number, seed: number): Float64Array {
  const cell = cellNamed(dims.cell);
  const from = modelLayout(cell, dims);
  const to = modelLayout(cell, { ...dims, K });
  const widened = new Float64Array(to.size);
  cell.init(widened, to, Prng.fromSeed(seed));
  from.specs.forEach((spec, i) => copyBlock(params, spec, widened, to.specs[i], dims.K, K));
  return widened;
}

/** Copies tensor `a` (row-major) into the leading block of the larger `b`, whose axes are a's or, where they differ, K instead of k. */
function copyBlock(source: Float64Array, a: TensorSpec, target: Float64Array, b: TensorSpec, k: number, K: number): void {
  if (a.name !== b.name || a.shape.length !== b.shape.length || a.shape.some((n, axis) => n !== b.shape[axis] && (n !== k || b.shape[axis] !== K))) {
    throw new Error(`cannot widen ${a.name} ${JSON.stringify(a.shape)} to ${b.name} ${JSON.stringify(b.shape)}: only symbol axes may grow`);
  }
  const cols = a.shape.at(-1) ?? 1;
  const rows = a.size / cols;
  const targetCols = b.shape.at(-1) ?? 1;
  // Matrices here are at most 2-D: a row of a is the start of row r of b.
  if (a.shape.length > 2) throw new Error(`cannot widen ${a.name}: ${a.shape.length}-D tensors are not expected`);
  for (let r = 0; r < rows; r++) {
    target.set(source.subarray(a.offset + r * cols, a.offset + (r + 1) * cols), b.offset + r * targetCols);
  }
}
