// The training, evaluation and sampling hot loops, compiled to WebAssembly SIMD by AssemblyScript.
//
// Every kernel does the same float64 operations in the same order as the reference in
// src/model/rnn.ts and src/model/adagrad.ts, so the results are bit-identical to it: SIMD lanes
// run across independent outputs, never across a sum. exp and tanh are src/model/exp.ts and
// tanh.ts operation for operation, also two lanes at a time (assembly/cells/primitives.ts, which
// the gated cells' kernels share); log is the host's Math.log, imported.
// Pointers are byte offsets into the one imported (shared) memory; every array is float64 except
// `ids`, which are int32. Shapes are row-major.
// Tensors are found through `offs`, an int32 table the host fills from the layout table
// (src/model/cells/rnn-cell.ts kernelOffsets): entries W, U, V, b, c below, each an offset in
// float64s from the start of params, of grad, and of paramsT, which holds each matrix transposed
// at the matrix's own offset: W^T (H,H), U^T (K,H), V^T (H,K).

import { at, F64, idAt, matvec, matvec2, packMatrix, softmaxLoss, splat, tanh, tanh2 } from './cells/primitives';
import { tensor } from './cells/stacked';

const W_ = 0;
const U_ = 1;
const V_ = 2;
const B_ = 3;
const C_ = 4;

/** Where AssemblyScript's static data ends: the host places its buffers above this. */
export function heapBase(): usize {
  return __heap_base;
}

/** matvec for the host (sampling): out = init + M x, M read with the output index contiguous. */
export function matVec(out: usize, init: usize, M: usize, stride: i32, x: usize, n: i32, R: i32): void {
  matvec(out, init, M, stride, x, n, R);
}

/**
 * out (n, m) = sum over t from T-1 down to 0 of A[t] (n) outer B[t] (m), with A (T, n) and
 * B (T, m) read at row strides lda and ldb: BPTT's weight gradients, in BPTT's order. With two
 * sources, the sum goes on over a second A and B, `gap` bytes further on, in the same order.
 */
function outerSum(out: usize, A: usize, lda: i32, B: usize, ldb: i32, n: i32, m: i32, T: i32, gap: usize, sources: i32): void {
  const aRow = <usize>lda << 3;
  const bRow = <usize>ldb << 3;
  const zero = f64x2.splat(0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const o0 = at(out, i * m);
    const o1 = at(out, (i + 1) * m);
    let j = 0;
    for (; j + 8 <= m; j += 8) {
      let c00 = zero, c01 = zero, c02 = zero, c03 = zero;
      let c10 = zero, c11 = zero, c12 = zero, c13 = zero;
      for (let src = 0; src < sources; src++) {
        let a = at(A, (T - 1) * lda + i) + <usize>src * gap;
        let b = at(B, (T - 1) * ldb + j) + <usize>src * gap;
        for (let t = T - 1; t >= 0; t--) {
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
          a -= aRow;
          b -= bRow;
        }
      }
      const p0 = at(o0, j);
      const p1 = at(o1, j);
      v128.store(p0, c00);
      v128.store(p0, c01, 16);
      v128.store(p0, c02, 32);
      v128.store(p0, c03, 48);
      v128.store(p1, c10);
      v128.store(p1, c11, 16);
      v128.store(p1, c12, 32);
      v128.store(p1, c13, 48);
    }
    for (; j < m; j++) {
      let c0 = 0.0, c1 = 0.0;
      for (let src = 0; src < sources; src++) {
        let a = at(A, (T - 1) * lda + i) + <usize>src * gap;
        let b = at(B, (T - 1) * ldb + j) + <usize>src * gap;
        for (let t = T - 1; t >= 0; t--) {
          const v = load<f64>(b);
          c0 += load<f64>(a) * v;
          c1 += load<f64>(a, 8) * v;
          a -= aRow;
          b -= bRow;
        }
      }
      store<f64>(at(o0, j), c0);
      store<f64>(at(o1, j), c1);
    }
  }
  for (; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let c = 0.0;
      for (let src = 0; src < sources; src++) {
        const g = <usize>src * gap;
        for (let t = T - 1; t >= 0; t--) c += load<f64>(at(A, t * lda + i) + g) * load<f64>(at(B, t * ldb + j) + g);
      }
      store<f64>(at(out, i * m + j), c);
    }
  }
}

/** pre (H) = b + U[:, x], reading column x of U as row x of UT (K,H). */
function inputPlusBias(H: i32, UT: usize, b: usize, x: i32, pre: usize): void {
  const u = at(UT, x * H);
  let i = 0;
  for (; i + 2 <= H; i += 2) v128.store(at(pre, i), f64x2.add(v128.load(at(b, i)), v128.load(at(u, i))));
  for (; i < H; i++) store<f64>(at(pre, i), load<f64>(at(b, i)) + load<f64>(at(u, i)));
}

function tanhInPlace(h: usize, H: i32): void {
  let i = 0;
  for (; i + 2 <= H; i += 2) v128.store(at(h, i), tanh2(v128.load(at(h, i))));
  for (; i < H; i++) store<f64>(at(h, i), tanh(load<f64>(at(h, i))));
}

/** hOut (H) = tanh(W hPrev + U[:, x] + b), with WT = W^T (H,H) and UT = U^T (K,H); pre (H) is scratch. */
function hiddenStep(H: i32, WT: usize, UT: usize, b: usize, x: i32, hPrev: usize, hOut: usize, pre: usize): void {
  inputPlusBias(H, UT, b, x, pre);
  matvec(hOut, pre, WT, H, hPrev, H, H);
  tanhInPlace(hOut, H);
}

/** Bytes of scratch one stream needs in trainStreams: hs (T+1,H), ps (T,K), da (T,H), dh, dhNext, pre (H each). */
export function trainScratchBytes(H: i32, K: i32, T: i32): i32 {
  return ((T + 1) * H + T * K + T * H + 3 * H) * F64;
}

@inline function psOf(scratch: usize, H: i32, T: i32): usize {
  return at(scratch, (T + 1) * H);
}
@inline function daOf(scratch: usize, H: i32, K: i32, T: i32): usize {
  return at(scratch, (T + 1) * H + T * K);
}
@inline function dhOf(scratch: usize, H: i32, K: i32, T: i32): usize {
  return at(scratch, (T + 1) * H + T * K + T * H);
}

/** out (n) = the sum of the T rows of A (T, n), from the last row to the first; then of a second A `gap` bytes on. */
function sumRows(out: usize, A: usize, n: i32, T: i32, gap: usize, sources: i32): void {
  let j = 0;
  for (; j + 2 <= n; j += 2) {
    let s = splat(0);
    for (let src = 0; src < sources; src++) {
      for (let t = T - 1; t >= 0; t--) s = f64x2.add(s, v128.load(at(A, t * n + j) + <usize>src * gap));
    }
    v128.store(at(out, j), s);
  }
  for (; j < n; j++) {
    let s = 0.0;
    for (let src = 0; src < sources; src++) {
      for (let t = T - 1; t >= 0; t--) s += load<f64>(at(A, t * n + j) + <usize>src * gap);
    }
    store<f64>(at(out, j), s);
  }
}

/** da (H) = (dy + dhNext) * (1 - h^2): dh from the output and from step t+1, back through h = tanh(a). */
function tanhBackward(da: usize, dy: usize, dhNext: usize, h: usize, H: i32): void {
  const one = splat(1);
  let i = 0;
  for (; i + 2 <= H; i += 2) {
    const u = v128.load(at(h, i));
    const dh = f64x2.add(v128.load(at(dy, i)), v128.load(at(dhNext, i)));
    v128.store(at(da, i), f64x2.mul(dh, f64x2.sub(one, f64x2.mul(u, u))));
  }
  for (; i < H; i++) {
    const u = load<f64>(at(h, i));
    store<f64>(at(da, i), (load<f64>(at(dy, i)) + load<f64>(at(dhNext, i))) * (1 - u * u));
  }
}

/**
 * The gradient of a pair of sequences (of one, when two is false) from their activations, as the
 * reference adds them into one buffer, stream 0 first: dc = sum dy, db = sum da,
 * dU[:, x_t] += da_t, dV = sum dy h^T, dW = sum da h_prev^T, each stream's terms from t = T-1
 * down to 0. Overwrites grad (P). Stream 1's scratch lies `s1 - s0` bytes after stream 0's.
 */
function writeGradient(H: i32, K: i32, T: i32, offs: usize, ids0: usize, ids1: usize, grad: usize, s0: usize, s1: usize, two: bool): void {
  const dU = tensor(grad, offs, U_);
  const dV = tensor(grad, offs, V_);
  const db = tensor(grad, offs, B_);
  const dc = tensor(grad, offs, C_);
  const gap = s1 - s0;
  const sources = two ? 2 : 1;
  const ps = psOf(s0, H, T);
  const da = daOf(s0, H, K, T);
  sumRows(dc, ps, K, T, gap, sources);
  sumRows(db, da, H, T, gap, sources);
  memory.fill(dU, 0, <usize>(H * K) << 3);
  for (let src = 0; src < sources; src++) {
    const ids = src ? ids1 : ids0;
    const daSrc = da + <usize>src * gap;
    for (let t = T - 1; t >= 0; t--) {
      const x = idAt(ids, t);
      for (let i = 0; i < H; i++) {
        const p = at(dU, i * K + x);
        store<f64>(p, load<f64>(p) + load<f64>(at(daSrc, t * H + i)));
      }
    }
  }
  outerSum(dV, ps, K, at(s0, H), H, K, H, T, gap, sources);
  outerSum(tensor(grad, offs, W_), da, H, s0, H, H, H, T, gap, sources);
}

/**
 * Forward and BPTT over one sequence of each of two streams, side by side so that matvec2 reads
 * each weight once for both (src/model/rnn.ts sequenceLossAndGrad, per stream). With two false,
 * stream 1's pointers equal stream 0's and only stream 0 is computed.
 */
function trainPair(
  H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids0: usize, ids1: usize, h0: usize, h1: usize, grad: usize, s0: usize, s1: usize,
  loss0: usize, loss1: usize, two: bool,
): void {
  const W = tensor(params, offs, W_);
  const V = tensor(params, offs, V_);
  const b = tensor(params, offs, B_);
  const c = tensor(params, offs, C_);
  const WT = tensor(paramsT, offs, W_);
  const UT = tensor(paramsT, offs, U_);
  const VT = tensor(paramsT, offs, V_);
  const ps0 = psOf(s0, H, T);
  const ps1 = psOf(s1, H, T);
  const da0 = daOf(s0, H, K, T);
  const da1 = daOf(s1, H, K, T);
  const dh0 = dhOf(s0, H, K, T);
  const dh1 = dhOf(s1, H, K, T);
  const dhNext0 = at(dh0, H);
  const dhNext1 = at(dh1, H);
  const pre0 = at(dhNext0, H);
  const pre1 = at(dhNext1, H);
  const hBytes = <usize>H << 3;

  // forward: hs row t+1 = h_t, ps row t = p_t
  memory.copy(s0, h0, hBytes);
  memory.copy(s1, h1, hBytes);
  let l0 = 0.0;
  let l1 = 0.0;
  for (let t = 0; t < T; t++) {
    inputPlusBias(H, UT, b, idAt(ids0, t), pre0);
    if (two) inputPlusBias(H, UT, b, idAt(ids1, t), pre1);
    const hOut0 = at(s0, (t + 1) * H);
    const hOut1 = at(s1, (t + 1) * H);
    matvec2(hOut0, hOut1, pre0, pre1, WT, H, at(s0, t * H), at(s1, t * H), H, H);
    tanhInPlace(hOut0, H);
    if (two) tanhInPlace(hOut1, H);
    matvec2(at(ps0, t * K), at(ps1, t * K), c, c, VT, K, hOut0, hOut1, K, H);
    l0 += softmaxLoss(K, at(ps0, t * K), idAt(ids0, t + 1));
    if (two) l1 += softmaxLoss(K, at(ps1, t * K), idAt(ids1, t + 1));
  }
  memory.copy(h0, at(s0, T * H), hBytes);
  if (two) memory.copy(h1, at(s1, T * H), hBytes);

  // backward
  memory.fill(dhNext0, 0, hBytes);
  memory.fill(dhNext1, 0, hBytes);
  for (let t = T - 1; t >= 0; t--) {
    const dy0 = at(ps0, t * K); // dL/do = p - onehot(y)
    const dy1 = at(ps1, t * K);
    const y0 = at(dy0, idAt(ids0, t + 1));
    store<f64>(y0, load<f64>(y0) - 1);
    if (two) {
      const y1 = at(dy1, idAt(ids1, t + 1));
      store<f64>(y1, load<f64>(y1) - 1);
    }
    matvec2(dh0, dh1, 0, 0, V, H, dy0, dy1, H, K); // V^T dy
    const hRow0 = at(s0, (t + 1) * H);
    const hRow1 = at(s1, (t + 1) * H);
    const daRow0 = at(da0, t * H);
    const daRow1 = at(da1, t * H);
    tanhBackward(daRow0, dh0, dhNext0, hRow0, H); // da = (1 - h^2) (V^T dy + dhNext)
    if (two) tanhBackward(daRow1, dh1, dhNext1, hRow1, H);
    matvec2(dhNext0, dhNext1, 0, 0, W, H, daRow0, daRow1, H, H); // dhNext = W^T da
  }
  writeGradient(H, K, T, offs, ids0, ids1, grad, s0, s1, two);
  store<f64>(loss0, l0);
  if (two) store<f64>(loss1, l1);
}

/**
 * trainPair for one stream alone. The products that do not wait on the recursion, the logits
 * V h_t and V^T dy_t, go two time steps at a time instead, which doubles their speed as a second
 * stream would; each number is still summed exactly as trainPair sums it.
 */
function trainSingle(
  H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, h: usize, grad: usize, s: usize, loss: usize,
): void {
  const b = tensor(params, offs, B_);
  const ps = psOf(s, H, T);
  const da = daOf(s, H, K, T);
  const dhNext = at(dhOf(s, H, K, T), H);
  const pre = at(dhNext, H);
  const hBytes = <usize>H << 3;

  memory.copy(s, h, hBytes);
  for (let t = 0; t < T; t++) {
    inputPlusBias(H, tensor(paramsT, offs, U_), b, idAt(ids, t), pre);
    matvec(at(s, (t + 1) * H), pre, tensor(paramsT, offs, W_), H, at(s, t * H), H, H);
    tanhInPlace(at(s, (t + 1) * H), H);
  }
  memory.copy(h, at(s, T * H), hBytes);
  const c = tensor(params, offs, C_);
  const VT = tensor(paramsT, offs, V_);
  for (let t = 0; t < T; t += 2) {
    if (t + 1 < T) matvec2(at(ps, t * K), at(ps, (t + 1) * K), c, c, VT, K, at(s, (t + 1) * H), at(s, (t + 2) * H), K, H);
    else matvec(at(ps, t * K), c, VT, K, at(s, (t + 1) * H), K, H);
  }
  let l = 0.0;
  for (let t = 0; t < T; t++) l += softmaxLoss(K, at(ps, t * K), idAt(ids, t + 1));

  for (let t = 0; t < T; t++) { // dL/do = p - onehot(y)
    const y = at(at(ps, t * K), idAt(ids, t + 1));
    store<f64>(y, load<f64>(y) - 1);
  }
  const V = tensor(params, offs, V_);
  for (let t = 0; t < T; t += 2) { // V^T dy, into da's rows until the recursion reaches them
    if (t + 1 < T) matvec2(at(da, t * H), at(da, (t + 1) * H), 0, 0, V, H, at(ps, t * K), at(ps, (t + 1) * K), H, K);
    else matvec(at(da, t * H), 0, V, H, at(ps, t * K), H, K);
  }
  memory.fill(dhNext, 0, hBytes);
  for (let t = T - 1; t >= 0; t--) {
    const daRow = at(da, t * H);
    tanhBackward(daRow, daRow, dhNext, at(s, (t + 1) * H), H); // da = (1 - h^2) (V^T dy + dhNext)
    matvec(dhNext, 0, tensor(params, offs, W_), H, daRow, H, H); // dhNext = W^T da
  }
  writeGradient(H, K, T, offs, ids, ids, grad, s, s, false);
  store<f64>(loss, l);
}

/**
 * One training step's forward and BPTT for G consecutive streams, two at a time: streams 2p and
 * 2p + 1 share the gradient slot p. Stream g reads its T + 1 ids at ids (G, T+1), carries its
 * state in hidden (G, H), writes its summed loss in losses (G) and works in its own part of
 * scratch; each pair OVERWRITES its slot in grads (ceil(G/2), P) with the sum of its gradients.
 */
export function trainStreams(
  H: i32, K: i32, T: i32, P: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, hidden: usize, grads: usize, losses: usize, scratch: usize, G: i32,
): void {
  const idBytes = <usize>(T + 1) << 2;
  const hBytes = <usize>H << 3;
  const gBytes = <usize>P << 3;
  const sBytes = <usize>trainScratchBytes(H, K, T);
  for (let g = 0; g < G; g += 2) {
    const g0 = <usize>g;
    if (g + 1 == G) {
      trainSingle(H, K, T, params, paramsT, offs, ids + g0 * idBytes, hidden + g0 * hBytes, grads + (g0 >> 1) * gBytes, scratch + g0 * sBytes, losses + (g0 << 3));
      break;
    }
    const two = true;
    const g1 = g0 + 1;
    trainPair(
      H, K, T, params, paramsT, offs,
      ids + g0 * idBytes, ids + g1 * idBytes, hidden + g0 * hBytes, hidden + g1 * hBytes,
      grads + (g0 >> 1) * gBytes, scratch + g0 * sBytes, scratch + g1 * sBytes,
      losses + (g0 << 3), losses + (g1 << 3), two,
    );
  }
}

/** Bytes of scratch evalSequence needs: two hidden rows, one output row, pre (H). */
export function evalScratchBytes(H: i32, K: i32): i32 {
  return (3 * H + K) * F64;
}

/**
 * Forward only over `count` predictions ids[t] -> ids[t+1] from the state h (H), which is
 * updated in place (src/model/rnn.ts evaluate). Returns `loss` plus their losses in nats, added
 * one by one, so that a long text scored in chunks sums exactly as in one piece.
 */
export function evalSequence(
  H: i32, K: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, count: i32, h: usize, scratch: usize, loss: f64,
): f64 {
  const b = tensor(params, offs, B_);
  const c = tensor(params, offs, C_);
  const WT = tensor(paramsT, offs, W_);
  const UT = tensor(paramsT, offs, U_);
  const VT = tensor(paramsT, offs, V_);
  const out = at(scratch, 2 * H);
  const pre = at(out, K);
  memory.copy(scratch, h, <usize>H << 3);
  let cur = scratch;
  let next = at(scratch, H);
  for (let t = 0; t < count; t++) {
    hiddenStep(H, WT, UT, b, idAt(ids, t), cur, next, pre);
    matvec(out, c, VT, K, next, K, H);
    loss += softmaxLoss(K, out, idAt(ids, t + 1));
    const swap = cur;
    cur = next;
    next = swap;
  }
  memory.copy(h, cur, <usize>H << 3);
  return loss;
}

/**
 * Two entries' gradients from p: the S slots (S, P) summed in slot order, divided by the B
 * streams, times scale (the global-norm clip's; 1 leaves every bit alone), clipped.
 */
@inline function meanGradient2(slots: usize, p: i32, P: i32, S: i32, B: i32, scale: f64, clip: f64): v128 {
  const slotBytes = <usize>P << 3;
  let s = at(slots, p);
  let g = v128.load(s);
  for (let k = 1; k < S; k++) {
    s += slotBytes;
    g = f64x2.add(g, v128.load(s));
  }
  if (B > 1) g = f64x2.div(g, f64x2.splat(<f64>B));
  if (scale != 1) g = f64x2.mul(g, f64x2.splat(scale));
  return f64x2.min(f64x2.max(g, f64x2.splat(-clip)), f64x2.splat(clip));
}

/** meanGradient2 for one entry. */
@inline function meanGradient(slots: usize, p: i32, P: i32, S: i32, B: i32, scale: f64, clip: f64): f64 {
  let g = load<f64>(at(slots, p));
  for (let k = 1; k < S; k++) g += load<f64>(at(slots, k * P + p));
  if (B > 1) g /= <f64>B;
  if (scale != 1) g *= scale;
  if (g > clip) g = clip;
  else if (g < -clip) g = -clip;
  return g;
}

/**
 * The sum of squares of the mean gradient's entries [lo, hi) (the slots summed in order, divided
 * by B, before any clip), in index order: one chunk's part of the global norm (optimizers.ts).
 */
export function sumSquaresRange(slots: usize, P: i32, S: i32, B: i32, lo: i32, hi: i32): f64 {
  let sum = 0.0;
  for (let p = lo; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, 1, Infinity);
    sum += g * g;
  }
  return sum;
}

/**
 * The optimizers' updates of the parameters [lo, hi) from the S gradient slots, each as
 * src/model/optimizers.ts computes it, operation for operation (sqrt and division are exactly
 * rounded, so two lanes give the reference's bits). AdaGrad: mem += g^2; p -= eta g / sqrt(mem + eps).
 */
export function adagradRange(
  params: usize, mem: usize, slots: usize, P: i32, S: i32, B: i32, lo: i32, hi: i32, eta: f64, eps: f64, scale: f64, clip: f64,
): void {
  const etas = f64x2.splat(eta);
  const epss = f64x2.splat(eps);
  let p = lo;
  for (; p + 2 <= hi; p += 2) {
    const g = meanGradient2(slots, p, P, S, B, scale, clip);
    const m = f64x2.add(v128.load(at(mem, p)), f64x2.mul(g, g));
    v128.store(at(mem, p), m);
    v128.store(at(params, p), f64x2.sub(v128.load(at(params, p)), f64x2.div(f64x2.mul(etas, g), f64x2.sqrt(f64x2.add(m, epss)))));
  }
  for (; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, scale, clip);
    const m = load<f64>(at(mem, p)) + g * g;
    store<f64>(at(mem, p), m);
    store<f64>(at(params, p), load<f64>(at(params, p)) - (eta * g) / Math.sqrt(m + eps));
  }
}

/** RMSProp: ms = decay ms + (1 - decay) g^2; p -= eta g / (sqrt(ms) + eps). */
export function rmspropRange(
  params: usize, ms: usize, slots: usize, P: i32, S: i32, B: i32, lo: i32, hi: i32, eta: f64, eps: f64, scale: f64, clip: f64, decay: f64,
): void {
  const rest = 1 - decay;
  let p = lo;
  for (; p + 2 <= hi; p += 2) {
    const g = meanGradient2(slots, p, P, S, B, scale, clip);
    const m = f64x2.add(f64x2.mul(f64x2.splat(decay), v128.load(at(ms, p))), f64x2.mul(f64x2.splat(rest), f64x2.mul(g, g)));
    v128.store(at(ms, p), m);
    const step = f64x2.div(f64x2.mul(f64x2.splat(eta), g), f64x2.add(f64x2.sqrt(m), f64x2.splat(eps)));
    v128.store(at(params, p), f64x2.sub(v128.load(at(params, p)), step));
  }
  for (; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, scale, clip);
    const m = decay * load<f64>(at(ms, p)) + rest * (g * g);
    store<f64>(at(ms, p), m);
    store<f64>(at(params, p), load<f64>(at(params, p)) - (eta * g) / (Math.sqrt(m) + eps));
  }
}

/**
 * Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; p -= eta (m / c1) / (sqrt(v / c2) + eps),
 * with the step's bias corrections c1, c2 from the host (optimizers.ts adamCorrections).
 */
export function adamRange(
  params: usize, m: usize, v: usize, slots: usize, P: i32, S: i32, B: i32, lo: i32, hi: i32,
  eta: f64, eps: f64, scale: f64, clip: f64, beta1: f64, beta2: f64, c1: f64, c2: f64,
): void {
  const rest1 = 1 - beta1;
  const rest2 = 1 - beta2;
  let p = lo;
  for (; p + 2 <= hi; p += 2) {
    const g = meanGradient2(slots, p, P, S, B, scale, clip);
    const m2 = f64x2.add(f64x2.mul(f64x2.splat(beta1), v128.load(at(m, p))), f64x2.mul(f64x2.splat(rest1), g));
    const v2 = f64x2.add(f64x2.mul(f64x2.splat(beta2), v128.load(at(v, p))), f64x2.mul(f64x2.splat(rest2), f64x2.mul(g, g)));
    v128.store(at(m, p), m2);
    v128.store(at(v, p), v2);
    const num = f64x2.mul(f64x2.splat(eta), f64x2.div(m2, f64x2.splat(c1)));
    const den = f64x2.add(f64x2.sqrt(f64x2.div(v2, f64x2.splat(c2))), f64x2.splat(eps));
    v128.store(at(params, p), f64x2.sub(v128.load(at(params, p)), f64x2.div(num, den)));
  }
  for (; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, scale, clip);
    const mm = beta1 * load<f64>(at(m, p)) + rest1 * g;
    const vv = beta2 * load<f64>(at(v, p)) + rest2 * (g * g);
    store<f64>(at(m, p), mm);
    store<f64>(at(v, p), vv);
    store<f64>(at(params, p), load<f64>(at(params, p)) - (eta * (mm / c1)) / (Math.sqrt(vv / c2) + eps));
  }
}

/** dst (cols, rows) = the transpose of the entries [lo, hi) of src (rows, cols) that fall in it. */
function transposePart(src: usize, dst: usize, rows: i32, cols: i32, first: i32, lo: i32, hi: i32): void {
  const from = max(lo, first);
  const to = min(hi, first + rows * cols);
  if (from >= to) return;
  let r = (from - first) / cols;
  let col = (from - first) % cols;
  for (let p = from; p < to; p++) {
    store<f64>(at(dst, col * rows + r), load<f64>(at(src, p - first)));
    if (++col === cols) {
      col = 0;
      r++;
    }
  }
}

/**
 * paramsT = every matrix of params transposed at its own offset, for the entries [lo, hi) of
 * params: table (count, 3) int32 holds each matrix's (offset, rows, cols), offsets in float64s,
 * from the layout table (src/model/cells/cell.ts matrixTable).
 */
export function transposeMatrices(table: usize, count: i32, params: usize, paramsT: usize, lo: i32, hi: i32): void {
  for (let m = 0; m < count; m++) {
    const row = table + <usize>(m * 12);
    const offset = load<i32>(row);
    transposePart(at(params, offset), at(paramsT, offset), load<i32>(row, 4), load<i32>(row, 8), offset, lo, hi);
  }
}

export function fillZero(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

export function storeF64(p: usize, value: f64): void {
  store<f64>(p, value);
}

/**
 * The packed copy: each matrix of the table (count rows of int32 (offset, rows, cols, fwd, bwd))
 * packed into its forward and backward panels (primitives.ts packMatrix), for the entries [lo, hi).
 */
export function packMatrices(table: usize, count: i32, params: usize, packed: usize, lo: i32, hi: i32): void {
  for (let m = 0; m < count; m++) {
    const row = table + <usize>(m * 20);
    packMatrix(params, packed, load<i32>(row), load<i32>(row, 4), load<i32>(row, 8), load<i32>(row, 12), load<i32>(row, 16), lo, hi);
  }
}

export { lstmScratchBytes, lstmLoss, lstmLossAndGrad } from './cells/lstm';
export { gruScratchBytes, gruLoss, gruLossAndGrad } from './cells/gru';

/**
 * The benchmark's yardstick for "fraction of SIMD peak": product4's inner loop (primitives.ts)
 * with every operand in the L1 cache: per pass, two vector loads, four broadcasts and eight
 * independent f64x2 multiply-and-add accumulations (no fused multiply-add in WebAssembly SIMD),
 * 32 FLOPs, reading 64 bytes at `buffer` again and again. The time measures how fast one core
 * issues the products' arithmetic when memory costs nothing. Returns a lane of the result so that
 * nothing is optimised away.
 */
export function simdPeakProbe(rounds: i32, buffer: usize): f64 {
  const zero = f64x2.splat(0);
  let a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero, d0 = zero, d1 = zero;
  for (let r = 0; r < rounds; r++) {
    const v0 = v128.load(buffer);
    const v1 = v128.load(buffer, 16);
    const sa = v128.load64_splat(buffer, 32);
    a0 = f64x2.add(a0, f64x2.mul(v0, sa));
    a1 = f64x2.add(a1, f64x2.mul(v1, sa));
    const sb = v128.load64_splat(buffer, 40);
    b0 = f64x2.add(b0, f64x2.mul(v0, sb));
    b1 = f64x2.add(b1, f64x2.mul(v1, sb));
    const sc = v128.load64_splat(buffer, 48);
    c0 = f64x2.add(c0, f64x2.mul(v0, sc));
    c1 = f64x2.add(c1, f64x2.mul(v1, sc));
    const sd = v128.load64_splat(buffer, 56);
    d0 = f64x2.add(d0, f64x2.mul(v0, sd));
    d1 = f64x2.add(d1, f64x2.mul(v1, sd));
  }
  const t = f64x2.add(f64x2.add(f64x2.add(a0, a1), f64x2.add(b0, b1)), f64x2.add(f64x2.add(c0, c1), f64x2.add(d0, d1)));
  return f64x2.extract_lane(t, 0);
}
