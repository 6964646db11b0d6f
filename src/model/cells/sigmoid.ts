import { exp } from '../exp.js';

/**
 * The logistic function with the model's exp (../exp.ts), so that the WebAssembly kernels can
 * reproduce it bit for bit: σ(x) = 1 / (1 + exp(-x)), with no branch. For x below about -709,
 * exp(-x) overflows to Infinity and σ is 1 / Infinity = 0; for x above 708, exp(-x) is 0 and σ is
 * 1. Neither end makes a NaN; only a NaN input does.
 */
export function sigmoid(x: number): number {
  return 1 / (1 + exp(-x));
}
