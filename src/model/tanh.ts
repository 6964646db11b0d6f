/**
 * The model's tanh, in the form of Cephes' tanh.c: a rational function of x^2 below 0.625, and
 * 1 - 2 / (exp(2|x|) + 1) above. It stays within 2 ulp of Math.tanh. It exists because the
 * WebAssembly kernels (assembly/kernels.ts) need a tanh whose bits the reference shares: calling
 * Math.tanh from there costs about 40 ns (Math.exp has a fast path), a third of a training
 * step's time, so they compute this same function, with the same operations, instead.
 */
export function tanh(x: number): number {
  const z = Math.abs(x);
  if (z >= 0.625) {
    if (z > 354) return x > 0 ? 1 : -1; // exp(2z) would overflow; tanh is 1 to the last bit long before
    const t = 1 - 2 / (Math.exp(2 * z) + 1);
    return x < 0 ? -t : t;
  }
  if (x === 0) return x; // keeps -0
  const s = x * x;
  const r =
    ((-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3) /
    (((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3);
  return x + x * s * r;
}
