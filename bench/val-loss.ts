/**
 * Validation as a sampler starts: the held-out text as ONE stream from a zero hidden state, in nats
 * per character. The fast path is the kernels' scorer (src/model/scorer.ts), bit-identical to the
 * reference evaluate() of rnn.ts; the first call checks that on a prefix anyway.
 */
import type { Dims, Layout } from '../src/model/layout.js';
import { viewsOf } from '../src/model/layout.js';
import { createEvalWorkspace, evaluate } from '../src/model/rnn.js';
import { createScorer } from '../src/model/scorer.js';

export type ValMode = 'simd' | 'reference';

/** How many predictions the first call scores both ways to check the fast path. */
const CHECK_PREDICTIONS = 2000;

/** A function from parameters (the flat layout) to the mean loss over ids, in nats per character. */
export function makeValLoss(dims: Dims, layout: Layout, ids: Uint32Array, mode: ValMode): (params: Float64Array) => number {
  if (ids.length < 2) throw new Error('the validation text needs at least two known characters');
  let checked = mode === 'reference';
  return (params) => {
    if (!checked) {
      const n = Math.min(CHECK_PREDICTIONS + 1, ids.length);
      const fast = simdLoss(dims, params, ids.subarray(0, n));
      const slow = referenceLoss(dims, layout, params, ids.subarray(0, n));
      if (!Object.is(fast, slow)) {
        throw new Error(`the SIMD validation loss ${fast} differs from the reference evaluate()'s ${slow} (use --eval reference)`);
      }
      checked = true;
    }
    const total = mode === 'simd' ? simdLoss(dims, params, ids) : referenceLoss(dims, layout, params, ids);
    return total / (ids.length - 1);
  };
}

/** Summed loss of the predictions ids[t] -> ids[t+1], from a zero state, with rnn.ts's evaluate(). */
function referenceLoss(dims: Dims, layout: Layout, params: Float64Array, ids: Uint32Array): number {
  const h = new Float64Array(dims.H);
  return evaluate(viewsOf(params, layout), dims, ids, 0, ids.length - 1, h, createEvalWorkspace(dims));
}

/** The same sum by the WebAssembly kernels. */
function simdLoss(dims: Dims, params: Float64Array, ids: Uint32Array): number {
  return createScorer(params, { cell: 'rnn', L: 1, ...dims }).score(ids, 0, ids.length - 1, new Float64Array(dims.H));
}
