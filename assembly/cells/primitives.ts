// The numerical primitives that the gated cells' kernels share: the model's exp, tanh and sigmoid
// (src/model/exp.ts, tanh.ts, cells/sigmoid.ts operation for operation, also two lanes at a time),
// the matrix-vector products and the softmax, each number computed in the reference's order.
// The vanilla RNN's kernels (assembly/kernels.ts) use them too: one copy for every cell.

@external('env', 'log') declare function log(x: f64): f64;

export const F64 = 8;

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

@inline export function at(base: usize, index: i32): usize {
  return base + (<usize>index << 3);
}

/**
 * out (n) = init (n) + sum over r < R, in order, of M[r * stride + o] * x[r]; init 0 means zeros.
 * Serves every matrix-vector product: the matrix is read with the output index contiguous.
 */
export function matvec(out: usize, init: usize, M: usize, stride: i32, x: usize, n: i32, R: i32): void {
  const rowBytes = <usize>stride << 3;
  const zero = f64x2.splat(0);
  let o = 0;
  for (; o + 16 <= n; o += 16) {
    const io = at(init, o);
    let a0 = init ? v128.load(io) : zero;
    let a1 = init ? v128.load(io, 16) : zero;
    let a2 = init ? v128.load(io, 32) : zero;
    let a3 = init ? v128.load(io, 48) : zero;
    let a4 = init ? v128.load(io, 64) : zero;
    let a5 = init ? v128.load(io, 80) : zero;
    let a6 = init ? v128.load(io, 96) : zero;
    let a7 = init ? v128.load(io, 112) : zero;
    let m = at(M, o);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const s = v128.load64_splat(xp);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(m), s));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(m, 16), s));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(m, 32), s));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(m, 48), s));
      a4 = f64x2.add(a4, f64x2.mul(v128.load(m, 64), s));
      a5 = f64x2.add(a5, f64x2.mul(v128.load(m, 80), s));
      a6 = f64x2.add(a6, f64x2.mul(v128.load(m, 96), s));
      a7 = f64x2.add(a7, f64x2.mul(v128.load(m, 112), s));
      m += rowBytes;
      xp += F64;
    }
    const oo = at(out, o);
    v128.store(oo, a0);
    v128.store(oo, a1, 16);
    v128.store(oo, a2, 32);
    v128.store(oo, a3, 48);
    v128.store(oo, a4, 64);
    v128.store(oo, a5, 80);
    v128.store(oo, a6, 96);
    v128.store(oo, a7, 112);
  }
  for (; o + 4 <= n; o += 4) {
    const io = at(init, o);
    let a0 = init ? v128.load(io) : zero;
    let a1 = init ? v128.load(io, 16) : zero;
    let m = at(M, o);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const s = v128.load64_splat(xp);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(m), s));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(m, 16), s));
      m += rowBytes;
      xp += F64;
    }
    v128.store(at(out, o), a0);
    v128.store(at(out, o), a1, 16);
  }
  for (; o < n; o++) {
    let a = init ? load<f64>(at(init, o)) : 0.0;
    let m = at(M, o);
    let xp = x;
    for (let r = 0; r < R; r++) {
      a += load<f64>(m) * load<f64>(xp);
      m += rowBytes;
      xp += F64;
    }
    store<f64>(at(out, o), a);
  }
}

/**
 * Panels: a matrix M (R, n) read as out (n) = init + Σ_r M[r, o] x[r] is packed four outputs at a
 * time, panel b holding its R rows of four contiguously: panel[b·4R + 4r + lane] = M[r, 4b + lane]
 * (lanes past n are neither written nor read). A product then streams through memory in order, whatever the matrix's row length;
 * a power-of-two row length had mapped every row of a column block to one cache set.
 */
@inline export function panelEntries(n: i32, R: i32): i32 {
  return ((n + 3) >> 2) * 4 * R;
}

/**
 * Packs the entries [lo, hi) of the matrix A (rows, cols) at float offset `offset` of params into
 * its forward panels, out = A x (M[j, i] = A[i, j]), at fwd, and its backward panels, out = A^T y
 * (M[i, j] = A[i, j]), at bwd; either offset may be -1 for none.
 */
export function packMatrix(params: usize, packed: usize, offset: i32, rows: i32, cols: i32, fwd: i32, bwd: i32, lo: i32, hi: i32): void {
  const first = max(lo, offset) - offset;
  const end = min(hi, offset + rows * cols) - offset;
  if (first >= end) return;
  const F = fwd >= 0 ? at(packed, fwd) : 0;
  const B = bwd >= 0 ? at(packed, bwd) : 0;
  let i = first / cols;
  let j = first - i * cols;
  for (let e = first; e < end; e++) {
    const v = load<f64>(at(params, offset + e));
    if (F) store<f64>(at(F, (i >> 2) * 4 * cols + 4 * j + (i & 3)), v);
    if (B) store<f64>(at(B, (j >> 2) * 4 * rows + 4 * i + (j & 3)), v);
    if (++j == cols) {
      j = 0;
      i++;
    }
  }
}

/**
 * out (n) = init (n) + Σ_r M[r, o] x[r] for `count` vectors at once, M in panels: vector s's out,
 * init and x lie at out + s·outGap, init + s·initGap (initGap 0: one init for all; init 0: zeros)
 * and x + s·xGap. Every entry is summed as matvec sums it, init first, then r ascending; each
 * load of a panel serves up to four vectors.
 */
export function product(count: i32, out: usize, outGap: usize, init: usize, initGap: usize, panels: usize, x: usize, xGap: usize, n: i32, R: i32): void {
  const full = n & ~3;
  let s = 0;
  for (; s + 4 <= count; s += 4) product4(out + <usize>s * outGap, outGap, init ? init + <usize>s * initGap : 0, initGap, panels, x + <usize>s * xGap, xGap, full, R);
  if (s + 2 <= count) {
    product2(out + <usize>s * outGap, outGap, init ? init + <usize>s * initGap : 0, initGap, panels, x + <usize>s * xGap, xGap, full, R);
    s += 2;
  }
  if (s < count) product1(out + <usize>s * outGap, init ? init + <usize>s * initGap : 0, panels, x + <usize>s * xGap, full, R);
  if (full == n) return;
  const tail = at(panels, full * R);
  for (s = 0; s < count; s++) {
    const o = out + <usize>s * outGap;
    const i = init ? init + <usize>s * initGap : 0;
    const xs = x + <usize>s * xGap;
    for (let k = full; k < n; k++) {
      let a = i ? load<f64>(at(i, k)) : 0.0;
      let p = at(tail, k - full);
      for (let r = 0; r < R; r++) {
        a += load<f64>(p) * load<f64>(at(xs, r));
        p += 32;
      }
      store<f64>(at(o, k), a);
    }
  }
}

/** product for four vectors over the full panels (outputs below `full`): tiles of four outputs by four vectors. */
function product4(out: usize, outGap: usize, init: usize, initGap: usize, panels: usize, x: usize, xGap: usize, full: i32, R: i32): void {
  const zero = f64x2.splat(0);
  let p = panels;
  for (let o = 0; o < full; o += 4) {
    const i0 = at(init, o);
    const i1 = i0 + initGap;
    const i2 = i1 + initGap;
    const i3 = i2 + initGap;
    let a0 = init ? v128.load(i0) : zero, a1 = init ? v128.load(i0, 16) : zero;
    let b0 = init ? v128.load(i1) : zero, b1 = init ? v128.load(i1, 16) : zero;
    let c0 = init ? v128.load(i2) : zero, c1 = init ? v128.load(i2, 16) : zero;
    let d0 = init ? v128.load(i3) : zero, d1 = init ? v128.load(i3, 16) : zero;
    let xp = x;
    for (let r = 0; r < R; r++) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      const sa = v128.load64_splat(xp);
      a0 = f64x2.add(a0, f64x2.mul(v0, sa));
      a1 = f64x2.add(a1, f64x2.mul(v1, sa));
      const sb = v128.load64_splat(xp + xGap);
      b0 = f64x2.add(b0, f64x2.mul(v0, sb));
      b1 = f64x2.add(b1, f64x2.mul(v1, sb));
      const sc = v128.load64_splat(xp + 2 * xGap);
      c0 = f64x2.add(c0, f64x2.mul(v0, sc));
      c1 = f64x2.add(c1, f64x2.mul(v1, sc));
      const sd = v128.load64_splat(xp + 3 * xGap);
      d0 = f64x2.add(d0, f64x2.mul(v0, sd));
      d1 = f64x2.add(d1, f64x2.mul(v1, sd));
      p += 32;
      xp += F64;
    }
    const q = at(out, o);
    v128.store(q, a0);
    v128.store(q, a1, 16);
    v128.store(q + outGap, b0);
    v128.store(q + outGap, b1, 16);
    v128.store(q + 2 * outGap, c0);
    v128.store(q + 2 * outGap, c1, 16);
    v128.store(q + 3 * outGap, d0);
    v128.store(q + 3 * outGap, d1, 16);
  }
}

/** product for two vectors over the full panels: two panels by two vectors per pass. */
function product2(out: usize, outGap: usize, init: usize, initGap: usize, panels: usize, x: usize, xGap: usize, full: i32, R: i32): void {
  const zero = f64x2.splat(0);
  const panelBytes = <usize>R << 5;
  let o = 0;
  for (; o + 8 <= full; o += 8) {
    const i0 = at(init, o);
    const i1 = i0 + initGap;
    let a0 = init ? v128.load(i0) : zero, a1 = init ? v128.load(i0, 16) : zero;
    let a2 = init ? v128.load(i0, 32) : zero, a3 = init ? v128.load(i0, 48) : zero;
    let b0 = init ? v128.load(i1) : zero, b1 = init ? v128.load(i1, 16) : zero;
    let b2 = init ? v128.load(i1, 32) : zero, b3 = init ? v128.load(i1, 48) : zero;
    let p = at(panels, o * R);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const v0 = v128.load(p);
      const v1 = v128.load(p, 16);
      const v2 = v128.load(p + panelBytes);
      const v3 = v128.load(p + panelBytes, 16);
      const sa = v128.load64_splat(xp);
      const sb = v128.load64_splat(xp + xGap);
      a0 = f64x2.add(a0, f64x2.mul(v0, sa));
      a1 = f64x2.add(a1, f64x2.mul(v1, sa));
      a2 = f64x2.add(a2, f64x2.mul(v2, sa));
      a3 = f64x2.add(a3, f64x2.mul(v3, sa));
      b0 = f64x2.add(b0, f64x2.mul(v0, sb));
      b1 = f64x2.add(b1, f64x2.mul(v1, sb));
      b2 = f64x2.add(b2, f64x2.mul(v2, sb));
      b3 = f64x2.add(b3, f64x2.mul(v3, sb));
      p += 32;
      xp += F64;
    }
    const q = at(out, o);
    v128.store(q, a0);
    v128.store(q, a1, 16);
    v128.store(q, a2, 32);
    v128.store(q, a3, 48);
    v128.store(q + outGap, b0);
    v128.store(q + outGap, b1, 16);
    v128.store(q + outGap, b2, 32);
    v128.store(q + outGap, b3, 48);
  }
  if (o < full) {
    product1(at(out, o), init ? at(init, o) : 0, at(panels, o * R), x, 4, R);
    product1(at(out, o) + outGap, init ? at(init, o) + initGap : 0, at(panels, o * R), x + xGap, 4, R);
  }
}

/** product for one vector over the full panels: two panels per pass. */
function product1(out: usize, init: usize, panels: usize, x: usize, full: i32, R: i32): void {
  const zero = f64x2.splat(0);
  const panelBytes = <usize>R << 5;
  let o = 0;
  for (; o + 8 <= full; o += 8) {
    const i0 = at(init, o);
    let a0 = init ? v128.load(i0) : zero, a1 = init ? v128.load(i0, 16) : zero;
    let a2 = init ? v128.load(i0, 32) : zero, a3 = init ? v128.load(i0, 48) : zero;
    let p = at(panels, o * R);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const sa = v128.load64_splat(xp);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(p), sa));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(p, 16), sa));
      a2 = f64x2.add(a2, f64x2.mul(v128.load(p + panelBytes), sa));
      a3 = f64x2.add(a3, f64x2.mul(v128.load(p + panelBytes, 16), sa));
      p += 32;
      xp += F64;
    }
    const q = at(out, o);
    v128.store(q, a0);
    v128.store(q, a1, 16);
    v128.store(q, a2, 32);
    v128.store(q, a3, 48);
  }
  if (o < full) {
    const i0 = at(init, o);
    let a0 = init ? v128.load(i0) : zero, a1 = init ? v128.load(i0, 16) : zero;
    let p = at(panels, o * R);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const sa = v128.load64_splat(xp);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(p), sa));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(p, 16), sa));
      p += 32;
      xp += F64;
    }
    v128.store(at(out, o), a0);
    v128.store(at(out, o), a1, 16);
  }
}

/** out (n) = init (n) + column j of M (R = its columns), M's forward panels: a one-hot input's product. */
export function panelColumn(out: usize, init: usize, panels: usize, j: i32, n: i32, R: i32): void {
  const full = n & ~3;
  let p = at(panels, 4 * j);
  const panelBytes = <usize>R << 5;
  let o = 0;
  for (; o < full; o += 4) {
    v128.store(at(out, o), f64x2.add(v128.load(at(init, o)), v128.load(p)));
    v128.store(at(out, o), f64x2.add(v128.load(at(init, o), 16), v128.load(p, 16)), 16);
    p += panelBytes;
  }
  for (; o < n; o++) store<f64>(at(out, o), load<f64>(at(init, o)) + load<f64>(at(p, o - full)));
}

/**
 * out (n, m) += A_s[t] (n) outer B_s[t] (m) for the `count` streams s in order, each t from T-1
 * down to 0: each entry adds its terms one by one in that order, as the reference does stream
 * after stream. Stream s's A (T, n) and B (T, m), rows lda and ldb apart, lie gap bytes after
 * stream s-1's. pack holds count·T·(n + 8) float64: A is copied there two columns at a time and
 * B eight, each in the order of the terms, so that the tiles read memory in sequence.
 */
export function outerAddStreams(out: usize, count: i32, A: usize, lda: i32, B: usize, ldb: i32, gap: usize, n: i32, m: i32, T: i32, pack: usize): void {
  const terms = count * T;
  const pairs = n >> 1;
  const packB = at(pack, pairs * 2 * terms);
  for (let q = 0; q < pairs; q++) {
    let d = at(pack, q * 2 * terms);
    for (let s = 0; s < count; s++) {
      for (let t = T - 1; t >= 0; t--) {
        v128.store(d, v128.load(at(A + <usize>s * gap, t * lda + 2 * q)));
        d += 16;
      }
    }
  }
  const wide = m & ~7;
  for (let j = 0; j < wide; j += 8) {
    let d = packB;
    for (let s = 0; s < count; s++) {
      for (let t = T - 1; t >= 0; t--) {
        const b = at(B + <usize>s * gap, t * ldb + j);
        v128.store(d, v128.load(b));
        v128.store(d, v128.load(b, 16), 16);
        v128.store(d, v128.load(b, 32), 32);
        v128.store(d, v128.load(b, 48), 48);
        d += 64;
      }
    }
    for (let q = 0; q < pairs; q++) {
      const p0 = at(out, 2 * q * m + j);
      const p1 = at(out, (2 * q + 1) * m + j);
      let c00 = v128.load(p0), c01 = v128.load(p0, 16), c02 = v128.load(p0, 32), c03 = v128.load(p0, 48);
      let c10 = v128.load(p1), c11 = v128.load(p1, 16), c12 = v128.load(p1, 32), c13 = v128.load(p1, 48);
      let a = at(pack, q * 2 * terms);
      let b = packB;
      for (let k = 0; k < terms; k++) {
        const s0 = v128.load64_splat(a);
        const s1 = v128.load64_splat(a, 8);
        const v0 = v128.load(b);
        const v1 = v128.load(b, 16);
        const v2 = v128.load(b, 32);
        const v3 = v128.load(b, 48);
        c00 = f64x2.add(c00, f64x2.mul(s0, v0));
        c01 = f64x2.add(c01, f64x2.mul(s0, v1));
        c02 = f64x2.add(c02, f64x2.mul(s0, v2));
        c03 = f64x2.add(c03, f64x2.mul(s0, v3));
        c10 = f64x2.add(c10, f64x2.mul(s1, v0));
        c11 = f64x2.add(c11, f64x2.mul(s1, v1));
        c12 = f64x2.add(c12, f64x2.mul(s1, v2));
        c13 = f64x2.add(c13, f64x2.mul(s1, v3));
        a += 16;
        b += 64;
      }
      v128.store(p0, c00);
      v128.store(p0, c01, 16);
      v128.store(p0, c02, 32);
      v128.store(p0, c03, 48);
      v128.store(p1, c10);
      v128.store(p1, c11, 16);
      v128.store(p1, c12, 32);
      v128.store(p1, c13, 48);
    }
  }
  // what the tiles leave: the last row when n is odd, the last columns when m is not a multiple of 8
  for (let s = 0; s < count; s++) {
    const As = A + <usize>s * gap;
    const Bs = B + <usize>s * gap;
    if (wide < m) outerAdd(at(out, wide), As, lda, at(Bs, wide), ldb, 2 * pairs, m - wide, T, m);
    if (n & 1) outerAdd(at(out, (n - 1) * m), at(As, n - 1), lda, Bs, ldb, 1, m, T, m);
  }
}

/** The logits out (K) become softmax(out); returns -log of it at y, computed stably. */
export function softmaxLoss(K: i32, out: usize, y: i32): f64 {
  let max = -Infinity;
  for (let k = 0; k < K; k++) {
    const o = load<f64>(at(out, k));
    if (o > max) max = o;
  }
  const logitY = load<f64>(at(out, y));
  let total = 0.0;
  const maxs = splat(max);
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    const e = exp2(f64x2.sub(v128.load(at(out, k)), maxs));
    v128.store(at(out, k), e);
    total += f64x2.extract_lane(e, 0);
    total += f64x2.extract_lane(e, 1);
  }
  for (; k < K; k++) {
    const e = exp(load<f64>(at(out, k)) - max);
    store<f64>(at(out, k), e);
    total += e;
  }
  const inv = 1 / total;
  const invs = f64x2.splat(inv);
  k = 0;
  for (; k + 2 <= K; k += 2) v128.store(at(out, k), f64x2.mul(v128.load(at(out, k)), invs));
  for (; k < K; k++) store<f64>(at(out, k), load<f64>(at(out, k)) * inv);
  return log(total) - (logitY - max);
}

@inline export function idAt(ids: usize, t: i32): i32 {
  return load<i32>(ids + (<usize>t << 2));
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

/**
 * Elementwise loops go two entries at a time; an odd last entry runs alone in lane 0 (lane 1
 * loads 0 and is never stored), so one formula serves both and each entry is computed alike.
 */
@inline export function ld(p: usize, two: bool): v128 {
  return two ? v128.load(p) : v128.load64_zero(p);
}

@inline export function st(p: usize, v: v128, two: bool): void {
  if (two) v128.store(p, v);
  else v128.store64_lane(p, v, 0);
}

/**
 * out (n, m), rows ldo apart, += A[t] (n) outer B[t] (m) for t from T-1 down to 0, with A (T, n)
 * and B (T, m) read at row strides lda and ldb, each entry adding its terms in that order: the
 * edges that outerAddStreams's tiles leave (one row, or fewer than eight columns), two columns a
 * lane pair.
 */
function outerAdd(out: usize, A: usize, lda: i32, B: usize, ldb: i32, n: i32, m: i32, T: i32, ldo: i32): void {
  const aRow = <usize>lda << 3;
  const bRow = <usize>ldb << 3;
  for (let i = 0; i < n; i++) {
    const row = at(out, i * ldo);
    for (let j = 0; j < m; j += 2) {
      const two = j + 2 <= m;
      let c = ld(at(row, j), two);
      let a = at(A, (T - 1) * lda + i);
      let b = at(B, (T - 1) * ldb + j);
      for (let t = T - 1; t >= 0; t--) {
        c = f64x2.add(c, f64x2.mul(v128.load64_splat(a), ld(b, two)));
        a -= aRow;
        b -= bRow;
      }
      st(at(row, j), c, two);
    }
  }
}

/** out (n) += A[t] (n) for t from T-1 down to 0, A (T, n) at row stride lda: a bias's gradient, in BPTT's order. */
export function rowsAdd(out: usize, A: usize, lda: i32, n: i32, T: i32): void {
  for (let j = 0; j < n; j += 2) {
    const two = j + 2 <= n;
    let s = ld(at(out, j), two);
    for (let t = T - 1; t >= 0; t--) s = f64x2.add(s, ld(at(A, t * lda + j), two));
    st(at(out, j), s, two);
  }
}

// Listed here rather than marked `export function`: asc warns (AS112) on every exported function
// that takes a v128, although a module other than the entry exports nothing to the host.
export { exp2, tanh2, sigmoid2 };
