import type { Dims, ParamViews } from './layout.js';
import type { Prng } from './prng.js';
import { hiddenStep, logits } from './rnn.js';

/**
 * Draws `length` symbol ids from the model as the seed's sampler does: feed `firstId` with the
 * hidden state h (H, updated in place), draw the next id from softmax(o / temperature), feed it back.
 */
export function sampleIds(p: ParamViews, { H, K }: Dims, h: Float64Array, firstId: number, length: number, prng: Prng, temperature = 1): Uint32Array {
  const out = new Uint32Array(length);
  const hs = new Float64Array(2 * H); // (2, H): previous and next hidden rows
  const probs = new Float64Array(K);
  hs.set(h);
  let x = firstId;
  for (let n = 0; n < length; n++) {
    hiddenStep(p, H, K, x, hs, 0, H);
    hs.copyWithin(0, H, 2 * H);
    const max = logits(p, H, K, hs, 0, probs, 0);
    let total = 0;
    for (let k = 0; k < K; k++) {
      probs[k] = Math.exp((probs[k] - max) / temperature);
      total += probs[k];
    }
    x = drawIndex(probs, total, prng.nextDouble());
    out[n] = x;
  }
  h.set(hs.subarray(0, H));
  return out;
}

/** The index where the running sum of weights first exceeds u * total (u in [0, 1)). */
export function drawIndex(weights: Float64Array, total: number, u: number): number {
  let r = u * total;
  for (let k = 0; k < weights.length; k++) {
    r -= weights[k];
    if (r < 0) return k;
  }
  return weights.length - 1; // rounding left a sliver past the last weight
}
