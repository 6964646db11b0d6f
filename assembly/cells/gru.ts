// The stacked GRU's forward pass and BPTT for up to four streams in lockstep, each bit for bit
// src/model/cells/gru.ts run on that stream alone.
// Scheduled as the LSTM's kernel (assembly/cells/lstm.ts): layer by layer over all T steps, the
// products that do not wait on the recursion four steps per pass, the recurrent ones four streams
// per pass, weight gradients after BPTT.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { LANES, SHIFT, REAL, ld, realsFrom64, realsTo64, st, vadd, vmul, vsigmoid, vsplat, vsub, vtanh } from '../precision';
import { at, at64, idAt, panelColumn, product } from './primitives';
import {
  BHH, BIH, C, V, V_B, V_F, WHH_B, WHH_F, WIH_B, WIH_F,
  inputBackward, inputGates, layerGradients, layerTensor, outputBackward, outputForward, outputGradients, outputTensor, packBytes, stepBytes, stepEntries,
} from './stacked';

const G = 3; // gate rows r, z, n

/**
 * Reals of one stream's scratch, in this order:
 * hs (L, T+1, H) | acts (L, T, G·H), r z n, overwritten by dL/dgi in BPTT | hns, ys (L, T, H) |
 * dgh (L, T, G·H) | ps (T, K) | gi (T, G·H) | gh (G·H) | dUp (T, H) | dhNext (H)
 */
function streamEntries(L: i32, H: i32, K: i32, T: i32): f64 {
  const l = <f64>L, h = <f64>H, k = <f64>K, t = <f64>T, g = <f64>G; // in f64: the counts may pass 2^31 (stacked.ts packBytes)
  return l * (t + 1) * h + 2 * l * t * g * h + 2 * l * t * h + t * k + t * g * h + g * h + t * h + h;
}

/** Bytes of scratch for a group of `count` streams: the pack area (stacked.ts), then each stream's. */
export function gruScratchBytes(count: i32, L: i32, H: i32, K: i32, T: i32): f64 {
  return packBytes(G * H, K, T) + <f64>count * streamEntries(L, H, K, T) * <f64>REAL;
}

/**
 * One step of one layer, all H units, from gi and gh (G·H each):
 *   r, z = σ(gi + gh), hn = gh_n, n = tanh(gi_n + r ⊙ hn), h = (1 - z) ⊙ n + z ⊙ hPrev, y = h ⊙ mask
 */
function cellForward(H: i32, gi: usize, gh: usize, hPrev: usize, acts: usize, hns: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const a = gi + o0;
    const b = gh + o0;
    const r = vsigmoid(vadd(ld(a, lanes), ld(b, lanes)));
    const z = vsigmoid(vadd(ld(a + gBytes, lanes), ld(b + gBytes, lanes)));
    const hn = ld(b + 2 * gBytes, lanes);
    const n = vtanh(vadd(ld(a + 2 * gBytes, lanes), vmul(r, hn)));
    const act = acts + o0;
    st(act, r, lanes);
    st(act + gBytes, z, lanes);
    st(act + 2 * gBytes, n, lanes);
    st(hns + o0, hn, lanes);
    const hNew = vadd(vmul(vsub(one, z), n), vmul(z, ld(hPrev + o0, lanes)));
    st(h + o0, hNew, lanes);
    st(y + o0, mask ? vmul(hNew, ld(mask + o0, lanes)) : hNew, lanes);
  }
}

/**
 * Backward of cellForward: acts (G·H) is overwritten by dL/dgi, dgh (G·H) written, and dhNext (H)
 * becomes the direct path dh ⊙ z, to which the caller adds W_hh^T dgh.
 *   dh = dUp ⊙ mask + dhNext;  dn = dh (1 - z), dz = dh (hPrev - n), dan = dn (1 - n^2)
 *   dgi = [dan hn r(1-r), dz z(1-z), dan],  dgh = [the same two, dan r]
 */
function cellBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, acts: usize, hns: usize, hPrev: usize, dgh: usize): void {
  const gBytes = <usize>H << SHIFT;
  const one = vsplat(1);
  for (let i = 0; i < H; i += LANES) {
    const lanes = H - i;
    const o0 = <usize>i << SHIFT;
    const act = acts + o0;
    const r = ld(act, lanes);
    const z = ld(act + gBytes, lanes);
    const n = ld(act + 2 * gBytes, lanes);
    const hn = ld(hns + o0, lanes);
    const up = ld(dUp + o0, lanes);
    const dh = vadd(mask ? vmul(up, ld(mask + o0, lanes)) : up, ld(dhNext + o0, lanes));
    const dn = vmul(dh, vsub(one, z));
    const dz = vmul(dh, vsub(ld(hPrev + o0, lanes), n));
    const dan = vmul(dn, vsub(one, vmul(n, n)));
    const dar = vmul(vmul(dan, hn), vmul(r, vsub(one, r)));
    const daz = vmul(dz, vmul(z, vsub(one, z)));
    st(act, dar, lanes);
    st(act + gBytes, daz, lanes);
    st(act + 2 * gBytes, dan, lanes);
    const d = dgh + o0;
    st(d, dar, lanes);
    st(d + gBytes, daz, lanes);
    st(d + 2 * gBytes, vmul(dan, r), lanes);
    st(dhNext + o0, vmul(dh, z), lanes);
  }
}

/**
 * Forward (and with grad != 0, BPTT) of `count` streams (1 to 4) in lockstep, laid out and
 * returning as the LSTM's run (assembly/cells/lstm.ts): state (1, L, H) = h per stream, scratch
 * of gruScratchBytes(count), stream s's gradient ADDED to the slot at grad + (s >> 1)·gradGap.
 */
function run(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  const GH = G * H;
  const rows = (T + 1) * H; // one layer's block of hs
  const gap = <usize>streamEntries(L, H, K, T) << SHIFT; // from one stream's scratch to the next's
  const idGap = <usize>(T + 1) << 2;
  const stateGap = <usize>(L * H) << 3;
  const maskGap = <usize>(L * T * H) << SHIFT;
  const pack = scratch;
  const hs = scratch + <usize>packBytes(GH, K, T);
  const acts = at(hs, L * rows);
  const hns = at(acts, L * T * GH);
  const ys = at(hns, L * T * H);
  const dghs = at(ys, L * T * H);
  const ps = at(dghs, L * T * GH);
  const gi = at(ps, T * K);
  const gh = at(gi, T * GH);
  const dUp = at(gh, GH);
  const dhNext = at(dUp, T * H);
  const hBytes = <usize>H << SHIFT;

  for (let l = 0; l < L; l++) {
    const In = l == 0 ? K : H;
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      realsFrom64(at(hs, l * rows) + g, at64(state + <usize>s * stateGap, l * H), H);
      // gi_t = W_ih x_t + b_ih for every t; x is the one-hot symbol, or the layer below's ys
      inputGates(GH, In, T, layerTensor(packed, offs, l, WIH_F), layerTensor(params, offs, l, BIH),
        l == 0 ? ids + <usize>s * idGap : 0, l == 0 ? 0 : at(ys, (l - 1) * T * H) + g, gi + g);
    }
    const WhhF = layerTensor(packed, offs, l, WHH_F);
    const bhh = layerTensor(params, offs, l, BHH);
    for (let t = 0; t < T; t++) {
      const hPrev = at(hs, l * rows + t * H);
      const row = (l * T + t) * H; // rows of hns, ys and masks
      product(count, gh, gap, bhh, 0, WhhF, hPrev, gap, GH, H); // gh = W_hh h_prev + b_hh
      for (let s = 0; s < count; s++) {
        const g = <usize>s * gap;
        cellForward(H, at(gi, t * GH) + g, gh + g, hPrev + g, at(acts, row * G) + g, at(hns, row) + g, at(hPrev, H) + g,
          at(ys, row) + g, masks ? at(masks + <usize>s * maskGap, row) : 0);
      }
    }
    for (let s = 0; s < count; s++) realsTo64(at64(state + <usize>s * stateGap, l * H), at(hs, l * rows + T * H) + <usize>s * gap, H);
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
    for (let s = 0; s < count; s++) memory.fill(dhNext + <usize>s * gap, 0, hBytes);
    for (let t = T - 1; t >= 0; t--) {
      const row = (l * T + t) * H;
      const dgh = at(dghs, row * G);
      for (let s = 0; s < count; s++) {
        const g = <usize>s * gap;
        cellBackward(H, at(dUp, t * H) + g, masks ? at(masks + <usize>s * maskGap, row) : 0, dhNext + g, at(acts, row * G) + g,
          at(hns, row) + g, at(hs, l * rows + t * H) + g, dgh + g);
      }
      if (t > 0) product(count, dhNext, gap, dhNext, gap, WhhB, dgh, gap, H, GH); // dhNext = dh ⊙ z + W_hh^T dgh (dropped at t = 0)
    }
    const dgis = at(acts, l * T * GH); // (T, G·H)
    if (l > 0) {
      for (let s = 0; s < count; s++) inputBackward(GH, H, T, layerTensor(packed, offs, l, WIH_B), dgis + <usize>s * gap, dUp + <usize>s * gap);
    }
    for (let s = 0; s < count; s += 2) {
      const g = <usize>s * gap;
      layerGradients(min(2, count - s), GH, H, l == 0 ? K : H, T, grad + <usize>(s >> 1) * gradGap, offs, l, dgis + g, at(dghs, l * T * GH) + g,
        at(hs, l * rows) + g, l == 0 ? 0 : at(ys, (l - 1) * T * H) + g, l == 0 ? ids + <usize>s * idGap : 0, gap, idGap, pack);
    }
  }
  return total;
}

/** Forward only, one stream: the summed loss of the T predictions; state (1, L, H) carried as in run. */
export function gruLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run(1, L, H, K, T, params, packed, offs, ids, state, masks, 0, 0, scratch, 0);
}

/**
 * Forward and full BPTT (src/model/cells/gru.ts gruSequenceLossAndGrad) of `count` consecutive
 * streams, as lstmLossAndGrad: see run.
 */
export function gruLossAndGrad(
  count: i32, L: i32, H: i32, K: i32, T: i32, params: usize, packed: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, gradGap: usize, scratch: usize, losses: usize,
): f64 {
  return run(count, L, H, K, T, params, packed, offs, ids, state, masks, grad, gradGap, scratch, losses);
}

/** Bytes of scratch for gruStep (and stackedLogits) of `count` streams. */
export function gruStepScratchBytes(count: i32, L: i32, H: i32, K: i32): f64 {
  return stepBytes(count, G, L, H, K);
}

/**
 * One sampling step of `count` streams (1 to 4) in lockstep: stream s reads symbol ids[s] (int32)
 * and its state (L, H) float64 at state + s·L·H moves on, as run does with T = 1 (and the
 * reference stepper's feed), without the output layer. The products of all streams share each
 * weight load. scratch: gruStepScratchBytes(count).
 */
export function gruStep(count: i32, L: i32, H: i32, K: i32, params: usize, packed: usize, offs: usize, ids: usize, state: usize, scratch: usize): void {
  const GH = G * H;
  const gap = <usize>stepEntries(G, L, H, K) << SHIFT;
  const hPrev = at(scratch, L * H);
  const hns = at(hPrev, 3 * H);
  const gi = at(hns, H);
  const gh = at(gi, GH);
  const acts = at(gh, GH);
  const stateGap = <usize>(L * H) << 3;
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
    product(count, gh, gap, layerTensor(params, offs, l, BHH), 0, layerTensor(packed, offs, l, WHH_F), hPrev, gap, GH, H); // gh = W_hh h_prev + b_hh
    for (let s = 0; s < count; s++) {
      const g = <usize>s * gap;
      cellForward(H, gi + g, gh + g, hPrev + g, acts + g, hns + g, hNew + g, hNew + g, 0);
      realsTo64(at64(state + <usize>s * stateGap, l * H), hNew + g, H);
    }
  }
}
