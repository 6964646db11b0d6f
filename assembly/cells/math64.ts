// The model's exp, tanh and sigmoid in float64 (src/model/exp.ts, tanh.ts, cells/sigmoid.ts
// operation for operation), one number or two lanes at a time. The float32 kernels compute them on
// lanes promoted to float64 and round once (assembly/precision-f32.ts), as the reference does.

const LOG2E = 1.4426950408889634;
const ROUND = 6755399441055744.0; // 1.5 * 2^52
const LN2_HI = 6.9314718036912382e-1;
const LN2_LO = 1.9082149292705877e-10;

/** src/model/exp.ts: within 1 ulp of Math.exp, 0 below -708. */
export function exp(x: f64): f64 {
  if (!(x <= 709.782712893384)) return x > 0 ? Infinity : x;
  if (x < -708) return 0;
  const k = x * LOG2E + ROUND - ROUND;
  const r = x - k * LN2_HI - k * LN2_LO;
  const p = expPolynomial(r);
  return k <= 1022 ? p * pow2(k) : p * pow2(k - 1) * 2;
}

@inline function pow2(k: f64): f64 {
  return reinterpret<f64>((<i64>k + 1023) << 52);
}

@inline function expPolynomial(r: f64): f64 {
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

@inline export function splat(x: f64): v128 {
  return f64x2.splat(x);
}

@inline function muladd(c: f64, r: v128, p: v128): v128 {
  return f64x2.add(splat(c), f64x2.mul(r, p));
}

/** exp of both lanes, each exactly as exp() above, for x <= 708 (the kernels never pass more). */
function exp2(x: v128): v128 {
  const low = splat(-708);
  const xc = f64x2.max(x, low); // NaN stays NaN
  const t = f64x2.add(f64x2.mul(xc, splat(LOG2E)), splat(ROUND)); // its low bits hold k
  const k = f64x2.sub(t, splat(ROUND));
  const r = f64x2.sub(f64x2.sub(xc, f64x2.mul(k, splat(LN2_HI))), f64x2.mul(k, splat(LN2_LO)));
  let p = splat(1.6059043836821613e-10);
  p = muladd(2.08767569878681e-9, r, p);
  p = muladd(2.505210838544172e-8, r, p);
  p = muladd(2.755731922398589e-7, r, p);
  p = muladd(0.0000027557319223985893, r, p);
  p = muladd(0.0000248015873015873, r, p);
  p = muladd(0.0001984126984126984, r, p);
  p = muladd(0.001388888888888889, r, p);
  p = muladd(0.008333333333333333, r, p);
  p = muladd(0.041666666666666664, r, p);
  p = muladd(0.16666666666666666, r, p);
  p = muladd(0.5, r, p);
  p = muladd(1, r, p);
  p = muladd(1, r, p);
  const scale = i64x2.add(i64x2.shl(t, 52), i64x2.splat(0x3ff0000000000000)); // 2^k
  return v128.bitselect(splat(0), f64x2.mul(p, scale), f64x2.lt(x, low));
}

/** src/model/tanh.ts: Cephes' form, within 2 ulp of Math.tanh. */
export function tanh(x: f64): f64 {
  const z = Math.abs(x);
  if (z >= 0.625) {
    const t = 1 - 2 / (exp(2 * min(z, 354.0)) + 1);
    return x < 0 ? -t : t;
  }
  if (x == 0) return x;
  const s = x * x;
  const r =
    ((-9.64399179425052238628e-1 * s - 9.92877231001918586564e1) * s - 1.61468768441708447952e3) /
    (((s + 1.12811678491632931402e2) * s + 2.23548839060100448583e3) * s + 4.84406305325125486048e3);
  return x + x * s * r;
}

/** tanh of both lanes, each exactly as tanh() above: the form each lane needs, or both and a choice. */
function tanh2(x: v128): v128 {
  const z = f64x2.abs(x);
  const far = f64x2.ge(z, splat(0.625));
  if (!v128.any_true(far)) return tanhNear(x);
  const e = exp2(f64x2.mul(splat(2), f64x2.min(z, splat(354))));
  const t = f64x2.sub(splat(1), f64x2.div(splat(2), f64x2.add(e, splat(1))));
  const outer = v128.bitselect(f64x2.neg(t), t, f64x2.lt(x, splat(0)));
  if (i64x2.all_true(far)) return outer;
  return v128.bitselect(outer, tanhNear(x), far);
}

/** tanh's rational form for |x| < 0.625, both lanes (0 and -0 pass through). */
function tanhNear(x: v128): v128 {
  const s = f64x2.mul(x, x);
  const num = f64x2.sub(f64x2.mul(f64x2.sub(f64x2.mul(splat(-9.64399179425052238628e-1), s), splat(9.92877231001918586564e1)), s), splat(1.61468768441708447952e3));
  const den = f64x2.add(f64x2.mul(f64x2.add(f64x2.mul(f64x2.add(s, splat(1.12811678491632931402e2)), s), splat(2.23548839060100448583e3)), s), splat(4.84406305325125486048e3));
  const inner = f64x2.add(x, f64x2.mul(f64x2.mul(x, s), f64x2.div(num, den)));
  return v128.bitselect(x, inner, f64x2.eq(x, splat(0)));
}

/** src/model/cells/sigmoid.ts, both lanes: 1 / (1 + exp(-x)); a lane past exp2's range takes exp(). */
function sigmoid2(x: v128): v128 {
  const nx = f64x2.neg(x);
  const one = splat(1);
  if (v128.any_true(f64x2.gt(nx, splat(708)))) {
    const s0 = 1 / (1 + exp(f64x2.extract_lane(nx, 0)));
    const s1 = 1 / (1 + exp(f64x2.extract_lane(nx, 1)));
    return f64x2.replace_lane(f64x2.splat(s0), 1, s1);
  }
  return f64x2.div(one, f64x2.add(one, exp2(nx)));
}

// Listed here rather than marked `export function`: asc warns (AS112) on every exported function
// that takes a v128, although a module other than the entry exports nothing to the host.
export { exp2, tanh2, sigmoid2 };
