// The numerical primitives that every cell's kernels share: the products over packed panels, the
// weight gradients' outer products and the softmax, each number computed in the reference's order,
// in the build's precision (assembly/precision.ts: `real` is f64, or f32 in the float32 build).
// The vanilla RNN's kernels (assembly/kernels.ts) are built in float64 only.

import { LANES, REAL, SHIFT, addLanes, ld, real, rexp, st, vadd, vbroadcast, vexp, vmul, vsplat, vsub } from '../precision';

@external('env', 'log') declare function log(x: f64): f64;

export const F64 = 8;

/** The address of real number `index` of the array at base. */
@inline export function at(base: usize, index: i32): usize {
  return base + (<usize>index << SHIFT);
}

/** The address of float64 number `index`: the master weights, the optimizer's state, the carried states. */
@inline export function at64(base: usize, index: i32): usize {
  return base + (<usize>index << 3);
}

/** Outputs per panel: two vectors of LANES, so that a panel row is 32 bytes in either precision. */
const PANEL: i32 = 2 * LANES;

/**
 * out (n) = init (n) + sum over r < R, in order, of M[r * stride + o] * x[r]; init 0 means zeros,
 * in float64: the vanilla RNN's sampler reads the matrix with the output index contiguous.
 */
export function matvec(out: usize, init: usize, M: usize, stride: i32, x: usize, n: i32, R: i32): void {
  const rowBytes = <usize>stride << 3;
  const zero = f64x2.splat(0);
  let o = 0;
  for (; o + 16 <= n; o += 16) {
    const io = at64(init, o);
    let a0 = init ? v128.load(io) : zero;
    let a1 = init ? v128.load(io, 16) : zero;
    let a2 = init ? v128.load(io, 32) : zero;
    let a3 = init ? v128.load(io, 48) : zero;
    let a4 = init ? v128.load(io, 64) : zero;
    let a5 = init ? v128.load(io, 80) : zero;
    let a6 = init ? v128.load(io, 96) : zero;
    let a7 = init ? v128.load(io, 112) : zero;
    let m = at64(M, o);
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
    const oo = at64(out, o);
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
    const io = at64(init, o);
    let a0 = init ? v128.load(io) : zero;
    let a1 = init ? v128.load(io, 16) : zero;
    let m = at64(M, o);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const s = v128.load64_splat(xp);
      a0 = f64x2.add(a0, f64x2.mul(v128.load(m), s));
      a1 = f64x2.add(a1, f64x2.mul(v128.load(m, 16), s));
      m += rowBytes;
      xp += F64;
    }
    v128.store(at64(out, o), a0);
    v128.store(at64(out, o), a1, 16);
  }
  for (; o < n; o++) {
    let a = init ? load<f64>(at64(init, o)) : 0.0;
    let m = at64(M, o);
    let xp = x;
    for (let r = 0; r < R; r++) {
      a += load<f64>(m) * load<f64>(xp);
      m += rowBytes;
      xp += F64;
    }
    store<f64>(at64(out, o), a);
  }
}

/**
 * Panels: a matrix M (R, n) read as out (n) = init + Σ_r M[r, o] x[r] is packed PANEL outputs at a
 * time (4 in float64, 8 in float32: two vectors), panel b holding its R rows contiguously:
 * panel[b·PANEL·R + PANEL·r + lane] = M[r, PANEL·b + lane] (lanes past n are neither written nor
 * read). A product then streams through memory in order, whatever the matrix's row length; a
 * power-of-two row length had mapped every row of a column block to one cache set.
 */
@inline export function panelEntries(n: i32, R: i32): i32 {
  return ((n + PANEL - 1) / PANEL) * PANEL * R;
}

/**
 * Packs the entries [lo, hi) of the float64 matrix A (rows, cols) at offset `offset` of params into
 * its forward panels, out = A x (M[j, i] = A[i, j]), at fwd, and its backward panels, out = A^T y
 * (M[i, j] = A[i, j]), at bwd, as reals; either offset may be -1 for none.
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
    const v = <real>load<f64>(at64(params, offset + e));
    if (F) store<real>(at(F, (i / PANEL) * PANEL * cols + PANEL * j + (i % PANEL)), v);
    if (B) store<real>(at(B, (j / PANEL) * PANEL * rows + PANEL * i + (j % PANEL)), v);
    if (++j == cols) {
      j = 0;
      i++;
    }
  }
}

/** The reals of params [lo, hi) (float64) at weights: the float32 kernels' copy of the biases they read. */
export function roundWeights(params: usize, weights: usize, lo: i32, hi: i32): void {
  for (let e = lo; e < hi; e++) store<real>(at(weights, e), <real>load<f64>(at64(params, e)));
}

/**
 * out (n) = init (n) + Σ_r M[r, o] x[r] for `count` vectors at once, M in panels: vector s's out,
 * init and x lie at out + s·outGap, init + s·initGap (initGap 0: one init for all; init 0: zeros)
 * and x + s·xGap. Every entry is summed as the reference sums it, init first, then r ascending;
 * each load of a panel serves up to four vectors.
 */
export function product(count: i32, out: usize, outGap: usize, init: usize, initGap: usize, panels: usize, x: usize, xGap: usize, n: i32, R: i32): void {
  const full = n - n % PANEL;
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
      let a: real = i ? load<real>(at(i, k)) : 0;
      let p = at(tail, k - full);
      for (let r = 0; r < R; r++) {
        a += load<real>(p) * load<real>(at(xs, r));
        p += 32;
      }
      store<real>(at(o, k), a);
    }
  }
}

/** product for four vectors over the full panels (outputs below `full`): tiles of one panel by four vectors. */
function product4(out: usize, outGap: usize, init: usize, initGap: usize, panels: usize, x: usize, xGap: usize, full: i32, R: i32): void {
  const zero = vsplat(0);
  let p = panels;
  for (let o = 0; o < full; o += PANEL) {
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
      const sa = vbroadcast(xp);
      a0 = vadd(a0, vmul(v0, sa));
      a1 = vadd(a1, vmul(v1, sa));
      const sb = vbroadcast(xp + xGap);
      b0 = vadd(b0, vmul(v0, sb));
      b1 = vadd(b1, vmul(v1, sb));
      const sc = vbroadcast(xp + 2 * xGap);
      c0 = vadd(c0, vmul(v0, sc));
      c1 = vadd(c1, vmul(v1, sc));
      const sd = vbroadcast(xp + 3 * xGap);
      d0 = vadd(d0, vmul(v0, sd));
      d1 = vadd(d1, vmul(v1, sd));
      p += 32;
      xp += REAL;
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
  const zero = vsplat(0);
  const panelBytes = <usize>R << 5;
  let o = 0;
  for (; o + 2 * PANEL <= full; o += 2 * PANEL) {
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
      const sa = vbroadcast(xp);
      const sb = vbroadcast(xp + xGap);
      a0 = vadd(a0, vmul(v0, sa));
      a1 = vadd(a1, vmul(v1, sa));
      a2 = vadd(a2, vmul(v2, sa));
      a3 = vadd(a3, vmul(v3, sa));
      b0 = vadd(b0, vmul(v0, sb));
      b1 = vadd(b1, vmul(v1, sb));
      b2 = vadd(b2, vmul(v2, sb));
      b3 = vadd(b3, vmul(v3, sb));
      p += 32;
      xp += REAL;
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
    product1(at(out, o), init ? at(init, o) : 0, at(panels, o * R), x, PANEL, R);
    product1(at(out, o) + outGap, init ? at(init, o) + initGap : 0, at(panels, o * R), x + xGap, PANEL, R);
  }
}

/** product for one vector over the full panels: two panels per pass. */
function product1(out: usize, init: usize, panels: usize, x: usize, full: i32, R: i32): void {
  const zero = vsplat(0);
  const panelBytes = <usize>R << 5;
  let o = 0;
  for (; o + 2 * PANEL <= full; o += 2 * PANEL) {
    const i0 = at(init, o);
    let a0 = init ? v128.load(i0) : zero, a1 = init ? v128.load(i0, 16) : zero;
    let a2 = init ? v128.load(i0, 32) : zero, a3 = init ? v128.load(i0, 48) : zero;
    let p = at(panels, o * R);
    let xp = x;
    for (let r = 0; r < R; r++) {
      const sa = vbroadcast(xp);
      a0 = vadd(a0, vmul(v128.load(p), sa));
      a1 = vadd(a1, vmul(v128.load(p, 16), sa));
      a2 = vadd(a2, vmul(v128.load(p + panelBytes), sa));
      a3 = vadd(a3, vmul(v128.load(p + panelBytes, 16), sa));
      p += 32;
      xp += REAL;
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
      const sa = vbroadcast(xp);
      a0 = vadd(a0, vmul(v128.load(p), sa));
      a1 = vadd(a1, vmul(v128.load(p, 16), sa));
      p += 32;
      xp += REAL;
    }
    v128.store(at(out, o), a0);
    v128.store(at(out, o), a1, 16);
  }
}

/** out (n) = init (n) + column j of M (R = its columns), M's forward panels: a one-hot input's product. */
export function panelColumn(out: usize, init: usize, panels: usize, j: i32, n: i32, R: i32): void {
  const full = n - n % PANEL;
  let p = at(panels, PANEL * j);
  const panelBytes = <usize>R << 5;
  let o = 0;
  for (; o < full; o += PANEL) {
    v128.store(at(out, o), vadd(v128.load(at(init, o)), v128.load(p)));
    v128.store(at(out, o), vadd(v128.load(at(init, o), 16), v128.load(p, 16)), 16);
    p += panelBytes;
  }
  for (; o < n; o++) store<real>(at(out, o), load<real>(at(init, o)) + load<real>(at(p, o - full)));
}

/**
 * out (n, m) += A_s[t] (n) outer B_s[t] (m) for the `count` streams s in order, each t from T-1
 * down to 0: each entry adds its terms one by one in that order, as the reference does stream
 * after stream. Stream s's A (T, n) and B (T, m), rows lda and ldb apart, lie gap bytes after
 * stream s-1's. pack (packBytes, stacked.ts): A is copied there two columns at a time and B four
 * vectors' worth of columns, each in the order of the terms, so that the tiles read memory in sequence.
 */
export function outerAddStreams(out: usize, count: i32, A: usize, lda: i32, B: usize, ldb: i32, gap: usize, n: i32, m: i32, T: i32, pack: usize): void {
  const terms = count * T;
  const pairs = n >> 1;
  const packB = at(pack, pairs * 2 * terms);
  for (let q = 0; q < pairs; q++) {
    let d = at(pack, q * 2 * terms);
    for (let s = 0; s < count; s++) {
      for (let t = T - 1; t >= 0; t--) {
        const a = at(A + <usize>s * gap, t * lda + 2 * q);
        store<real>(d, load<real>(a));
        store<real>(d, load<real>(a, REAL), REAL);
        d += 2 * REAL;
      }
    }
  }
  const W = 4 * LANES; // columns per tile: four vectors
  const wide = m - m % W;
  for (let j = 0; j < wide; j += W) {
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
        const s0 = vbroadcast(a);
        const s1 = vbroadcast(a + REAL);
        const v0 = v128.load(b);
        const v1 = v128.load(b, 16);
        const v2 = v128.load(b, 32);
        const v3 = v128.load(b, 48);
        c00 = vadd(c00, vmul(s0, v0));
        c01 = vadd(c01, vmul(s0, v1));
        c02 = vadd(c02, vmul(s0, v2));
        c03 = vadd(c03, vmul(s0, v3));
        c10 = vadd(c10, vmul(s1, v0));
        c11 = vadd(c11, vmul(s1, v1));
        c12 = vadd(c12, vmul(s1, v2));
        c13 = vadd(c13, vmul(s1, v3));
        a += 2 * REAL;
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
  // what the tiles leave: the last row when n is odd, the last columns when m is not a multiple of W
  for (let s = 0; s < count; s++) {
    const As = A + <usize>s * gap;
    const Bs = B + <usize>s * gap;
    if (wide < m) outerAdd(at(out, wide), As, lda, at(Bs, wide), ldb, 2 * pairs, m - wide, T, m);
    if (n & 1) outerAdd(at(out, (n - 1) * m), at(As, n - 1), lda, Bs, ldb, 1, m, T, m);
  }
}

/** The logits out (K) become softmax(out); returns -log of it at y, computed stably, in float64. */
export function softmaxLoss(K: i32, out: usize, y: i32): f64 {
  let max: real = -Infinity;
  for (let k = 0; k < K; k++) {
    const o = load<real>(at(out, k));
    if (o > max) max = o;
  }
  const logitY = load<real>(at(out, y));
  let total: real = 0;
  const maxs = vsplat(max);
  let k = 0;
  for (; k + LANES <= K; k += LANES) {
    const e = vexp(vsub(v128.load(at(out, k)), maxs));
    v128.store(at(out, k), e);
    total = addLanes(total, e);
  }
  for (; k < K; k++) {
    const e = rexp(load<real>(at(out, k)) - max);
    store<real>(at(out, k), e);
    total += e;
  }
  const inv: real = 1 / total;
  const invs = vsplat(inv);
  k = 0;
  for (; k + LANES <= K; k += LANES) v128.store(at(out, k), vmul(v128.load(at(out, k)), invs));
  for (; k < K; k++) store<real>(at(out, k), load<real>(at(out, k)) * inv);
  return log(<f64>total) - <f64>(logitY - max);
}

@inline export function idAt(ids: usize, t: i32): i32 {
  return load<i32>(ids + (<usize>t << 2));
}

/**
 * out (n, m), rows ldo apart, += A[t] (n) outer B[t] (m) for t from T-1 down to 0, with A (T, n)
 * and B (T, m) read at row strides lda and ldb, each entry adding its terms in that order: the
 * edges that outerAddStreams's tiles leave (one row, or fewer than a tile's columns), a vector of
 * columns at a time.
 */
function outerAdd(out: usize, A: usize, lda: i32, B: usize, ldb: i32, n: i32, m: i32, T: i32, ldo: i32): void {
  const aRow = <usize>lda << SHIFT;
  const bRow = <usize>ldb << SHIFT;
  for (let i = 0; i < n; i++) {
    const row = at(out, i * ldo);
    for (let j = 0; j < m; j += LANES) {
      const lanes = m - j;
      let c = ld(at(row, j), lanes);
      let a = at(A, (T - 1) * lda + i);
      let b = at(B, (T - 1) * ldb + j);
      for (let t = T - 1; t >= 0; t--) {
        c = vadd(c, vmul(vbroadcast(a), ld(b, lanes)));
        a -= aRow;
        b -= bRow;
      }
      st(at(row, j), c, lanes);
    }
  }
}

/** out (n) += A[t] (n) for t from T-1 down to 0, A (T, n) at row stride lda: a bias's gradient, in BPTT's order. */
export function rowsAdd(out: usize, A: usize, lda: i32, n: i32, T: i32): void {
  for (let j = 0; j < n; j += LANES) {
    const lanes = n - j;
    let s = ld(at(out, j), lanes);
    for (let t = T - 1; t >= 0; t--) s = vadd(s, ld(at(A, t * lda + j), lanes));
    st(at(out, j), s, lanes);
  }
}
