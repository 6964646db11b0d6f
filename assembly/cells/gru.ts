// The stacked GRU's forward pass and BPTT for one stream, bit for bit src/model/cells/gru.ts.
// Scheduled as the LSTM's kernel (assembly/cells/lstm.ts): layer by layer over all T steps, the
// products that do not wait on the recursion two steps per pass, weight gradients after BPTT.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { F64, at, ld, matvec, sigmoid2, splat, st, tanh2 } from './primitives';
import { BHH, BIH, WHH, WIH, inputBackward, inputGates, layerGradients, layerTensor, outputBackward, outputForward, tensor } from './stacked';

const G = 3; // gate rows r, z, n

/**
 * Float64 entries of one stream's scratch, in this order:
 * hs (L, T+1, H) | acts (L, T, G·H), r z n, overwritten by dL/dgi in BPTT | hns, ys (L, T, H) |
 * dgh (L, T, G·H) | ps (T, K) | gi (T, G·H) | gh (G·H) | dUp (T, H) | dhNext (H)
 */
function scratchEntries(L: i32, H: i32, K: i32, T: i32): i32 {
  return L * (T + 1) * H + 2 * L * T * G * H + 2 * L * T * H + T * K + T * G * H + G * H + T * H + H;
}

export function gruScratchBytes(L: i32, H: i32, K: i32, T: i32): i32 {
  return scratchEntries(L, H, K, T) * F64;
}

/**
 * One step of one layer, all H units, from gi and gh (G·H each):
 *   r, z = σ(gi + gh), hn = gh_n, n = tanh(gi_n + r ⊙ hn), h = (1 - z) ⊙ n + z ⊙ hPrev, y = h ⊙ mask
 */
function cellForward(H: i32, gi: usize, gh: usize, hPrev: usize, acts: usize, hns: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << 3;
  const one = splat(1);
  for (let i = 0; i < H; i += 2) {
    const two = i + 2 <= H;
    const o0 = <usize>i << 3;
    const a = gi + o0;
    const b = gh + o0;
    const r = sigmoid2(f64x2.add(ld(a, two), ld(b, two)));
    const z = sigmoid2(f64x2.add(ld(a + gBytes, two), ld(b + gBytes, two)));
    const hn = ld(b + 2 * gBytes, two);
    const n = tanh2(f64x2.add(ld(a + 2 * gBytes, two), f64x2.mul(r, hn)));
    const act = acts + o0;
    st(act, r, two);
    st(act + gBytes, z, two);
    st(act + 2 * gBytes, n, two);
    st(hns + o0, hn, two);
    const hNew = f64x2.add(f64x2.mul(f64x2.sub(one, z), n), f64x2.mul(z, ld(hPrev + o0, two)));
    st(h + o0, hNew, two);
    st(y + o0, mask ? f64x2.mul(hNew, ld(mask + o0, two)) : hNew, two);
  }
}

/**
 * Backward of cellForward: acts (G·H) is overwritten by dL/dgi, dgh (G·H) written, and dhNext (H)
 * becomes the direct path dh ⊙ z, to which the caller adds W_hh^T dgh.
 *   dh = dUp ⊙ mask + dhNext;  dn = dh (1 - z), dz = dh (hPrev - n), dan = dn (1 - n^2)
 *   dgi = [dan hn r(1-r), dz z(1-z), dan],  dgh = [the same two, dan r]
 */
function cellBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, acts: usize, hns: usize, hPrev: usize, dgh: usize): void {
  const gBytes = <usize>H << 3;
  const one = splat(1);
  for (let i = 0; i < H; i += 2) {
    const two = i + 2 <= H;
    const o0 = <usize>i << 3;
    const act = acts + o0;
    const r = ld(act, two);
    const z = ld(act + gBytes, two);
    const n = ld(act + 2 * gBytes, two);
    const hn = ld(hns + o0, two);
    const up = ld(dUp + o0, two);
    const dh = f64x2.add(mask ? f64x2.mul(up, ld(mask + o0, two)) : up, ld(dhNext + o0, two));
    const dn = f64x2.mul(dh, f64x2.sub(one, z));
    const dz = f64x2.mul(dh, f64x2.sub(ld(hPrev + o0, two), n));
    const dan = f64x2.mul(dn, f64x2.sub(one, f64x2.mul(n, n)));
    const dar = f64x2.mul(f64x2.mul(dan, hn), f64x2.mul(r, f64x2.sub(one, r)));
    const daz = f64x2.mul(dz, f64x2.mul(z, f64x2.sub(one, z)));
    st(act, dar, two);
    st(act + gBytes, daz, two);
    st(act + 2 * gBytes, dan, two);
    const d = dgh + o0;
    st(d, dar, two);
    st(d + gBytes, daz, two);
    st(d + 2 * gBytes, f64x2.mul(dan, r), two);
    st(dhNext + o0, f64x2.mul(dh, z), two);
  }
}

/**
 * Forward (and with grad != 0, BPTT) over the T predictions ids[t] -> ids[t+1]: returns the
 * summed loss. ids (T+1) int32; state (1, L, H) = h is read and overwritten with the final state;
 * masks (L, T, H), or 0 for no dropout; grad (the layout's size) is ADDED to. params and paramsT
 * (stackedTranspose) with the offset table offs; scratch of gruScratchBytes.
 */
function run(
  L: i32, H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, scratch: usize,
): f64 {
  const GH = G * H;
  const rows = (T + 1) * H; // one layer's block of hs
  const hs = scratch;
  const acts = at(hs, L * rows);
  const hns = at(acts, L * T * GH);
  const ys = at(hns, L * T * H);
  const dghs = at(ys, L * T * H);
  const ps = at(dghs, L * T * GH);
  const gi = at(ps, T * K);
  const gh = at(gi, T * GH);
  const dUp = at(gh, GH);
  const dhNext = at(dUp, T * H);
  const hBytes = <usize>H << 3;

  for (let l = 0; l < L; l++) {
    memory.copy(at(hs, l * rows), at(state, l * H), hBytes);
    const In = l == 0 ? K : H;
    // gi_t = W_ih x_t + b_ih for every t; x is the one-hot symbol, or the layer below's ys
    inputGates(GH, In, T, layerTensor(paramsT, offs, l, WIH), layerTensor(params, offs, l, BIH), l == 0 ? ids : 0, l == 0 ? 0 : at(ys, (l - 1) * T * H), gi);
    const WhhT = layerTensor(paramsT, offs, l, WHH);
    const bhh = layerTensor(params, offs, l, BHH);
    for (let t = 0; t < T; t++) {
      const hPrev = at(hs, l * rows + t * H);
      const row = (l * T + t) * H; // rows of hns, ys and masks
      matvec(gh, bhh, WhhT, GH, hPrev, GH, H); // gh = W_hh h_prev + b_hh
      cellForward(H, at(gi, t * GH), gh, hPrev, at(acts, row * G), at(hns, row), at(hPrev, H), at(ys, row), masks ? at(masks, row) : 0);
    }
    memory.copy(at(state, l * H), at(hs, l * rows + T * H), hBytes);
  }
  const top = at(ys, (L - 1) * T * H);
  const loss = outputForward(H, K, T, tensor(paramsT, offs, 4 * L), tensor(params, offs, 4 * L + 1), top, ps, ids);
  if (!grad) return loss;

  outputBackward(H, K, T, tensor(params, offs, 4 * L), tensor(grad, offs, 4 * L), tensor(grad, offs, 4 * L + 1), top, ps, ids, dUp);
  for (let l = L - 1; l >= 0; l--) {
    const Whh = layerTensor(params, offs, l, WHH);
    memory.fill(dhNext, 0, hBytes);
    for (let t = T - 1; t >= 0; t--) {
      const row = (l * T + t) * H;
      const dgh = at(dghs, row * G);
      cellBackward(H, at(dUp, t * H), masks ? at(masks, row) : 0, dhNext, at(acts, row * G), at(hns, row), at(hs, l * rows + t * H), dgh);
      if (t > 0) matvec(dhNext, dhNext, Whh, H, dgh, H, GH); // dhNext = dh ⊙ z + W_hh^T dgh (dropped at t = 0)
    }
    const dgis = at(acts, l * T * GH); // (T, G·H)
    if (l > 0) inputBackward(GH, H, T, layerTensor(params, offs, l, WIH), dgis, dUp);
    layerGradients(GH, H, l == 0 ? K : H, T, grad, offs, l, dgis, at(dghs, l * T * GH), at(hs, l * rows), l == 0 ? 0 : at(ys, (l - 1) * T * H), l == 0 ? ids : 0);
  }
  return loss;
}

/** Forward only: the summed loss of the T predictions; state (1, L, H) carried as in gruLossAndGrad. */
export function gruLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run(L, H, K, T, params, paramsT, offs, ids, state, masks, 0, scratch);
}

/** Forward and full BPTT (src/model/cells/gru.ts gruSequenceLossAndGrad): see run. */
export function gruLossAndGrad(
  L: i32, H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, scratch: usize,
): f64 {
  return run(L, H, K, T, params, paramsT, offs, ids, state, masks, grad, scratch);
}
