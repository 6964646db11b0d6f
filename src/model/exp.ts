/**
 * The model's exp, shared bit for bit with the WebAssembly kernels (assembly/kernels.ts), which
 * compute it two lanes at a time instead of calling Math.exp once per number. Within 1 ulp of
 * Math.exp; below -708 (where exp leaves the normal range) it returns 0.
 *   x = k ln2 + r, |r| <= ln2 / 2:  exp(x) = 2^k * (the Taylor polynomial of e^r to degree 13)
 */
export function exp(x: number): number {
  if (!(x <= 709.782712893384)) return x > 0 ? Infinity : x; // overflow; NaN stays NaN
  if (x < -708) return 0;
  const k = x * LOG2E + ROUND - ROUND; // round to nearest: ROUND has no bits below 1
  const r = x - k * LN2_HI - k * LN2_LO;
  const p = expPolynomial(r);
  return k <= 1022 ? p * POW2[k + 1022] : p * POW2[k + 1021] * 2; // 2^1024 itself would overflow
}

export const LOG2E = 1.4426950408889634;
export const ROUND = 6755399441055744; // 1.5 * 2^52
export const LN2_HI = 6.9314718036912382e-1; // ln 2 with its last 32 bits zero, so k * LN2_HI is exact
export const LN2_LO = 1.9082149292705877e-10; // ln 2 - LN2_HI

/** 1 + r + r^2/2! + ... + r^13/13!, by Horner's rule; off by less than an ulp for |r| <= ln2 / 2. */
function expPolynomial(r: number): number {
  let p = 1.6059043836821613e-10;
  p = 2.08767569878681e-9 + r * p;
  p = 2.505210838544172e-8 + r * p;
  p = 2.755731922398589e-7 + r * p;
  p = 0.0000027557319223985893 + r * p;
  p = 0.0000248015873015873 + r * p;
  p = 0.0001984126984126984 + r * p;
  p = 0.001388888888888889 + r * p;
  p = 0.008333333333333333 + r * p;
  p = 0.041666666666666664 + r * p;
  p = 0.16666666666666666 + r * p;
  p = 0.5 + r * p;
  p = 1 + r * p;
  return 1 + r * p;
}

/** 2^k for k in [-1022, 1023] at POW2[k + 1022], each exact. */
const POW2 = new Float64Array(2046);
for (let k = 0, up = 1, down = 1; k <= 1022; k++, up *= 2, down /= 2) {
  POW2[1022 + k] = up;
  POW2[1022 - k] = down;
}
POW2[2045] = POW2[2044] * 2;
