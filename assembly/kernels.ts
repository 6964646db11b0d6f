// The training, evaluation and sampling hot loops, compiled to WebAssembly SIMD by AssemblyScript:
// this file is the float64 module's entry, kernels-f32.ts the float32 one's (assembly/build.mjs).
// The vanilla RNN below is float64 only; the gated cells and the optimizers are built in both.
//
// Every kernel does the same float64 operations in the same order as the reference in
// src/model/cells/rnn.ts and src/model/adagrad.ts, so the results are bit-identical to it: SIMD lanes
// run across independent outputs, never across a sum. exp and tanh are src/model/exp.ts and
// tanh.ts operation for operation, also two lanes at a time (assembly/cells/primitives.ts, which
// the gated cells' kernels share); log is the host's Math.log, imported.
// Pointers are byte offsets into the one imported (shared) memory; every array is float64 except
// `ids`, which are int32. Shapes are row-major.
// Tensors are found through `offs`, an int32 table the host fills from the layout table
// (src/model/cells/rnn-cell.ts kernelOffsets): entries W, U, V, b, c below, each an offset in
// float64s from the start of params (and of a gradient slot, which has the same layout), then
// W_F, W_B, U_F, V_F, V_B, the offsets in the packed copy of the panels the products read
// (primitives.ts packMatrix): W h and W^T da, U x, V h and V^T dy.

import { splat, tanh, tanh2 } from './cells/math64';
import { SHIFT, addLanes, vadd, vbroadcast, vmul, vsplat, wide, wide2 } from './precision';
import { at, at64, F64, idAt, matvec, outerAddStreams, packMatrix, panelColumn, product, rowsAdd, softmaxLoss } from './cells/primitives';
import { packBytes, tensor } from './cells/stacked';
import {
  GROUP_STREAMS, PANEL_BWD, PANEL_COLS, PANEL_FWD, PANEL_OFFSET, PANEL_ROW, PANEL_ROWS,
  RNN_B, RNN_C, RNN_U, RNN_U_F, RNN_V, RNN_V_B, RNN_V_F, RNN_W, RNN_W_B, RNN_W_F,
} from './interface';

// the entries of the offset table (assembly/interface.ts), by the short names the kernels use
const W_ = RNN_W;
const U_ = RNN_U;
const V_ = RNN_V;
const B_ = RNN_B;
const C_ = RNN_C;
const W_F = RNN_W_F;
const W_B = RNN_W_B;
const U_F = RNN_U_F;
const V_F = RNN_V_F;
const V_B = RNN_V_B;

/** Streams a training call runs in lockstep, so that each load of W serves them all. */
const GROUP = GROUP_STREAMS;

/** Where AssemblyScript's static data ends: the host places its buffers above this. */
export function heapBase(): usize {
  return __heap_base;
}

/** matvec for the host (sampling): out = init + M x, M read with the output index contiguous. */
export function matVec(out: usize, init: usize, M: usize, stride: i32, x: usize, n: i32, R: i32): void {
  matvec(out, init, M, stride, x, n, R);
}

function tanhInPlace(h: usize, H: i32): void {
  let i = 0;
  for (; i + 2 <= H; i += 2) v128.store(at(h, i), tanh2(v128.load(at(h, i))));
  for (; i < H; i++) store<f64>(at(h, i), tanh(load<f64>(at(h, i))));
}

/** Float64 entries of one stream's scratch in trainStreams: hs (T+1,H), ps (T,K), da (T,H), dhNext, pre (H each). */
function streamEntries(H: i32, K: i32, T: i32): f64 {
  const h = <f64>H, k = <f64>K, t = <f64>T; // in f64: the counts may pass 2^31 (cells/stacked.ts packBytes)
  return (t + 1) * h + t * k + t * h + 2 * h;
}

/** Bytes of scratch trainStreams needs, whatever the number of streams: the pack area, then four streams'. */
export function trainScratchBytes(H: i32, K: i32, T: i32): f64 {
  return packBytes(H, K, T) + <f64>GROUP * streamEntries(H, K, T) * <f64>F64;
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
 * Forward and BPTT of `count` (1 to 4) consecutive streams in lockstep (src/model/cells/rnn.ts
 * sequenceLossAndGrad, per stream): the recurrent products W h and W^T da serve every stream from
 * each load of W; V h and V^T dy go four time steps per pass. Stream s's ids, state and loss follow
 * stream s-1's; its scratch lies gap bytes after, behind the pack area; its gradient is ADDED to
 * the slot at grad + (s >> 1)·gradGap, after stream s-1's when they share one.
 */
function trainGroup(
  count: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, hidden: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): void {
  const gap = <usize>streamEntries(H, K, T) << 3;
  const idGap = <usize>(T + 1) << 2;
  const hBytes = <usize>H << 3;
  const pack = scratch;
  const hs = scratch + <usize>packBytes(H, K, T);
  const ps = at(hs, (T + 1) * H);
  const da = at(ps, T * K);
  const dhNext = at(da, T * H);
  const pre = at(dhNext, H);
  const b = tensor(params, offs, B_);
  const UF = tensor(packed, offs, U_F);

  // forward: hs row t+1 = h_t = tanh(W h_{t-1} + U x_t + b), then ps row t = softmax(V h_t + c)
  for (let s = 0; s < count; s++) memory.copy(hs + <usize>s * gap, hidden + <usize>s * hBytes, hBytes);
  for (let t = 0; t < T; t++) {
    for (let s = 0; s < count; s++) panelColumn(pre + <usize>s * gap, b, UF, idAt(ids + <usize>s * idGap, t), H, K);
    const hOut = at(hs, (t + 1) * H);
    product(count, hOut, gap, pre, gap, tensor(packed, offs, W_F), at(hs, t * H), gap, H, H);
    for (let s = 0; s < count; s++) tanhInPlace(hOut + <usize>s * gap, H);
  }
  for (let s = 0; s < count; s++) {
    const g = <usize>s * gap;
    const streamIds = ids + <usize>s * idGap;
    memory.copy(hidden + <usize>s * hBytes, at(hs, T * H) + g, hBytes);
    product(T, ps + g, <usize>K << 3, tensor(params, offs, C_), 0, tensor(packed, offs, V_F), at(hs, H) + g, hBytes, K, H);
    let loss = 0.0;
    for (let t = 0; t < T; t++) loss += softmaxLoss(K, at(ps, t * K) + g, idAt(streamIds, t + 1));
    store<f64>(at(losses, s), loss);
    // backward: dy = p - onehot(y), then V^T dy into da's rows until the recursion reaches them
    for (let t = 0; t < T; t++) {
      const y = at(ps, t * K + idAt(streamIds, t + 1)) + g;
      store<f64>(y, load<f64>(y) - 1);
    }
    product(T, da + g, hBytes, 0, 0, tensor(packed, offs, V_B), ps + g, <usize>K << 3, H, K);
    memory.fill(dhNext + g, 0, hBytes);
  }
  for (let t = T - 1; t >= 0; t--) {
    const daRow = at(da, t * H);
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      tanhBackward(daRow + g, daRow + g, dhNext + g, at(hs, (t + 1) * H) + g, H); // da = (1 - h^2) (V^T dy + dhNext)
    }
    product(count, dhNext, gap, 0, 0, tensor(packed, offs, W_B), daRow, gap, H, H); // dhNext = W^T da
  }

  // each pair's gradient, stream 2p's terms first, each from t = T-1 down to 0:
  // dc += dy, db += da, dU[:, x_t] += da_t, dV += dy h^T, dW += da h_prev^T
  for (let s = 0; s < count; s += 2) {
    const n = min(2, count - s);
    const slot = grad + <usize>(s >> 1) * gradGap;
    const g = <usize>s * gap;
    for (let k = 0; k < n; k++) {
      const gk = g + <usize>k * gap;
      rowsAdd(tensor(slot, offs, C_), ps + gk, K, K, T);
      rowsAdd(tensor(slot, offs, B_), da + gk, H, H, T);
    }
    const dU = tensor(slot, offs, U_);
    for (let k = 0; k < n; k++) {
      const streamIds = ids + <usize>(s + k) * idGap;
      const daK = da + g + <usize>k * gap;
      for (let t = T - 1; t >= 0; t--) {
        const x = idAt(streamIds, t);
        for (let i = 0; i < H; i++) {
          const p = at(dU, i * K + x);
          store<f64>(p, load<f64>(p) + load<f64>(at(daK, t * H + i)));
        }
      }
    }
    outerAddStreams(tensor(slot, offs, V_), n, ps + g, K, at(hs, H) + g, H, gap, K, H, T, pack);
    outerAddStreams(tensor(slot, offs, W_), n, da + g, H, hs + g, H, gap, H, H, T, pack);
  }
}

/**
 * One training step's forward and BPTT for G consecutive streams, four at a time: streams 2p and
 * 2p + 1 share the gradient slot p. Stream g reads its T + 1 ids at ids (G, T+1), carries its
 * state in hidden (G, H) and writes its summed loss in losses (G); scratch of trainScratchBytes.
 * Each pair OVERWRITES its slot in grads (ceil(G/2), P) with the sum of its gradients.
 */
export function trainStreams(
  H: i32, K: i32, T: i32, P: i32, params: usize, packed: usize, offs: usize,
  ids: usize, hidden: usize, grads: usize, losses: usize, scratch: usize, G: i32,
): void {
  const gBytes = <usize>P << 3;
  memory.fill(grads, 0, <usize>((G + 1) >> 1) * gBytes);
  for (let g = 0; g < G; g += GROUP) {
    const s = <usize>g;
    trainGroup(
      min(GROUP, G - g), H, K, T, params, packed, offs, ids + s * (<usize>(T + 1) << 2), hidden + s * (<usize>H << 3),
      grads + (s >> 1) * gBytes, gBytes, scratch, losses + (s << 3),
    );
  }
}

/** Bytes of scratch evalSequence needs: two hidden rows, one output row, pre (H). */
export function evalScratchBytes(H: i32, K: i32): i32 {
  return (3 * H + K) * F64;
}

/**
 * Forward only over `count` predictions ids[t] -> ids[t+1] from the state h (H), which is
 * updated in place (src/model/cells/rnn.ts evaluate). Returns `loss` plus their losses in nats, added
 * one by one, so that a long text scored in chunks sums exactly as in one piece.
 */
export function evalSequence(
  H: i32, K: i32, params: usize, packed: usize, offs: usize,
  ids: usize, count: i32, h: usize, scratch: usize, loss: f64,
): f64 {
  const b = tensor(params, offs, B_);
  const c = tensor(params, offs, C_);
  const WF = tensor(packed, offs, W_F);
  const UF = tensor(packed, offs, U_F);
  const VF = tensor(packed, offs, V_F);
  const out = at(scratch, 2 * H);
  const pre = at(out, K);
  memory.copy(scratch, h, <usize>H << 3);
  let cur = scratch;
  let next = at(scratch, H);
  for (let t = 0; t < count; t++) {
    panelColumn(pre, b, UF, idAt(ids, t), H, K);
    product(1, next, 0, pre, 0, WF, cur, 0, H, H);
    tanhInPlace(next, H);
    product(1, out, 0, c, 0, VF, next, 0, K, H);
    loss += softmaxLoss(K, out, idAt(ids, t + 1));
    const swap = cur;
    cur = next;
    next = swap;
  }
  memory.copy(h, cur, <usize>H << 3);
  return loss;
}

/**
 * Two entries' gradients from p: the S slots (S, P) of reals summed in float64 in slot order,
 * divided by the B streams, times scale (the global-norm clip's; 1 leaves every bit alone), clipped.
 * The parameters and the optimizer's state are float64 in either build.
 */
@inline function meanGradient2(slots: usize, p: i32, P: i32, S: i32, B: i32, scale: f64, clip: f64): v128 {
  const slotBytes = <usize>P << SHIFT;
  let s = slots + (<usize>p << SHIFT);
  let g = wide2(s);
  for (let k = 1; k < S; k++) {
    s += slotBytes;
    g = f64x2.add(g, wide2(s));
  }
  if (B > 1) g = f64x2.div(g, f64x2.splat(<f64>B));
  if (scale != 1) g = f64x2.mul(g, f64x2.splat(scale));
  return f64x2.min(f64x2.max(g, f64x2.splat(-clip)), f64x2.splat(clip));
}

/** meanGradient2 for one entry. */
@inline function meanGradient(slots: usize, p: i32, P: i32, S: i32, B: i32, scale: f64, clip: f64): f64 {
  let g = wide(slots + (<usize>p << SHIFT));
  for (let k = 1; k < S; k++) g += wide(slots + (<usize>(k * P + p) << SHIFT));
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
    const m = f64x2.add(v128.load(at64(mem, p)), f64x2.mul(g, g));
    v128.store(at64(mem, p), m);
    v128.store(at64(params, p), f64x2.sub(v128.load(at64(params, p)), f64x2.div(f64x2.mul(etas, g), f64x2.sqrt(f64x2.add(m, epss)))));
  }
  for (; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, scale, clip);
    const m = load<f64>(at64(mem, p)) + g * g;
    store<f64>(at64(mem, p), m);
    store<f64>(at64(params, p), load<f64>(at64(params, p)) - (eta * g) / Math.sqrt(m + eps));
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
    const m = f64x2.add(f64x2.mul(f64x2.splat(decay), v128.load(at64(ms, p))), f64x2.mul(f64x2.splat(rest), f64x2.mul(g, g)));
    v128.store(at64(ms, p), m);
    const step = f64x2.div(f64x2.mul(f64x2.splat(eta), g), f64x2.add(f64x2.sqrt(m), f64x2.splat(eps)));
    v128.store(at64(params, p), f64x2.sub(v128.load(at64(params, p)), step));
  }
  for (; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, scale, clip);
    const m = decay * load<f64>(at64(ms, p)) + rest * (g * g);
    store<f64>(at64(ms, p), m);
    store<f64>(at64(params, p), load<f64>(at64(params, p)) - (eta * g) / (Math.sqrt(m) + eps));
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
    const m2 = f64x2.add(f64x2.mul(f64x2.splat(beta1), v128.load(at64(m, p))), f64x2.mul(f64x2.splat(rest1), g));
    const v2 = f64x2.add(f64x2.mul(f64x2.splat(beta2), v128.load(at64(v, p))), f64x2.mul(f64x2.splat(rest2), f64x2.mul(g, g)));
    v128.store(at64(m, p), m2);
    v128.store(at64(v, p), v2);
    const num = f64x2.mul(f64x2.splat(eta), f64x2.div(m2, f64x2.splat(c1)));
    const den = f64x2.add(f64x2.sqrt(f64x2.div(v2, f64x2.splat(c2))), f64x2.splat(eps));
    v128.store(at64(params, p), f64x2.sub(v128.load(at64(params, p)), f64x2.div(num, den)));
  }
  for (; p < hi; p++) {
    const g = meanGradient(slots, p, P, S, B, scale, clip);
    const mm = beta1 * load<f64>(at64(m, p)) + rest1 * g;
    const vv = beta2 * load<f64>(at64(v, p)) + rest2 * (g * g);
    store<f64>(at64(m, p), mm);
    store<f64>(at64(v, p), vv);
    store<f64>(at64(params, p), load<f64>(at64(params, p)) - (eta * (mm / c1)) / (Math.sqrt(vv / c2) + eps));
  }
}

export function fillZero(p: usize, bytes: usize): void {
  memory.fill(p, 0, bytes);
}

/**
 * The packed copy: each matrix of the table (count rows of PANEL_ROW int32s, assembly/interface.ts)
 * packed into its forward and backward panels (primitives.ts packMatrix), for the entries [lo, hi).
 */
@inline function tableEntry(row: usize, field: i32): i32 {
  return load<i32>(row + (<usize>field << 2));
}

export function packMatrices(table: usize, count: i32, params: usize, packed: usize, lo: i32, hi: i32): void {
  for (let m = 0; m < count; m++) {
    const row = table + <usize>(m * PANEL_ROW * 4);
    packMatrix(
      params, packed, tableEntry(row, PANEL_OFFSET), tableEntry(row, PANEL_ROWS), tableEntry(row, PANEL_COLS),
      tableEntry(row, PANEL_FWD), tableEntry(row, PANEL_BWD), lo, hi,
    );
  }
}

export { roundWeights } from './cells/primitives';

export * from './cells/index';
export { stackedLogits } from './cells/stacked';

/**
 * The benchmark's yardstick for "fraction of SIMD peak": product4's inner loop (primitives.ts)
 * with every operand in the L1 cache: per pass, two vector loads, four broadcasts and eight
 * independent multiply-and-add accumulations (no fused multiply-add in WebAssembly SIMD) of LANES
 * reals, 16·LANES FLOPs, reading the 64 bytes at `buffer` again and again. The time measures how
 * fast one core issues the products' arithmetic when memory costs nothing. Returns the sum of the
 * lanes so that nothing is optimised away.
 */
export function simdPeakProbe(rounds: i32, buffer: usize): f64 {
  const zero = vsplat(0);
  let a0 = zero, a1 = zero, b0 = zero, b1 = zero, c0 = zero, c1 = zero, d0 = zero, d1 = zero;
  for (let r = 0; r < rounds; r++) {
    const v0 = v128.load(buffer);
    const v1 = v128.load(buffer, 16);
    const sa = vbroadcast(buffer + 32);
    a0 = vadd(a0, vmul(v0, sa));
    a1 = vadd(a1, vmul(v1, sa));
    const sb = vbroadcast(buffer + 40);
    b0 = vadd(b0, vmul(v0, sb));
    b1 = vadd(b1, vmul(v1, sb));
    const sc = vbroadcast(buffer + 48);
    c0 = vadd(c0, vmul(v0, sc));
    c1 = vadd(c1, vmul(v1, sc));
    const sd = vbroadcast(buffer + 56);
    d0 = vadd(d0, vmul(v0, sd));
    d1 = vadd(d1, vmul(v1, sd));
  }
  const t = vadd(vadd(vadd(a0, a1), vadd(b0, b1)), vadd(vadd(c0, c1), vadd(d0, d1)));
  return <f64>addLanes(0, t);
}
