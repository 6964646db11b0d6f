/**
 * Validation as a sampler starts: the held-out text as ONE stream from a zero hidden state, in nats
 * per character. The fast path is the kernels' scorer (src/model/scorer.ts), bit-identical to the
 * reference evaluate() of rnn.ts; the first call checks that on a prefix anyway.
 */
import { modelLayout, stateLength, type ModelDims } from '../src/model/cells/cell.js';
import { cellNamed } from '../src/model/cells/registry.js';
import { createKernelMemory, instantiateKernels } from '../src/model/kernels.js';
import { paramLayout, viewsOf } from '../src/model/cells/rnn-layout.js';
import { createEvalWorkspace, evaluate } from '../src/model/cells/rnn.js';
import { createScorer } from '../src/model/scorer.js';
import { precisionOf, type Dtype } from '../src/model/precision.js';

export type ValMode = 'simd' | 'reference';

/** How many predictions the first call scores both ways to check the fast path. */
const CHECK_PREDICTIONS = 2000;

/** A function from parameters (the flat layout) to the mean loss over ids, in nats per character. */
export function makeValLoss(dims: ModelDims, ids: Uint32Array, mode: ValMode, dtype: Dtype = 'float64'): (params: Float64Array) => number {
  if (ids.length < 2) throw new Error('the validation text needs at least two known characters');
  let checked = mode === 'reference';
  return (params) => {
    if (!checked) {
      const n = Math.min(CHECK_PREDICTIONS + 1, ids.length);
      const fast = simdLoss(dims, params, ids.subarray(0, n), dtype);
      const slow = referenceLoss(dims, params, ids.subarray(0, n), dtype);
      if (!Object.is(fast, slow)) {
        throw new Error(`the SIMD validation loss ${fast} differs from the reference's ${slow} (use --eval reference)`);
      }
      checked = true;
    }
    const total = mode === 'simd' ? simdLoss(dims, params, ids, dtype) : referenceLoss(dims, params, ids, dtype);
    return total / (ids.length - 1);
  };
}

/**
 * Summed loss of the predictions ids[t] -> ids[t+1], from a zero state, by the reference math:
 * rnn.ts's evaluate(), or a gated cell's sequence forward in the chunks the scorer uses, each
 * chunk's sum added to the total as the scorer adds it.
 */
function referenceLoss(dims: ModelDims, params: Float64Array, ids: Uint32Array, dtype: Dtype): number {
  if (dims.cell === 'rnn') {
    const rnn = { H: dims.H, K: dims.K };
    return evaluate(viewsOf(params, paramLayout(rnn)), rnn, ids, 0, ids.length - 1, new Float64Array(dims.H), createEvalWorkspace(rnn));
  }
  const cell = cellNamed(dims.cell);
  const layout = modelLayout(cell, dims);
  const chunk = cell.kernelSizes(instantiateKernels(createKernelMemory(0)), dims, 1).scoreChunk;
  const precision = precisionOf(dtype);
  const weights = dtype === 'float32' ? Float32Array.from(params) : params;
  const state = new Float64Array(stateLength(cell, dims));
  const count = ids.length - 1;
  let total = 0;
  for (let done = 0; done < count; done += chunk) {
    const n = Math.min(chunk, count - done);
    total += cell.reference(layout, n, precision).loss(weights, ids, done, state, null);
  }
  return total;
}

/** The same sum by the WebAssembly kernels. */
function simdLoss(dims: ModelDims, params: Float64Array, ids: Uint32Array, dtype: Dtype): number {
  return createScorer(params, dims, dtype).score(ids, 0, ids.length - 1, new Float64Array(stateLength(cellNamed(dims.cell), dims)));
}
