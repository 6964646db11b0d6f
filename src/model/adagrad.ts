import type { FloatArray } from './precision.js';
export interface AdagradOptions {
  readonly eta: number;
  readonly eps: number;
  readonly clip: number;
}

/**
 * The seed's update, element-wise over one flat buffer:
 *   g = clip(grad, -clip, clip);  mem += g^2;  param -= eta * g / sqrt(mem + eps)
 * grad is clipped in place.
 */
export function adagradStep(params: Float64Array, grad: Float64Array, mem: Float64Array, { eta, eps, clip }: AdagradOptions): void {
  for (let i = 0; i < params.length; i++) {
    let g = grad[i];
    if (g > clip) g = clip;
    else if (g < -clip) g = -clip;
    grad[i] = g;
    mem[i] += g * g;
    params[i] -= (eta * g) / Math.sqrt(mem[i] + eps);
  }
}

/**
 * out = the sum of `count` gradient slots of length out.length stored back to back in slots,
 * in slot order so that the result never depends on which thread filled which slot, divided by
 * the number of streams they hold (a slot holds a pair of streams' gradients).
 */
export function averageSlots(slots: FloatArray, count: number, streams: number, out: Float64Array): void {
  const n = out.length;
  out.set(slots.subarray(0, n));
  for (let s = 1; s < count; s++) {
    const base = s * n;
    for (let i = 0; i < n; i++) out[i] += slots[base + i];
  }
  if (streams > 1) for (let i = 0; i < n; i++) out[i] /= streams;
}
