import type { Corpus } from './corpus.js';
import { UserError } from './errors.js';
import { describeCodePoint, newIds } from './symbols.js';

/** Whether every symbol of the text is in `vocab`, so that withVocabulary() can encode it. */
export function usesOnly(corpus: Corpus, vocab: Uint32Array): boolean {
  const symbols = new Set(vocab);
  return corpus.vocab.every((codePoint) => symbols.has(codePoint));
}

/**
 * The same text re-encoded with another vocabulary (a checkpoint's, for fine-tuning), which
 * must contain every symbol of the text; the missing ones are named otherwise.
 */
export function withVocabulary(corpus: Corpus, vocab: Uint32Array): Corpus {
  const index = new Map<number, number>();
  vocab.forEach((codePoint, id) => index.set(codePoint, id));
  const missing = Array.from(corpus.vocab).filter((codePoint) => !index.has(codePoint));
  if (missing.length > 0) {
    const shown = missing.slice(0, 20).map(describeCodePoint).join(', ');
    throw new UserError(
      `the checkpoint's vocabulary lacks ${missing.length} character${missing.length === 1 ? '' : 's'} of ${corpus.source}: ${shown}${missing.length > 20 ? ', ...' : ''} (fine-tune on a text that uses only its characters)`,
    );
  }
  const remap = Uint32Array.from(corpus.vocab, (codePoint) => index.get(codePoint) as number);
  const ids = newIds(vocab.length, corpus.ids.length);
  for (let i = 0; i < ids.length; i++) ids[i] = remap[corpus.ids[i]];
  return { ...corpus, vocab, ids }; // where it came from (a list of paths too) goes into the checkpoint
}
