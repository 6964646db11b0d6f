// assembly/precision.ts for float32: the build puts this file in its place (assembly/build.mjs).
// exp, tanh and sigmoid run on lanes promoted to float64 and are rounded once, so each equals the
// reference's Math.fround(f(x)) with f the float64 function (src/model/precision.ts).

import { exp, exp2, sigmoid2, tanh, tanh2 } from './cells/math64';

export type real = f32;
export const REAL: usize = 4;
export const SHIFT: usize = 2;
export const LANES: i32 = 4;

@inline export function vadd(a: v128, b: v128): v128 { return f32x4.add(a, b); }
@inline export function vsub(a: v128, b: v128): v128 { return f32x4.sub(a, b); }
@inline export function vmul(a: v128, b: v128): v128 { return f32x4.mul(a, b); }
@inline export function vsplat(x: real): v128 { return f32x4.splat(x); }
@inline export function vbroadcast(p: usize): v128 { return v128.load32_splat(p); }

/** f applied to the four lanes in two float64 halves, each rounded once to float32. */
@inline function viaF64(x: v128, which: i32): v128 {
  const lo = f64x2.promote_low_f32x4(x);
  const hi = f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 2, 3));
  const a = f32x4.demote_f64x2_zero(which == 0 ? tanh2(lo) : which == 1 ? sigmoid2(lo) : exp2(lo));
  const b = f32x4.demote_f64x2_zero(which == 0 ? tanh2(hi) : which == 1 ? sigmoid2(hi) : exp2(hi));
  return v128.shuffle<f32>(a, b, 0, 1, 4, 5);
}

@inline export function vtanh(x: v128): v128 { return viaF64(x, 0); }
@inline export function vsigmoid(x: v128): v128 { return viaF64(x, 1); }
@inline export function vexp(x: v128): v128 { return viaF64(x, 2); }
@inline export function rtanh(x: real): real { return <f32>tanh(<f64>x); }
@inline export function rexp(x: real): real { return <f32>exp(<f64>x); }

@inline export function addLanes(total: real, v: v128): real {
  total += f32x4.extract_lane(v, 0);
  total += f32x4.extract_lane(v, 1);
  total += f32x4.extract_lane(v, 2);
  total += f32x4.extract_lane(v, 3);
  return total;
}

@inline export function ld(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  if (n == 1) return v128.load32_zero(p);
  const two = v128.load64_zero(p);
  return n == 2 ? two : f32x4.replace_lane(two, 2, load<f32>(p, 8));
}

@inline export function st(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  if (n == 1) {
    v128.store32_lane(p, v, 0);
    return;
  }
  v128.store64_lane(p, v, 0);
  if (n == 3) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

@inline export function wide2(p: usize): v128 { return f64x2.promote_low_f32x4(v128.load64_zero(p)); }
@inline export function wide(p: usize): f64 { return <f64>load<f32>(p); }

@inline export function realsFrom64(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f32>(dst + (<usize>i << 2), <f32>load<f64>(src + (<usize>i << 3)));
}

@inline export function realsTo64(dst: usize, src: usize, n: i32): void {
  for (let i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), <f64>load<f32>(src + (<usize>i << 2)));
}
