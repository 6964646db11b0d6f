import { adagradStep } from './adagrad.js';
import type { Kernels } from './kernels.js';

/**
 * The optimizers, as reference math over one flat buffer (the WebAssembly kernels in
 * assembly/kernels.ts equal them bit for bit). Each first scales the mean gradient down to
 * clipNorm when it is longer (--clip-norm), clips every entry to [-clip, clip] (the seed's clip), then:
 *   adagrad  mem += g^2;                                   p -= eta g / sqrt(mem + eps)
 *   rmsprop  ms = decay ms + (1 - decay) g^2;              p -= eta g / (sqrt(ms) + eps)
 *   adam     m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= eta (m / c1) / (sqrt(v / c2) + eps)
 * with Adam's bias corrections c1 = 1 - b1^t and c2 = 1 - b2^t after t updates. AdaGrad is the
 * seed's; RMSProp is char-rnn's (decay 0.95); Adam is torch-rnn's and PyTorch's.
 */
export const OPTIMIZER_NAMES = ['adagrad', 'rmsprop', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

export interface OptimizerSettings {
  readonly optimizer: OptimizerName;
  readonly eta: number;
  readonly eps: number;
  readonly clip: number;
  readonly decay: number; // rmsprop
  readonly beta1: number; // adam
  readonly beta2: number; // adam
  /** The global-norm clip: the mean gradient is scaled to this norm when longer; 0: none. */
  readonly clipNorm: number;
}

/** Parameters per claim of the update; the global norm is summed chunk by chunk in this partition. */
export const UPDATE_CHUNK = 2048;

/**
 * The factor the global-norm clip applies to the mean gradient: 1 when its norm is at most
 * maxNorm, else maxNorm / norm. The squares are summed in index order within each chunk of
 * UPDATE_CHUNK entries, then the chunks' sums in chunk order: what the threads add up, whichever
 * of them sums which chunk.
 */
export function normClipScale(grad: Float64Array, maxNorm: number): number {
  let total = 0;
  for (let lo = 0; lo < grad.length; lo += UPDATE_CHUNK) {
    let part = 0;
    for (let i = lo; i < Math.min(lo + UPDATE_CHUNK, grad.length); i++) part += grad[i] * grad[i];
    total += part;
  }
  return clipScale(total, maxNorm);
}

/** maxNorm / sqrt(sumSquares) when that is below 1, else 1. */
export function clipScale(sumSquares: number, maxNorm: number): number {
  return sumSquares > maxNorm * maxNorm ? maxNorm / Math.sqrt(sumSquares) : 1;
}

/** The learning rate each optimizer starts from when --eta is not given. */
export const DEFAULT_ETA: Readonly<Record<OptimizerName, number>> = { adagrad: 0.05, rmsprop: 2e-3, adam: 2e-3 };

/** Buffers of optimizer state, P entries each, stored one after another: AdaGrad's sums of squares, RMSProp's mean squares, Adam's m then v. */
export function stateBuffers(name: OptimizerName): number {
  return name === 'adam' ? 2 : 1;
}

/** The options each optimizer reads besides the learning rate, eps and the clips: a flag for another's is refused (config.ts). */
export const OPTIMIZER_OWN_OPTIONS: Readonly<Record<OptimizerName, readonly ('decay' | 'beta1' | 'beta2')[]>> = { adagrad: [], rmsprop: ['decay'], adam: ['beta1', 'beta2'] };

/** The state buffers that hold squares, so never a negative number: AdaGrad's sums, RMSProp's mean squares, Adam's v. */
export function squareBuffers(name: OptimizerName): readonly number[] {
  return name === 'adam' ? [1] : [0];
}

export function isOptimizerName(name: string): name is OptimizerName {
  return (OPTIMIZER_NAMES as readonly string[]).includes(name);
}

/** Where an optimizer kernel finds its operands in the kernels' memory (byte offsets), and their sizes. */
export interface OptimizerOperands {
  readonly params: number; // (P) float64
  readonly state: number; // (stateBuffers, P) float64
  readonly slots: number; // (ceil(B/2), P) the pairs' gradient slots, in the kernels' precision
  readonly P: number;
  readonly B: number;
}

/**
 * The update of the parameters [lo, hi) by the optimizer's kernel from the pairs' gradient
 * slots, scaled by `scale` (the norm clip) and clipped, at learning rate eta (and Adam's bias
 * corrections c1, c2): what optimizerStep computes, on the kernels (assembly/kernels.ts), which
 * equal it bit for bit.
 */
export function bindOptimizerKernel(
  kernels: Kernels, s: OptimizerSettings, { params, state, slots, P, B }: OptimizerOperands,
): (lo: number, hi: number, scale: number, eta: number, c1: number, c2: number) => void {
  const pairs = Math.ceil(B / 2);
  switch (s.optimizer) {
    case 'adagrad':
      return (lo, hi, scale, eta) => kernels.adagradRange(params, state, slots, P, pairs, B, lo, hi, eta, s.eps, scale, s.clip);
    case 'rmsprop':
      return (lo, hi, scale, eta) => kernels.rmspropRange(params, state, slots, P, pairs, B, lo, hi, eta, s.eps, scale, s.clip, s.decay);
    case 'adam':
      return (lo, hi, scale, eta, c1, c2) =>
        kernels.adamRange(params, state, state + P * 8, slots, P, pairs, B, lo, hi, eta, s.eps, scale, s.clip, s.beta1, s.beta2, c1, c2);
  }
}

/** Adam's bias corrections after t >= 1 updates, computed once per step by whoever orders it. */
export function adamCorrections(t: number, beta1: number, beta2: number): { readonly c1: number; readonly c2: number } {
  return { c1: 1 - beta1 ** t, c2: 1 - beta2 ** t };
}

/**
 * One update of params by the mean gradient grad (clipped in place); state holds stateBuffers()
 * buffers of params.length entries; t is the update's 1-based count (Adam's bias correction).
 */
export function optimizerStep(params: Float64Array, grad: Float64Array, state: Float64Array, s: OptimizerSettings, t: number): void {
  const P = params.length;
  if (state.length !== stateBuffers(s.optimizer) * P) throw new RangeError(`${s.optimizer} needs ${stateBuffers(s.optimizer) * P} state entries, got ${state.length}`);
  const scale = s.clipNorm > 0 ? normClipScale(grad, s.clipNorm) : 1;
  if (scale !== 1) for (let i = 0; i < P; i++) grad[i] *= scale;
  if (s.optimizer === 'adagrad') {
    adagradStep(params, grad, state, s);
    return;
  }
  const { eta, eps, clip } = s;
  if (s.optimizer === 'rmsprop') {
    const { decay } = s;
    for (let i = 0; i < P; i++) {
      const g = clipped(grad[i], clip);
      grad[i] = g;
      const ms = decay * state[i] + (1 - decay) * (g * g);
      state[i] = ms;
      params[i] -= (eta * g) / (Math.sqrt(ms) + eps);
    }
    return;
  }
  const { beta1, beta2 } = s;
  const { c1, c2 } = adamCorrections(t, beta1, beta2);
  for (let i = 0; i < P; i++) {
    const g = clipped(grad[i], clip);
    grad[i] = g;
    const m = beta1 * state[i] + (1 - beta1) * g;
    const v = beta2 * state[P + i] + (1 - beta2) * (g * g);
    state[i] = m;
    state[P + i] = v;
    params[i] -= (eta * (m / c1)) / (Math.sqrt(v / c2) + eps);
  }
}

function clipped(g: number, clip: number): number {
  return g > clip ? clip : g < -clip ? -clip : g;
}
