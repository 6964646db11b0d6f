import { createHash } from 'node:crypto';
import type { Corpus } from '../corpus.js';
import type { CorpusFingerprint } from './data.js';
import { littleEndianBytes } from './endian.js';

/**
 * Identifies a corpus by its encoded form: the SHA-256 of the symbol ids as little-endian
 * integers of the width the corpus uses (1, 2 or 4 bytes, fixed by K). Same text, same
 * fingerprint; the vocabulary is stored with the model, so it is not hashed again here.
 */
export function corpusFingerprint(corpus: Corpus): CorpusFingerprint {
  const sha256 = createHash('sha256').update(littleEndianBytes(corpus.ids)).digest();
  return { source: corpus.source, ...(corpus.sources === undefined ? {} : { sources: corpus.sources }), length: corpus.ids.length, sha256: new Uint8Array(sha256) };
}

export function sameCorpus(a: CorpusFingerprint, b: CorpusFingerprint): boolean {
  return a.length === b.length && Buffer.compare(a.sha256, b.sha256) === 0;
}
