// The number type the kernels compute in, and its SIMD operations: float64 here. The float32
// build (assembly/build.mjs) compiles the same kernels with precision-f32.ts in this file's place,
// so that one source serves --dtype float64 and float32 (src/model/precision.ts).
// Lanes run across independent outputs, so every number is computed as the reference computes it.

import { exp, exp2, sigmoid2, tanh, tanh2 } from './cells/math64';

export type real = f64;
/** Bytes of one real, and its log2. */
export const REAL: usize = 8;
export const SHIFT: usize = 3;
/** Reals in a v128. */
export const LANES: i32 = 2;

@inline export function vadd(a: v128, b: v128): v128 { return f64x2.add(a, b); }
@inline export function vsub(a: v128, b: v128): v128 { return f64x2.sub(a, b); }
@inline export function vmul(a: v128, b: v128): v128 { return f64x2.mul(a, b); }
@inline export function vsplat(x: real): v128 { return f64x2.splat(x); }
/** One real at p in every lane. */
@inline export function vbroadcast(p: usize): v128 { return v128.load64_splat(p); }
@inline export function vtanh(x: v128): v128 { return tanh2(x); }
@inline export function vsigmoid(x: v128): v128 { return sigmoid2(x); }
/** exp of every lane, for x <= 0 (the softmax's shifted logits). */
@inline export function vexp(x: v128): v128 { return exp2(x); }
@inline export function rtanh(x: real): real { return tanh(x); }
@inline export function rexp(x: real): real { return exp(x); }

/** total plus the lanes of v, one by one in lane order. */
@inline export function addLanes(total: real, v: v128): real {
  total += f64x2.extract_lane(v, 0);
  total += f64x2.extract_lane(v, 1);
  return total;
}

/** The first n lanes at p (all when n >= LANES), zeros past them: elementwise loops' last entries. */
@inline export function ld(p: usize, n: i32): v128 {
  return n >= 2 ? v128.load(p) : v128.load64_zero(p);
}

/** Stores the first n lanes of v at p (all when n >= LANES). */
@inline export function st(p: usize, v: v128, n: i32): void {
  if (n >= 2) v128.store(p, v);
  else v128.store64_lane(p, v, 0);
}

/** Two reals at p as two float64 lanes: the optimizer reads the gradient slots so. */
@inline export function wide2(p: usize): v128 { return v128.load(p); }
@inline export function wide(p: usize): f64 { return load<f64>(p); }

/** n float64 numbers at src (a stream's carried state, float64 on the host) into reals at dst, and back. */
@inline export function realsFrom64(dst: usize, src: usize, n: i32): void { memory.copy(dst, src, <usize>n << 3); }
@inline export function realsTo64(dst: usize, src: usize, n: i32): void { memory.copy(dst, src, <usize>n << 3); }
