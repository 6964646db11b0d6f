// The stacked LSTM's forward pass and BPTT for one stream, bit for bit src/model/cells/lstm.ts.
//
// The reference runs t outer, layers inner; here each layer runs over all T steps before the next
// one starts, which computes every number from the same inputs in the same order (layer l at t
// needs only layer l-1 at t and layer l at t-1) and lets the products that do not wait on the
// recursion (W_ih x, V ys, V^T dy, W_ih^T dgi) go two steps per pass. Weight gradients are added
// after BPTT, each entry term by term from t = T-1 down to 0, as the reference adds them.
// SIMD: lanes run across independent outputs (gate rows, units, steps' entries), never a sum.

import { F64, at, ld, matvec, sigmoid2, splat, st, tanh2 } from './primitives';
import { BHH, BIH, WHH, WIH, inputBackward, inputGates, layerGradients, layerTensor, outputBackward, outputForward, tensor } from './stacked';

const G = 4; // gate rows i, f, g, o

/**
 * Float64 entries of one stream's scratch, in this order:
 * hs, cs (L, T+1, H) | acts (L, T, G·H), i f g o, overwritten by dL/dpre in BPTT | tcs, ys (L, T, H) |
 * ps (T, K) | gi (T, G·H) | gh (G·H) | dUp (T, H) | dhNext, dcNext (H)
 */
function scratchEntries(L: i32, H: i32, K: i32, T: i32): i32 {
  return 2 * L * (T + 1) * H + L * T * G * H + 2 * L * T * H + T * K + T * G * H + G * H + T * H + 2 * H;
}

export function lstmScratchBytes(L: i32, H: i32, K: i32, T: i32): i32 {
  return scratchEntries(L, H, K, T) * F64;
}

/**
 * One step of one layer, all H units: gates from gi + gh (G·H each), the cell and its output.
 *   i, f, o = σ(gi + gh), g = tanh(gi + gh), c = f ⊙ cPrev + i ⊙ g, h = o ⊙ tanh(c), y = h ⊙ mask
 */
function cellForward(H: i32, gi: usize, gh: usize, cPrev: usize, acts: usize, c: usize, tc: usize, h: usize, y: usize, mask: usize): void {
  const gBytes = <usize>H << 3;
  for (let i = 0; i < H; i += 2) {
    const two = i + 2 <= H;
    const o0 = <usize>i << 3;
    const a = gi + o0;
    const b = gh + o0;
    const ig = sigmoid2(f64x2.add(ld(a, two), ld(b, two)));
    const f = sigmoid2(f64x2.add(ld(a + gBytes, two), ld(b + gBytes, two)));
    const g = tanh2(f64x2.add(ld(a + 2 * gBytes, two), ld(b + 2 * gBytes, two)));
    const o = sigmoid2(f64x2.add(ld(a + 3 * gBytes, two), ld(b + 3 * gBytes, two)));
    const act = acts + o0;
    st(act, ig, two);
    st(act + gBytes, f, two);
    st(act + 2 * gBytes, g, two);
    st(act + 3 * gBytes, o, two);
    const cNew = f64x2.add(f64x2.mul(f, ld(cPrev + o0, two)), f64x2.mul(ig, g));
    const t = tanh2(cNew);
    const hNew = f64x2.mul(o, t);
    st(c + o0, cNew, two);
    st(tc + o0, t, two);
    st(h + o0, hNew, two);
    st(y + o0, mask ? f64x2.mul(hNew, ld(mask + o0, two)) : hNew, two);
  }
}

/**
 * Backward of cellForward; acts (G·H) is overwritten by dL/dpre, dhNext and dcNext (H) carry
 * dL/dh and dL/dc back to step t-1 (dcNext is overwritten here, dhNext by the caller).
 *   dh = dUp ⊙ mask + dhNext;  dc = dh ⊙ o ⊙ (1 - tanh(c)^2) + dcNext
 *   dpre = [dc g i(1-i), dc cPrev f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)];  dcNext = dc ⊙ f
 */
function cellBackward(H: i32, dUp: usize, mask: usize, dhNext: usize, dcNext: usize, acts: usize, tc: usize, cPrev: usize): void {
  const gBytes = <usize>H << 3;
  const one = splat(1);
  for (let i = 0; i < H; i += 2) {
    const two = i + 2 <= H;
    const o0 = <usize>i << 3;
    const act = acts + o0;
    const ig = ld(act, two);
    const f = ld(act + gBytes, two);
    const gg = ld(act + 2 * gBytes, two);
    const o = ld(act + 3 * gBytes, two);
    const t = ld(tc + o0, two);
    const up = ld(dUp + o0, two);
    const dh = f64x2.add(mask ? f64x2.mul(up, ld(mask + o0, two)) : up, ld(dhNext + o0, two));
    const dc = f64x2.add(f64x2.mul(f64x2.mul(dh, o), f64x2.sub(one, f64x2.mul(t, t))), ld(dcNext + o0, two));
    st(act, f64x2.mul(f64x2.mul(dc, gg), f64x2.mul(ig, f64x2.sub(one, ig))), two);
    st(act + gBytes, f64x2.mul(f64x2.mul(dc, ld(cPrev + o0, two)), f64x2.mul(f, f64x2.sub(one, f))), two);
    st(act + 2 * gBytes, f64x2.mul(f64x2.mul(dc, ig), f64x2.sub(one, f64x2.mul(gg, gg))), two);
    st(act + 3 * gBytes, f64x2.mul(f64x2.mul(dh, t), f64x2.mul(o, f64x2.sub(one, o))), two);
    st(dcNext + o0, f64x2.mul(dc, f), two);
  }
}

/**
 * Forward (and with grad != 0, BPTT) over the T predictions ids[t] -> ids[t+1]: returns the
 * summed loss. ids (T+1) int32; state (2, L, H) = (h, c) is read and overwritten with the final
 * state; masks (L, T, H), or 0 for no dropout; grad (the layout's size) is ADDED to. params and
 * paramsT (stackedTranspose) with the offset table offs; scratch of lstmScratchBytes.
 */
function run(
  L: i32, H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, scratch: usize,
): f64 {
  const GH = G * H;
  const rows = (T + 1) * H; // one layer's block of hs or cs
  const hs = scratch;
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
  const hBytes = <usize>H << 3;

  for (let l = 0; l < L; l++) {
    memory.copy(at(hs, l * rows), at(state, l * H), hBytes);
    memory.copy(at(cs, l * rows), at(state, (L + l) * H), hBytes);
    const In = l == 0 ? K : H;
    // gi_t = W_ih x_t + b_ih for every t; x is the one-hot symbol, or the layer below's ys
    inputGates(GH, In, T, layerTensor(paramsT, offs, l, WIH), layerTensor(params, offs, l, BIH), l == 0 ? ids : 0, l == 0 ? 0 : at(ys, (l - 1) * T * H), gi);
    const WhhT = layerTensor(paramsT, offs, l, WHH);
    const bhh = layerTensor(params, offs, l, BHH);
    for (let t = 0; t < T; t++) {
      const hPrev = at(hs, l * rows + t * H);
      const row = (l * T + t) * H; // rows of tcs, ys and masks
      matvec(gh, bhh, WhhT, GH, hPrev, GH, H); // gh = W_hh h_prev + b_hh
      cellForward(H, at(gi, t * GH), gh, at(cs, l * rows + t * H), at(acts, row * G),
        at(cs, l * rows + (t + 1) * H), at(tcs, row), at(hPrev, H), at(ys, row), masks ? at(masks, row) : 0);
    }
    memory.copy(at(state, l * H), at(hs, l * rows + T * H), hBytes);
    memory.copy(at(state, (L + l) * H), at(cs, l * rows + T * H), hBytes);
  }
  const top = at(ys, (L - 1) * T * H);
  const loss = outputForward(H, K, T, tensor(paramsT, offs, 4 * L), tensor(params, offs, 4 * L + 1), top, ps, ids);
  if (!grad) return loss;

  outputBackward(H, K, T, tensor(params, offs, 4 * L), tensor(grad, offs, 4 * L), tensor(grad, offs, 4 * L + 1), top, ps, ids, dUp);
  for (let l = L - 1; l >= 0; l--) {
    const Whh = layerTensor(params, offs, l, WHH);
    memory.fill(dhNext, 0, hBytes);
    memory.fill(dcNext, 0, hBytes);
    for (let t = T - 1; t >= 0; t--) {
      const row = (l * T + t) * H;
      const dpre = at(acts, row * G);
      cellBackward(H, at(dUp, t * H), masks ? at(masks, row) : 0, dhNext, dcNext, dpre, at(tcs, row), at(cs, l * rows + t * H));
      if (t > 0) matvec(dhNext, 0, Whh, H, dpre, H, GH); // dhNext = W_hh^T dpre (dropped at t = 0)
    }
    const dpres = at(acts, l * T * GH); // (T, G·H), dgi = dgh
    if (l > 0) inputBackward(GH, H, T, layerTensor(params, offs, l, WIH), dpres, dUp);
    layerGradients(GH, H, l == 0 ? K : H, T, grad, offs, l, dpres, dpres, at(hs, l * rows), l == 0 ? 0 : at(ys, (l - 1) * T * H), l == 0 ? ids : 0);
  }
  return loss;
}

/** Forward only: the summed loss of the T predictions; state (2, L, H) carried as in lstmLossAndGrad. */
export function lstmLoss(
  L: i32, H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, state: usize, masks: usize, scratch: usize,
): f64 {
  return run(L, H, K, T, params, paramsT, offs, ids, state, masks, 0, scratch);
}

/** Forward and full BPTT (src/model/cells/lstm.ts lstmSequenceLossAndGrad): see run. */
export function lstmLossAndGrad(
  L: i32, H: i32, K: i32, T: i32, params: usize, paramsT: usize, offs: usize,
  ids: usize, state: usize, masks: usize, grad: usize, scratch: usize,
): f64 {
  return run(L, H, K, T, params, paramsT, offs, ids, state, masks, grad, scratch);
}
