// What the LSTM and GRU kernels share: the offset table, the packed weights, the input side of
// each layer's gates, the output layer, and the weight gradients added after BPTT.
//
// Tensors are found through `offs`, an int32 table that the host fills from the layout table
// (src/model/cells/stacked-cell.ts kernelOffsets) in the order of assembly/interface.ts, and
// passes in. Entry 8l + WIH/WHH/BIH/BHH is
// layer l's weight_ih, weight_hh, bias_ih, bias_hh in params (and in a gradient slot, which has
// the same layout); 8l + WIH_F/WIH_B/WHH_F/WHH_B are the forward and backward panels of its two
// weight matrices in the packed copy (primitives.ts packMatrix; layer 0 has no WIH_B). Entries
// 8L + V, C, V_F, V_B are the output layer's. Offsets count reals (assembly/precision.ts); the
// kernels' params are the float64 master weights, or in the float32 build their float32 copy.

import {
  LAYER_BHH, LAYER_BIH, LAYER_ENTRIES, LAYER_WHH, LAYER_WHH_B, LAYER_WHH_F, LAYER_WIH, LAYER_WIH_B, LAYER_WIH_F,
  OUTPUT_C, OUTPUT_V, OUTPUT_V_B, OUTPUT_V_F,
} from '../interface';
import { REAL, SHIFT, real, realsFrom64, realsTo64 } from '../precision';
import { at, idAt, outerAddStreams, panelColumn, product, rowsAdd, softmaxLoss } from './primitives';

// the entries of the offset table (assembly/interface.ts), by the short names the kernels use
export const WIH = LAYER_WIH;
export const WHH = LAYER_WHH;
export const BIH = LAYER_BIH;
export const BHH = LAYER_BHH;
export const WIH_F = LAYER_WIH_F;
export const WIH_B = LAYER_WIH_B;
export const WHH_F = LAYER_WHH_F;
export const WHH_B = LAYER_WHH_B;
const PER_LAYER = LAYER_ENTRIES;
export const V = OUTPUT_V;
export const C = OUTPUT_C;
export const V_F = OUTPUT_V_F;
export const V_B = OUTPUT_V_B;

/** Where tensor `entry` of the offset table lies in the flat buffer at `base`. */
@inline export function tensor(base: usize, offs: usize, entry: i32): usize {
  return at(base, load<i32>(offs + (<usize>entry << 2)));
}

/** Layer l's tensor `which` (WIH ... WHH_B). */
@inline export function layerTensor(base: usize, offs: usize, l: i32, which: i32): usize {
  return tensor(base, offs, PER_LAYER * l + which);
}

/** The output layer's tensor `which` (V, C, V_F, V_B) of L layers. */
@inline export function outputTensor(base: usize, offs: usize, L: i32, which: i32): usize {
  return tensor(base, offs, PER_LAYER * L + which);
}

/**
 * Bytes of the area at the start of a group's scratch where outerAddStreams packs its operands:
 * a pair of streams' T steps of rows of up to max(G·H, K) entries, and of a tile's 64 bytes.
 * Sizes are counted in f64: at long sequences they pass 2^31, which an i32 would wrap, and the
 * planner (src/train/shared-memory.ts) must see them whole to refuse what passes 4 GiB.
 */
export function packBytes(GH: i32, K: i32, T: i32): f64 {
  return 2 * <f64>T * (<f64>max(GH, K) * <f64>REAL + 64);
}

/**
 * gi (T, G·H), row t = b_ih + W_ih x_t for every step at once (the input does not wait on the
 * recursion). Layer 0: x_t is one-hot, so row t = b_ih + column ids[t] of W_ih. Above: x (T, In),
 * four steps per pass so that each weight load serves all four; every entry is summed j
 * ascending, as affine.ts gatesForward.
 */
export function inputGates(GH: i32, In: i32, T: i32, WihF: usize, bih: usize, ids: usize, x: usize, gi: usize): void {
  if (ids) {
    for (let t = 0; t < T; t++) panelColumn(at(gi, t * GH), bih, WihF, idAt(ids, t), GH, In);
    return;
  }
  product(T, gi, <usize>GH << SHIFT, bih, 0, WihF, x, <usize>In << SHIFT, GH, In);
}

/**
 * The output layer over all T steps: ps (T, K) row t = softmax(V ys_t + c) for the top layer's
 * ys (T, H); returns the sum, t ascending, of -log p_t[ids[t+1]] (affine.ts softmaxCrossEntropy).
 */
export function outputForward(H: i32, K: i32, T: i32, VF: usize, c: usize, ys: usize, ps: usize, ids: usize): f64 {
  product(T, ps, <usize>K << SHIFT, c, 0, VF, ys, <usize>H << SHIFT, K, H);
  let loss = 0.0;
  for (let t = 0; t < T; t++) loss += softmaxLoss(K, at(ps, t * K), idAt(ids, t + 1));
  return loss;
}

/**
 * The backward of outputForward into the top layer (affine.ts softmaxCrossEntropyBackward's dx at
 * every step): dy_t = p_t - onehot(y_t), left in ps, and dUp_t = V^T dy_t (T, H, overwritten).
 */
export function outputBackward(H: i32, K: i32, T: i32, VB: usize, ps: usize, ids: usize, dUp: usize): void {
  for (let t = 0; t < T; t++) {
    const y = at(ps, t * K + idAt(ids, t + 1));
    store<real>(y, load<real>(y) - 1);
  }
  product(T, dUp, <usize>H << SHIFT, 0, 0, VB, ps, <usize>K << SHIFT, H, K);
}

/**
 * The output layer's gradients from `count` streams (1 or 2, the streams of one slot), stream s's
 * dy (ps) and ys gap bytes after stream s-1's: dc += dy_t and dV += dy_t ys_t^T, for each stream
 * in order, t from T-1 down to 0.
 */
export function outputGradients(count: i32, H: i32, K: i32, T: i32, dV: usize, dc: usize, ps: usize, ys: usize, gap: usize, pack: usize): void {
  for (let s = 0; s < count; s++) rowsAdd(dc, ps + <usize>s * gap, K, K, T);
  outerAddStreams(dV, count, ps, K, ys, H, gap, K, H, T, pack);
}

/** dUp (T, H) row t = W_ih^T dgi_t for the layer below (affine.ts gatesBackward's dx); dgi (T, G·H). */
export function inputBackward(GH: i32, H: i32, T: i32, WihB: usize, dgi: usize, dUp: usize): void {
  product(T, dUp, <usize>H << SHIFT, 0, 0, WihB, dgi, <usize>GH << SHIFT, H, GH);
}

/**
 * Layer l's parameter gradients from `count` streams (1 or 2, those of the slot `grad`), each
 * with its dL/dgi and dL/dgh at every step, dgi and dgh (T, G·H); stream s's buffers lie gap
 * bytes after stream s-1's, its ids idGap after. Each entry adds one term per step from t = T-1
 * down to 0, stream after stream, as gatesBackward does step by step:
 *   db_ih += dgi_t, db_hh += dgh_t, dW_hh += dgh_t h_{t-1}^T (hs (T+1, H), rows 0..T-1),
 *   dW_ih += dgi_t x_t^T (x (T, In)), or for layer 0 (ids set) dW_ih[:, ids[t]] += dgi_t.
 * Where W_hh's second row block multiplies another vector than h (the MGU's f ⊙ h: hs2 (T, H),
 * else 0), that block's rows add dgh_t hs2_t^T instead.
 */
export function layerGradients(
  count: i32, GH: i32, H: i32, In: i32, T: i32, grad: usize, offs: usize, l: i32,
  dgi: usize, dgh: usize, hs: usize, x: usize, ids: usize, gap: usize, idGap: usize, pack: usize, hs2: usize,
): void {
  for (let s = 0; s < count; s++) {
    rowsAdd(layerTensor(grad, offs, l, BIH), dgi + <usize>s * gap, GH, GH, T);
    rowsAdd(layerTensor(grad, offs, l, BHH), dgh + <usize>s * gap, GH, GH, T);
  }
  const dWhh = layerTensor(grad, offs, l, WHH);
  if (!hs2) {
    outerAddStreams(dWhh, count, dgh, GH, hs, H, gap, GH, H, T, pack);
  } else {
    const half = GH >> 1;
    outerAddStreams(dWhh, count, dgh, GH, hs, H, gap, half, H, T, pack);
    outerAddStreams(at(dWhh, half * H), count, at(dgh, half), GH, hs2, H, gap, half, H, T, pack);
  }
  const dWih = layerTensor(grad, offs, l, WIH);
  if (!ids) {
    outerAddStreams(dWih, count, dgi, GH, x, In, gap, GH, In, T, pack);
    return;
  }
  for (let s = 0; s < count; s++) {
    const streamIds = ids + <usize>s * idGap;
    const d = dgi + <usize>s * gap;
    for (let t = T - 1; t >= 0; t--) {
      const column = at(dWih, idAt(streamIds, t));
      const row = at(d, t * GH);
      for (let r = 0; r < GH; r++) {
        const p = at(column, r * In);
        store<real>(p, load<real>(p) + load<real>(at(row, r)));
      }
    }
  }
}

/**
 * Reals of one stream's scratch in a sampling step (gruStep, lstmStep, stackedLogits):
 * hNew (L, H) | hPrev, cPrev, c, aux (H each) | gi, gh, acts (G·H each) | logits (K)
 */
export function stepEntries(G: i32, L: i32, H: i32, K: i32): i32 {
  return (L + 4) * H + 3 * G * H + K;
}

/** Bytes of scratch for a sampling step of `count` streams of a cell of G gates. */
export function stepBytes(count: i32, G: i32, L: i32, H: i32, K: i32): f64 {
  return <f64>count * <f64>stepEntries(G, L, H, K) * <f64>REAL;
}

/**
 * logits (count, K) float64, row s = V h + c for the top layer's h of stream s, whose state
 * (S float64 each, h (L, H) first) lies at state + s·S: what the reference stepper's scores() gives,
 * every entry c first, then j ascending. The products of all streams share each load of V.
 * scratch: stepBytes(count, G, ...) for the state's cell.
 */
export function stackedLogits(
  count: i32, G: i32, L: i32, H: i32, K: i32, S: i32, params: usize, packed: usize, offs: usize, state: usize, logits: usize, scratch: usize,
): void {
  const gap = <usize>stepEntries(G, L, H, K) << SHIFT;
  const top = scratch; // hNew's first row
  const out = at(scratch, stepEntries(G, L, H, K) - K);
  for (let s = 0; s < count; s++) realsFrom64(top + <usize>s * gap, state + ((<usize>(s * S + (L - 1) * H)) << 3), H);
  product(count, out, gap, outputTensor(params, offs, L, C), 0, outputTensor(packed, offs, L, V_F), top, gap, K, H);
  for (let s = 0; s < count; s++) realsTo64(logits + ((<usize>(s * K)) << 3), out + <usize>s * gap, K);
}
