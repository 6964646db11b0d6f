import type { Layout } from './rnn-layout.js';
import type { Prng } from '../prng.js';

export const INIT_SIGMA = 0.01;

/** The seed's init: b = c = 0; W, U, V drawn from N(0, sigma^2), in layout order. */
export function initParams(flat: Float64Array, layout: Layout, prng: Prng, sigma = INIT_SIGMA): void {
  for (const spec of layout.specs) {
    const view = flat.subarray(spec.offset, spec.offset + spec.size);
    if (spec.vector) view.fill(0);
    else for (let i = 0; i < view.length; i++) view[i] = sigma * prng.nextGaussian();
  }
}
