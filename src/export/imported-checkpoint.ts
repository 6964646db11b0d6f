import { nominalOptions, type CheckpointData } from '../checkpoint/index.js';
import { modelLayout, stateLength, type ModelDims } from '../model/cells/cell.js';
import { cellNamed } from '../model/cells/registry.js';
import type { ExportConfig } from './export-config.js';

/** Sequence length and stream of the imported checkpoint's nominal options: the smallest run that decodes. */
const T = 1;
const B = 1;

/**
 * A checkpoint holding an imported model at step 0, as before a run's first step: the params
 * given, a fresh (zero) AdaGrad state and zero carried state, a nominal one-step run over a corpus
 * it does not have (its fingerprint is zeros). sample, eval and inspect read it; sampling with no
 * prime starts from the zero state, where the exported run started from its carried one.
 */
export function importedCheckpoint(config: ExportConfig, params: Float64Array, source: string, createdAt: string, packageVersion: string): CheckpointData {
  const dims: ModelDims = { cell: config.cell, L: config.layers, H: config.hidden, K: config.vocab.length };
  const cell = cellNamed(dims.cell);
  const P = modelLayout(cell, dims).size;
  if (params.length !== P) throw new RangeError(`params have ${params.length} entries, the model needs ${P}`);
  return {
    packageVersion,
    createdAt,
    model: { ...dims, vocab: Uint32Array.from(config.vocab) },
    options: nominalOptions({
      seqLength: T, streams: B, threads: 1, optimizer: 'adagrad', eta: 0.1, valFrac: 0, dropout: config.dropout, dtype: config.dtype,
      steps: 1, evalEvery: 0, sampleEvery: 0, checkpointEvery: 0,
    }),
    corpus: { source, length: T + 1, sha256: new Uint8Array(32) },
    state: {
      step: 0, epoch: 1, position: 0, streamLength: T + 1, charsSeen: 0, seconds: 0,
      params, optimizerState: new Float64Array(P), hidden: new Float64Array(B * stateLength(cell, dims)),
      prngState: Uint32Array.from([1, 2, 3, 4]),
      smoothLoss: Number.NaN, bestLoss: Infinity, bestStep: 0, bestMetric: 'smooth', valLoss: undefined,
      smoothHistory: [], valHistory: [],
    },
  };
}
