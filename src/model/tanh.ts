import { exp } from './exp.js';

/**
 * The model's tanh, in the form of Cephes' tanh.c: a rational function of x^2 below 0.625, and
 * 1 - 2 / (exp(2|x|) + 1) above, with the model's exp (exp.ts). Within 2 ulp of Math.tanh.
 * The WebAssembly kernels compute the same operations, two lanes at a time, so the reference
 * and the kernels agree bit for bit (and Math.tanh, called from WebAssembly, is slow).
 */
export function tanh(x: number): number {
  const z = Math.abs(x);
  if (z >= 0.625) {
    // Beyond 354, exp(2z) would overflow; the formula at 354 already gives 1 exactly.
    const t = 1 - 2 / (exp(2 * Math.min(z, 354)) + 1);
    return x < 0 ? -t : t;
  }
  if (x === 0) return x; // keeps -0
  const s = x * x;
  const r =
    ((-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3) /
    (((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3);
  return x + x * s * r;
}
