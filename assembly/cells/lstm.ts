// The stacked LSTM's forward pass and BPTT for up to four streams in lockstep, each bit for bit
// src/model/cells/lstm.ts run on that stream alone.
//
// The reference runs t outer, layers inner; here each layer runs over all T steps before the next
// one starts, which computes every number from the same inputs in the same order (layer l at t
// needs only layer l-1 at t and layer l at t-1) and lets the products that do not wait on the
// recursion (W_ih x, V ys, V^T dy, W_ih^T dgi) go four steps per pass; the recurrent ones go four
// streams per pass. Weight gradients are added after BPTT, each entry term by term from t = T-1
// down to 0 and stream after stream, as the reference adds them.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { LANES, SHIFT, REAL, ld, realsFrom64, realsTo64, st, vadd, vmul, vsigmoid, vsplat, vsub, vtanh } from '../precision';
import { at, at64, idAt, panelColumn, product } from './primitives';
import {
  BHH, BIH, C, V, V_B, V_F, WHH_B, WHH_F, WIH_B, WIH_F,
  inputBackward, inputGates, layerGradients, layerTensor, outputBackward, outputForward, outputGradients, outputTensor, packBytes, stepBytes, stepEntries,
} from './stacked';

const G = 4; // gate rows i, f, g, o

/**
 * Reals of one stream's scratch, in this order:
 * hs, cs (L, T+1, H) | acts (L, T, G·H), i f g o, overwritten by dL/dpre in BPTT | tcs, ys (L, T, H) |
 * ps (T, K) | gi (T, G·H) | gh (G·H) | dUp (T, H) | dhNext, dcNext (H)
 */
function streamEntries(L: i32, H: i32, K: i32, T: i32): f64 {
  const l = <f64>L, h = <f64>H, k = <f64>K, t = <f64>T, g = <f64>G; // in f64: the counts may pass 2^31 (stacked.ts packBytes)
  return 2 * l * (t + 1) * h + l * t * g * h + 2 * l * t * h + t * k + t * g * h + g * h + t * h + 2 * h;
}

/** Bytes of scratch for a group of `count` streams: the pack area (stacked.ts), then each stream's. */
export function lstmScratchBytes(count: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  return packBytes(G * H, K, T) + <f64>count * streamEntries(L, H, K, T) * <f64>REAL;
}

/**
 * One step of one layer, all H units: gates from gi + gh (G·H each), the cell and its output.
 *   i, f, o = σ(gi + gh), g = tanh(gi + gh), c = f ⊙ cPrev + i ⊙ g, h = o ⊙ tanh(c), y = h ⊙ mask
 */
function cellForward(H: i32, gi: usize, gh: usize, cPrev: usize, acts: usize, c: usize, tc: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << SHIFT;
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const a = gi + o0;
    const b = gh + o0;
    const ig = vsigmoid(vadd(ld(a, lanes), ld(b, lanes)));
    const f = vsigmoid(vadd(ld(a + gBytes, lanes), ld(b + gBytes, lanes)));
    const g = vtanh(vadd(ld(a + 2 * gBytes, lanes), ld(b + 2 * gBytes, lanes)));
    const o = vsigmoid(vadd(ld(a + 3 * gBytes, lanes), ld(b + 3 * gBytes, lanes)));
    const act = acts + o0;
    st(act, ig, lanes);
    st(act + gBytes, f, lanes);
    st(act + 2 * gBytes, g, lanes);
    st(act + 3 * gBytes, o, lanes);
    const cNew = vadd(vmul(f, ld(cPrev + o0, lanes)), vmul(ig, g));
    const t = vtanh(cNew);
    const hNew = vmul(o, t);
    st(c + o0, cNew, lanes);
    st(tc + o0, t, lanes);
    st(h + o0, hNew, lanes);
    st(y + o0, mask ? vmul(hNew, ld(mask + o0, lanes)) : hNew, lanes);
  }
}

/**
 * Backward of cellForward; acts (G·H) is overwritten by dL/dpre, dhNext and dcNext (H) carry
 * dL/dh and dL/dc back to step t-1 (dcNext is overwritten here, dhNext by the caller).
 *   dh = dUp ⊙ mask + dhNext;  dc = dh ⊙ o ⊙ (1 - tanh(c)^2) + dcNext
 *   dpre = [dc g i(1-i), dc cPrev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)];  dcNext = dc ⊙ f
 */
function cellBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, dcNext: usize, acts: usize, tc: usize, cPrev: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const act = acts + o0;
    const ig = ld(act, lanes);
    const f = ld(act + gBytes, lanes);
    const gg = ld(act + 2 * gBytes, lanes);
    const o = ld(act + 3 * gBytes, lanes);
    const t = ld(tc + o0, lanes);
    const up = ld(dUp + o0, lanes);
    const dh = vadd(mask ? vmul(up, ld(mask + o0, lanes)) : up, ld(dhNext + o0, lanes));
    const dc = vadd(vmul(vmul(dh, o), vsub(one, vmul(t, t))), ld(dcNext + o0, lanes));
    st(act, vmul(vmul(dc, gg), vmul(ig, vsub(one, ig))), lanes);
    st(act + gBytes, vmul(vmul(dc, ld(cPrev + o0, lanes)), vmul(f, vsub(one, f))), lanes);
    st(act + 2 * gBytes, vmul(vmul(dc, ig), vsub(one, vmul(gg, gg))), lanes);
    st(act + 3 * gBytes, vmul(vmul(dh, t), vmul(o, vsub(one, o))), lanes);
    st(dcNext + o0, vmul(dc, f), lanes);
  }
}

/**
 * Forward (and with grad != 0, BPTT) of `count` streams (1 to 4) in lockstep, each over its T
 * predictions ids[t] -> ids[t+1]: returns their summed loss, and with losses != 0 stores each
 * stream's. Stream s's buffers follow stream s-1's: ids (T+1) int32; state (2, L, H) = (h, c),
 * read and overwritten with the final state; masks (L, T, H), or 0 for no dropout. Its gradient
 * is ADDED to the slot at grad + (s >> 1)·gradGap (the layout's size), after stream s-1's when
 * both share one. params and their packed panels, found through the offset table offs (stacked.ts);
 * scratch of lstmScratchBytes(count). The products run for all streams, or all steps, at once;
 * every stream's numbers are those of the reference run on that stream alone.
 */
function run(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  const GH = G * H;
  const rows = (T + 1) * H; // one layer's block of hs or cs
  const gap = <usize>streamEntries(L, H, K, T) << SHIFT; // from one stream's scratch to the next's
  const idGap = <usize>(T + 1) << 2;
  const stateGap = <usize>(2 * L * H) << 3;
  const maskGap = <usize>(L * T * H) << SHIFT;
  const pack = scratch;
  const hs = scratch + <usize>packBytes(GH, K, T);
  const cs = at(hs, L * rows);
  const acts = at(cs, L * rows);
  const tcs = at(acts, L * T * GH);
  const ys = at(tcs, L * T * H);
  const ps = at(ys, L * T * H);
  const gi = at(ps, T * K);
  const gh = at(gi, T * GH);
  const dUp = at(gh, GH);
  const dhNext = at(dUp, T * H);
  const dcNext = at(dhNext, H);
  const hBytes = <usize>H << SHIFT;

  for (let l = 0; l < L; l++) {
    const In = l == 0 ? K : H;
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      const carried = state + <usize>s * stateGap;
      realsFrom64(at(hs, l * rows) + g, at64(carried, l * H), H);
      realsFrom64(at(cs, l * rows) + g, at64(carried, (L + l) * H), H);
      // gi_t = W_ih x_t + b_ih for every t; x is the one-hot symbol, or the layer below's ys
      inputGates(GH, In, T, layerTensor(packed, offs, l, WIH_F), layerTensor(params, offs, l, BIH),
        l == 0 ? ids + <usize>s * idGap : 0, l == 0 ? 0 : at(ys, (l - 1) * T * H) + g, gi + g);
    }
    const WhhF = layerTensor(packed, offs, l, WHH_F);
    const bhh = layerTensor(params, offs, l, BHH);
    for (let t = 0; t < T; t++) {
      const hPrev = at(hs, l * rows + t * H);
      const row = (l * T + t) * H; // rows of tcs, ys and masks
      product(count, gh, gap, bhh, 0, WhhF, hPrev, gap, GH, H); // gh = W_hh h_prev + b_hh
      for (let s = 0; s < count; s++) {
        const g = <usize>s * gap;
        cellForward(H, at(gi, t * GH) + g, gh + g, at(cs, l * rows + t * H) + g, at(acts, row * G) + g,
          at(cs, l * rows + (t + 1) * H) + g, at(tcs, row) + g, at(hPrev, H) + g, at(ys, row) + g,
          masks ? at(masks + <usize>s * maskGap, row) : 0);
      }
    }
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      const carried = state + <usize>s * stateGap;
      realsTo64(at64(carried, l * H), at(hs, l * rows + T * H) + g, H);
      realsTo64(at64(carried, (L + l) * H), at(cs, l * rows + T * H) + g, H);
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
      memory.fill(dcNext + <usize>s * gap, 0, hBytes);
    }
    for (let t = T - 1; t >= 0; t--) {
      const row = (l * T + t) * H;
      const dpre = at(acts, row * G);
      for (let s = 0; s < count; s++) {
        const g = <usize>s * gap;
        cellBackward(H, at(dUp, t * H) + g, masks ? at(masks + <usize>s * maskGap, row) : 0, dhNext + g, dcNext + g, dpre + g, at(tcs, row) + g, at(cs, l * rows + t * H) + g);
      }
      if (t > 0) product(count, dhNext, gap, 0, 0, WhhB, dpre, gap, H, GH); // dhNext = W_hh^T dpre (dropped at t = 0)
    }
    const dpres = at(acts, l * T * GH); // (T, G·H), dgi = dgh
    if (l > 0) {
      for (let s = 0; s < count; s++) inputBackward(GH, H, T, layerTensor(packed, offs, l, WIH_B), dpres + <usize>s * gap, dUp + <usize>s * gap);
    }
    for (let s = 0; s < count; s += 2) {
      const g = <usize>s * gap;
      layerGradients(min(2, count - s), GH, H, l == 0 ? K : H, T, grad + <usize>(s >> 1) * gradGap, offs, l, dpres + g, dpres + g, at(hs, l * rows) + g,
        l == 0 ? 0 : at(ys, (l - 1) * T * H) + g, l == 0 ? ids + <usize>s * idGap : 0, gap, idGap, pack);
    }
  }
  return total;
}

/** Forward only, one stream: the summed loss of the T predictions; state (2, L, H) carried as in run. */
export function lstmLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run(1, L, H, K, T, params, packed, offs, ids, state, masks, 0, 0, scratch, 0);
}

/**
 * Forward and full BPTT (src/model/cells/lstm.ts lstmSequenceLossAndGrad) of `count` consecutive
 * streams, each one's loss stored in losses (count), their gradients added to the pair slots at
 * grad, gradGap bytes apart: see run.
 */
export function lstmLossAndGrad(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  return run(count, L, H, K, T, params, packed, offs, ids, state, masks, grad, gradGap, scratch, losses);
}

/** Bytes of scratch for lstmStep (and stackedLogits) of `count` streams. */
export function lstmStepScratchBytes(count: i32, L: i32, H: i32, K: i32): f64 {
  return stepBytes(count, G, L, H, K);
}

/**
 * One sampling step of `count` streams (1 to 4) in lockstep: stream s reads symbol ids[s] (int32)
 * and its state (2, L, H) = (h, c) float64 at state + s·2·L·H moves on, as run does with T = 1
 * (and the reference stepper's feed), without the output layer. The products of all streams share
 * each weight load. scratch: lstmStepScratchBytes(count).
 */
export function lstmStep(count: i32, L: i32, H: i32, K: i32, params: usize, packed: usize, offs: usize, ids: usize, state: usize, scratch: usize): void {
  const GH = G * H;
  const gap = <usize>stepEntries(G, L, H, K) << SHIFT;
  const hPrev = at(scratch, L * H);
  const cPrev = at(hPrev, H);
  const c = at(cPrev, H);
  const tc = at(c, H);
  const gi = at(tc, H);
  const gh = at(gi, GH);
  const acts = at(gh, GH);
  const stateGap = <usize>(2 * L * H) << 3;
  for (let l = 0; l < L; l++) {
    const hNew = at(scratch, l * H);
    for (let s = 0; s < count; s++) {
      const carried = state + <usize>s * stateGap;
      realsFrom64(hPrev + <usize>s * gap, at64(carried, l * H), H);
      realsFrom64(cPrev + <usize>s * gap, at64(carried, (L + l) * H), H);
    }
    const WihF = layerTensor(packed, offs, l, WIH_F);
    const bih = layerTensor(params, offs, l, BIH);
    if (l == 0) {
      for (let s = 0; s < count; s++) panelColumn(gi + <usize>s * gap, bih, WihF, idAt(ids, s), GH, K);
    } else {
      product(count, gi, gap, bih, 0, WihF, at(scratch, (l - 1) * H), gap, GH, H); // gi = W_ih h_below + b_ih
    }
    product(count, gh, gap, layerTensor(params, offs, l, BHH), 0, layerTensor(packed, offs, l, WHH_F), hPrev, gap, GH, H); // gh = W_hh h_prev + b_hh
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      const carried = state + <usize>s * stateGap;
      cellForward(H, gi + g, gh + g, cPrev + g, acts + g, c + g, tc + g, hNew + g, hNew + g, 0);
      realsTo64(at64(carried, l * H), hNew + g, H);
      realsTo64(at64(carried, (L + l) * H), c + g, H);
    }
  }
}
