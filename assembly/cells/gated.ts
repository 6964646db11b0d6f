// The stacking skeleton every gated cell's training kernels share, written once: a stack of L
// layers over T steps for up to four streams in lockstep, each stream bit for bit its cell's
// reference (src/model/cells/) run on that stream alone.
//
// The reference runs t outer, layers inner; here each layer runs over all T steps before the next
// one starts, which computes every number from the same inputs in the same order (layer l at t
// needs only layer l-1 at t and layer l at t-1) and lets the products that do not wait on the
// recursion (W_ih x, V ys, V^T dy, W_ih^T dgi) go four steps per pass; the recurrent ones go four
// streams per pass. Weight gradients are added after BPTT, each entry term by term from t = T-1
// down to 0 and stream after stream, as the reference adds them.
//
// What differs between cells is one step of one layer, forward and backward, with its recurrent
// products, and the arrays it keeps: a cell is a @final class (lstm.ts, gru.ts, mgu.ts) whose
// @inline methods run<C> calls on changetype<C>(0) (AssemblyScript has no static calls through a
// type parameter; the methods read no `this`), so that run<C> compiles to one function per cell
// with every step written out in it, as a hand-written run would.

import { REAL, SHIFT, realsFrom64, realsTo64 } from '../precision';
import { at, at64, idAt, panelColumn, product } from './primitives';
import {
  BHH, BIH, C, V, V_B, V_F, WHH_B, WHH_F, WIH_B, WIH_F,
  inputBackward, inputGates, layerGradients, layerTensor, outputBackward, outputForward, outputGradients, outputTensor, packBytes, stepEntries,
} from './stacked';

/**
 * Reals of one stream's scratch that every cell has, in this order:
 * hs (L, T+1, H) | acts (L, T, G·H), the gates after their nonlinearities, overwritten by dL/dgi in
 * BPTT | ys (L, T, H) | ps (T, K) | gi (T, G·H) | gh (G·H) | dUp (T, H) | dhNext (H); then the
 * cell's own (its ownEntries). In f64: the counts may pass 2^31 (stacked.ts packBytes).
 */
@inline function commonEntries(G: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  const l = <f64>L, h = <f64>H, k = <f64>K, t = <f64>T, g = <f64>G;
  return l * (t + 1) * h + l * t * g * h + l * t * h + t * k + t * g * h + g * h + t * h + h;
}

/** Bytes of scratch for a group of `count` streams of cell C: the pack area (stacked.ts), then each stream's. */
@inline export function scratchBytes<C>(count: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  const cell = changetype<C>(0);
  const G = cell.G;
  return packBytes(G * H, K, T) + <f64>count * (commonEntries(G, L, H, K, T) + cell.ownEntries(L, H, T)) * <f64>REAL;
}

/**
 * Forward (and with grad != 0, BPTT) of `count` streams (1 to 4) in lockstep, each over its T
 * predictions ids[t] -> ids[t+1]: returns their summed loss, and with losses != 0 stores each
 * stream's. Stream s's buffers follow stream s-1's: ids (T+1) int32; state (S, L, H) float64 (the
 * cell's state table, h first), read and overwritten with the final state; masks (L, T, H), or 0
 * for no dropout. Its gradient is ADDED to the slot at grad + (s >> 1)·gradGap (the layout's
 * size), after stream s-1's when both share one. params and their packed panels, found through
 * the offset table offs (stacked.ts); scratch of scratchBytes<C>(count).
 */
export function run<C>(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  const cell = changetype<C>(0);
  const G = cell.G;
  const GH = G * H;
  const rows = (T + 1) * H; // one layer's block of hs
  const gap = <usize>(commonEntries(G, L, H, K, T) + cell.ownEntries(L, H, T)) << SHIFT; // from one stream's scratch to the next's
  const idGap = <usize>(T + 1) << 2;
  const stateGap = <usize>(cell.S * L * H) << 3;
  const maskGap = <usize>(L * T * H) << SHIFT;
  const pack = scratch;
  const hs = scratch + <usize>packBytes(GH, K, T);
  const acts = at(hs, L * rows);
  const ys = at(acts, L * T * GH);
  const ps = at(ys, L * T * H);
  const gi = at(ps, T * K);
  const gh = at(gi, T * GH);
  const dUp = at(gh, GH);
  const dhNext = at(dUp, T * H);
  const own = at(dhNext, H);
  const hBytes = <usize>H << SHIFT;

  for (let l = 0; l < L; l++) {
    const In = l == 0 ? K : H;
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      const carried = state + <usize>s * stateGap;
      realsFrom64(at(hs, l * rows) + g, at64(carried, l * H), H);
      cell.loadState(own + g, carried, l, L, H, T);
      // gi_t = W_ih x_t + b_ih for every t; x is the one-hot symbol, or the layer below's ys
      inputGates(GH, In, T, layerTensor(packed, offs, l, WIH_F), layerTensor(params, offs, l, BIH),
        l == 0 ? ids + <usize>s * idGap : 0, l == 0 ? 0 : at(ys, (l - 1) * T * H) + g, gi + g);
    }
    const WhhF = layerTensor(packed, offs, l, WHH_F);
    const bhh = layerTensor(params, offs, l, BHH);
    for (let t = 0; t < T; t++) {
      const row = (l * T + t) * H; // rows of ys and masks
      cell.forward(count, gap, L, H, T, l, t, WhhF, bhh, at(gi, t * GH), gh, at(hs, l * rows + t * H), at(acts, row * G), at(ys, row),
        masks ? at(masks, row) : 0, maskGap, own);
    }
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      const carried = state + <usize>s * stateGap;
      realsTo64(at64(carried, l * H), at(hs, l * rows + T * H) + g, H);
      cell.storeState(carried, own + g, l, L, H, T);
    }
  }
  const top = at(ys, (L - 1) * T * H);
  let total = 0.0;
  for (let s = 0; s < count; s++) {
    const g = <usize>s * gap;
    const loss = outputForward(H, K, T, outputTensor(packed, offs, L, V_F), outputTensor(params, offs, L, C), top + g, ps + g, ids + <usize>s * idGap);
    if (losses) store<f64>(at64(losses, s), loss);
    total += loss;
  }
  if (!grad) return total;

  for (let s = 0; s < count; s++) {
    const g = <usize>s * gap;
    outputBackward(H, K, T, outputTensor(packed, offs, L, V_B), ps + g, ids + <usize>s * idGap, dUp + g);
  }
  for (let s = 0; s < count; s += 2) {
    const slot = grad + <usize>(s >> 1) * gradGap;
    const g = <usize>s * gap;
    outputGradients(min(2, count - s), H, K, T, outputTensor(slot, offs, L, V), outputTensor(slot, offs, L, C), ps + g, top + g, gap, pack);
  }
  for (let l = L - 1; l >= 0; l--) {
    const WhhB = layerTensor(packed, offs, l, WHH_B);
    for (let s = 0; s < count; s++) {
      memory.fill(dhNext + <usize>s * gap, 0, hBytes);
      cell.beginBackward(own + <usize>s * gap, L, H, T);
    }
    for (let t = T - 1; t >= 0; t--) {
      const row = (l * T + t) * H;
      // the step's dL/dgi into acts, its dL/dgh, and dhNext = dL/dh_{t-1} (not needed at t = 0)
      cell.backward(count, gap, L, H, T, l, t, WhhB, at(dUp, t * H), masks ? at(masks, row) : 0, maskGap, dhNext, at(acts, row * G),
        at(hs, l * rows + t * H), own);
    }
    const dgis = at(acts, l * T * GH); // (T, G·H)
    if (l > 0) {
      for (let s = 0; s < count; s++) inputBackward(GH, H, T, layerTensor(packed, offs, l, WIH_B), dgis + <usize>s * gap, dUp + <usize>s * gap);
    }
    const dghs = cell.dgh(dgis, own, l, L, H, T); // (T, G·H)
    const hs2 = cell.hs2(own, l, L, H, T); // what W_hh's second row block multiplies, where not h
    for (let s = 0; s < count; s += 2) {
      const g = <usize>s * gap;
      layerGradients(min(2, count - s), GH, H, l == 0 ? K : H, T, grad + <usize>(s >> 1) * gradGap, offs, l, dgis + g, dghs + g,
        at(hs, l * rows) + g, l == 0 ? 0 : at(ys, (l - 1) * T * H) + g, l == 0 ? ids + <usize>s * idGap : 0, gap, idGap, pack,
        hs2 ? hs2 + g : 0);
    }
  }
  return total;
}

/**
 * One sampling step of `count` streams (1 to 4) in lockstep: stream s reads symbol ids[s] (int32)
 * and its state (S, L, H) float64 at state + s·S·L·H moves on, as run does with T = 1 (and the
 * reference stepper's feed), without the output layer. The products of all streams share each
 * weight load. Each stream's scratch (stacked.ts stepEntries): hNew (L, H) | hPrev | three rows
 * of the cell's own | gi, gh, acts (G·H each) | logits; scratch of stepBytes(count, G, ...).
 */
export function step<C>(count: i32, L: i32, H: i32, K: i32, params: usize, packed: usize, offs: usize, ids: usize, state: usize, scratch: usize): void {
  const cell = changetype<C>(0);
  const GH = cell.G * H;
  const gap = <usize>stepEntries(cell.G, L, H, K) << SHIFT;
  const hPrev = at(scratch, L * H);
  const own = at(hPrev, H);
  const gi = at(hPrev, 4 * H);
  const gh = at(gi, GH);
  const acts = at(gh, GH);
  const stateGap = <usize>(cell.S * L * H) << 3;
  for (let l = 0; l < L; l++) {
    const hNew = at(scratch, l * H);
    for (let s = 0; s < count; s++) realsFrom64(hPrev + <usize>s * gap, at64(state + <usize>s * stateGap, l * H), H);
    const WihF = layerTensor(packed, offs, l, WIH_F);
    const bih = layerTensor(params, offs, l, BIH);
    if (l == 0) {
      for (let s = 0; s < count; s++) panelColumn(gi + <usize>s * gap, bih, WihF, idAt(ids, s), GH, K);
    } else {
      product(count, gi, gap, bih, 0, WihF, at(scratch, (l - 1) * H), gap, GH, H); // gi = W_ih h_below + b_ih
    }
    cell.step(count, gap, L, H, l, params, packed, offs, gi, gh, hPrev, acts, hNew, own, state, stateGap);
    for (let s = 0; s < count; s++) realsTo64(at64(state + <usize>s * stateGap, l * H), hNew + <usize>s * gap, H);
  }
}
